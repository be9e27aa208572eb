// The agent core: builds the shared services (config, logger, the MQTT client, stats, health), then
// starts one module per concern. A module that fails to start is logged and left out; the others
// carry on, so a missing model still leaves the device reporting `online` and its stats.
// Every module registers what it adds to the shared services through its ModuleScope, which the
// core disposes when the module stops (or fails to start), so a restart never leaves a stale route,
// stats section or listener behind.

import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker/index.js';
import { changedPaths, keyPolicy, redactConfig, type AgentConfig } from './config/schema.js';
import type { ApplyScope } from './config/policy.js';
import { CaptureSource } from './capture/capture-source.js';
import { HealthChecks } from './health.js';
import { ModuleScope } from './lifecycle.js';
import { AgentMqtt } from './mqtt/client.js';
import type { MqttConfig } from './mqtt/config-schema.js';
import { StatsPublisher } from './mqtt/stats-publisher.js';
import { StageMeters } from '../telemetry/meters.js';
import { PosePipeline, type PipelineEnd } from './pipeline.js';
import type { SessionOpener } from './session.js';
import { layoutOf, loadManifest, type ModelLayout, type ModelManifest } from '../runtime/manifest.js';
import { locateModel } from '../runtime/model-locator.js';
import { PoseRuntime, type PoseRuntimeOptions } from '../runtime/pose-runtime.js';
import { resolveLadder } from '../telemetry/scale-controller.js';
import { PoseTracker } from '../runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../runtime/tracking/sigmas.js';

export interface AgentModule {
  readonly name: string;
  /** Starts the module; everything it registers on shared services goes through `scope`. */
  start(scope: ModuleScope): Promise<void>;
  /** Stops what the module runs itself; the core then disposes its scope. */
  stop?(): Promise<void>;
  /** Restart this module whenever the pipeline restarts (it holds on to the pipeline). */
  readonly followsPipeline?: boolean;
}

/** What every module may use. Fields set by the pipeline module exist while it runs. */
export interface AgentServices {
  /** The config in effect; replaced by Agent.applyLive. */
  config: AgentConfig;
  readonly log: Logger;
  readonly mqtt: AgentMqtt;
  readonly stats: StatsPublisher;
  readonly health: HealthChecks;
  /** The embedded broker, when the agent runs one (no mqtt.url). */
  readonly broker?: EmbeddedBroker;
  /** The model's layout (keypoints, limbs), for drawing. */
  layout?: ModelLayout;
  capture?: CaptureSource;
  pipeline?: PosePipeline;
}

export interface AgentOptions {
  /** Modules started after the built-in ones (HTTP, preview, telemetry, remote config, sd_notify...). */
  extraModules?: (services: AgentServices) => AgentModule[];
}

export type AgentEnd = PipelineEnd;

export interface LiveChangeResult {
  /** Keys now in effect: applied live, or by restarting only the module they belong to. */
  applied: string[];
  /** Modules restarted to apply them (or, for deferred ones, about to be). */
  restarted: string[];
  /**
   * Keys not in effect: they need the whole agent restarted (broker connection, HTTP listener), or the
   * module restarted for them failed to start again (its error is logged).
   */
  restart: Array<{ path: string; scope: string }>;
  /** Restarts deferred by the caller (see applyLive's `defer`); run them once the change has been answered. */
  afterAnswer?: () => Promise<void>;
}

interface Running {
  module: AgentModule;
  scope: ModuleScope;
}

/** Starts the embedded broker; only created when mqtt.url is empty. */
class BrokerModule implements AgentModule {
  readonly name = 'broker';
  constructor(
    private readonly broker: EmbeddedBroker,
    private readonly stats: StatsPublisher,
  ) {}
  async start(scope: ModuleScope): Promise<void> {
    await this.broker.start();
    // Which engine serves the device (MQTT 5 or not, restarts, refusals): in `stats` and /metrics.
    scope.own(this.stats.addSection('broker', () => this.broker.statsSection()));
    scope.own(this.stats.addMetrics('broker', () => this.broker.metricFamilies()));
  }
  stop = () => this.broker.stop();
}

/** Publishes the effective config (retained, secrets redacted) so a fleet can see what each device runs. */
class ConfigPublisherModule implements AgentModule {
  readonly name = 'config';
  constructor(private readonly s: AgentServices) {}
  async start(): Promise<void> {
    this.s.mqtt.publish('config', redactConfig(this.s.config) as unknown as Record<string, unknown>);
  }
}

/** Capture, model, tracker and the frame loop: the part that turns pixels into `poses`. */
class PipelineModule implements AgentModule {
  readonly name = 'pipeline';
  private resolveEnd!: (end: AgentEnd) => void;
  /** Settles when the source ends for good (a file without loop). */
  readonly ended = new Promise<AgentEnd>((r) => (this.resolveEnd = r));
  private capture: CaptureSource | undefined;
  private pipeline: PosePipeline | undefined;

  constructor(private readonly s: AgentServices) {}

  async start(scope: ModuleScope): Promise<void> {
    const { config, log, stats } = this.s;
    // Fail now, with the reason, for what cannot get better by waiting: an unknown model or a missing file.
    const manifest = loadManifest(config.inference.model);
    await locateModel(manifest, config.inference.model_path);
    this.s.layout = layoutOf(manifest);
    const tracker = new PoseTracker(config.tracking, manifest.keypoints.length, sigmasFor(manifest));
    const capture = new CaptureSource(config.source, log.child({ module: 'capture' }));
    const pipeline = new PosePipeline({
      source: capture,
      openSession: sessionOpener(config, manifest, { log, meters: stats.meters }),
      tracker,
      publisher: this.s.mqtt,
      options: { height: config.inference.height, skipEmptyFrames: config.mqtt.skip_empty_frames, decimals: config.mqtt.decimals, model: manifest.name },
      log: log.child({ module: 'pipeline' }),
    });
    this.capture = capture;
    this.pipeline = pipeline;
    this.s.capture = capture;
    this.s.pipeline = pipeline;
    scope.own(() => {
      if (this.s.pipeline === pipeline) this.s.pipeline = undefined;
      if (this.s.capture === capture) this.s.capture = undefined;
    });
    scope.own(pipeline.on(stats.events));
    // The session is the one owner of the net size; the meters (and so stats and /metrics) mirror it.
    scope.own(pipeline.on({ onNetSize: (net, reason) => stats.meters.setNetSize(net, reason) }));
    // The runtime is prepared for the probed frame size before capture starts its process.
    capture.beforeLaunch = (format) => pipeline.prepare(format);
    capture.start();
    void pipeline.start().then((end) => {
      // 'stopped' comes from stop() (shutdown or a restart for a config change): not an end of the source.
      if (end !== 'ended') return;
      log.info('source ended; stopping');
      this.resolveEnd(end);
    });
  }

  async stop(): Promise<void> {
    const { capture, pipeline } = this;
    this.capture = this.pipeline = undefined;
    // Mark the loop as stopping, then stop the source so that a pending next() returns null.
    const loopDone = pipeline?.stop();
    await capture?.stop();
    await loopDone;
  }
}

/**
 * Opens the pose runtime for the frame format capture delivers: the backend (and its TensorRT engine)
 * is chosen and its buffers prepared for exactly these frames, at every height the run may use.
 */
export function sessionOpener(
  config: AgentConfig,
  manifest: ModelManifest,
  deps: { log: Logger; meters: StageMeters },
  selection?: PoseRuntimeOptions['selection'],
): SessionOpener {
  const runtimeLog = deps.log.child({ module: 'runtime' });
  return async (format) => {
    const heights = preparedHeights(config, manifest);
    const runtime = await PoseRuntime.create({
      model: config.inference.model,
      heights,
      sourceSize: { width: format.width, height: format.height },
      inference: config.inference,
      strictSizes: true,
      selection,
      log: (level, msg) => runtimeLog[level](msg),
    });
    const info = runtime.backend.info;
    runtimeLog.info({ model: manifest.name, backend: info, reason: runtime.backendReason, frame: `${format.width}x${format.height}`, heights }, 'pose runtime ready');
    deps.meters.setBackend({ backend: info.name, provider: info.device, precision: info.precision });
    return { estimator: runtime, heights };
  };
}

/** The periodic `stats` message. */
class StatsModule implements AgentModule {
  readonly name = 'stats';
  constructor(private readonly s: AgentServices) {}
  async start(scope: ModuleScope): Promise<void> {
    const stats = this.s.stats;
    stats.start(this.s.config.mqtt.stats_interval_s);
    scope.own(() => stats.stop());
  }
}

/** Which section's module applies a `live` key that the running agent could not take live. */
function fallbackScope(path: string): ApplyScope {
  return path.startsWith('inference.') ? 'pipeline' : 'agent';
}

export class Agent {
  readonly services: AgentServices;
  private readonly modules: AgentModule[] = [];
  private readonly running: Running[] = [];
  private readonly pipelineModule: PipelineModule;
  private readonly broker: EmbeddedBroker | undefined;
  /** One config change at a time (remote config, SIGHUP reloads): each sees what the previous one left. */
  private changes: Promise<unknown> = Promise.resolve();

  constructor(config: AgentConfig, log: Logger, opts: AgentOptions = {}) {
    this.broker = config.mqtt.url
      ? undefined
      : new EmbeddedBroker(config.broker, {
          prefix: config.mqtt.prefix,
          deviceId: config.mqtt.device_id,
          discoveryPrefix: config.homeassistant.prefix,
          log: log.child({ module: 'broker' }),
        });
    const url = config.mqtt.url || this.broker!.url;
    const mqtt = new AgentMqtt(url, this.clientConfig(config.mqtt), config.mqtt.device_id, log.child({ module: 'mqtt' }));
    const services: AgentServices = {
      config,
      log,
      mqtt,
      health: new HealthChecks(),
      broker: this.broker,
      stats: new StatsPublisher(
        mqtt,
        {
          mqtt: () => mqtt.counters(),
          captureDropped: () => services.capture?.stats().dropped ?? 0,
        },
        new StageMeters({ fpsWindowMs: 5_000 }),
      ),
    };
    this.services = services;
    this.pipelineModule = new PipelineModule(services);
    this.modules.push(new ConfigPublisherModule(services), this.pipelineModule, new StatsModule(services));
    this.modules.push(...(opts.extraModules?.(services) ?? []));
  }

  /**
   * The MQTT client's settings: with the embedded broker, its per-start login for the agent (the only
   * one allowed to publish the device's topics there) and no newer protocol than its engine speaks.
   */
  private clientConfig(c: MqttConfig): MqttConfig {
    if (!this.broker) return c;
    const protocol_version = Math.min(c.protocol_version, this.broker.protocolVersion) as MqttConfig['protocol_version'];
    return { ...c, ...this.broker.clientCredentials, protocol_version };
  }

  /** Settles when the source ends by itself (a file without loop); never for cameras and looping files. */
  get ended(): Promise<AgentEnd> {
    return this.pipelineModule.ended;
  }

  /** Names of the modules running now, in start order. */
  get runningModules(): string[] {
    return this.running.map((r) => r.module.name);
  }

  /** Starts everything; only problems that leave nothing to run (none so far) reject. */
  async start(): Promise<void> {
    const log = this.services.log;
    // The broker has to listen before the client's first attempt; if it cannot (port taken),
    // the client still tries the same address, where another broker may well be listening.
    if (this.broker) await this.startModule(new BrokerModule(this.broker, this.services.stats));
    const mqtt = this.services.mqtt;
    mqtt.start();
    this.services.health.add('mqtt', () => mqtt.problem());
    this.services.stats.addMetrics('mqtt', () => mqtt.metricFamilies());
    for (const m of this.modules) await this.startModule(m);
    log.info({ modules: this.runningModules, base: mqtt.base }, 'agent running');
  }

  private async startModule(m: AgentModule): Promise<boolean> {
    const scope = new ModuleScope(m.name);
    try {
      await m.start(scope);
      this.running.push({ module: m, scope });
      return true;
    } catch (e) {
      this.services.log.error({ module: m.name, err: (e as Error).message }, `module ${m.name} failed to start; the agent carries on without it`);
      // What it registered before failing must not outlive it.
      await m.stop?.().catch(() => undefined);
      await scope.dispose(this.services.log);
      return false;
    }
  }

  private async stopModule(r: Running): Promise<void> {
    const log = this.services.log;
    try {
      await r.module.stop?.();
    } catch (e) {
      log.error({ module: r.module.name, err: (e as Error).message }, `module ${r.module.name} failed to stop cleanly`);
    }
    await r.scope.dispose(log);
  }

  /**
   * Applies a new, validated config to the running agent: live where a key allows it (net height,
   * parser thresholds, QoS, log level), else by restarting only the module the key belongs to (a
   * pipeline restart takes the modules that follow it along). Keys of the broker connection and the
   * HTTP listener need a process restart and are reported, not applied. Republishes `config`.
   * Modules named in `defer` are not restarted here: the result's afterAnswer() does it, so that the
   * module that asked (remote config, from inside its own request queue) can answer first.
   */
  applyLive(next: AgentConfig, opts: { defer?: string[] } = {}): Promise<LiveChangeResult> {
    const run = this.changes.then(() => this.applyNow(next, opts.defer ?? []));
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async applyNow(next: AgentConfig, defer: string[]): Promise<LiveChangeResult> {
    const s = this.services;
    const result: LiveChangeResult = { applied: [], restarted: [], restart: [] };
    const toRestart = new Map<string, string[]>();
    const before = s.config;
    s.config = next;
    for (const path of changedPaths(before, next)) {
      let scope: ApplyScope;
      try {
        scope = keyPolicy(path).apply;
      } catch {
        scope = 'agent';
      }
      if (scope === 'live') {
        if (this.applyOne(path, next)) {
          result.applied.push(path);
          continue;
        }
        // A live key the running agent cannot take now (its module is not running, or the height was not prepared).
        scope = fallbackScope(path);
      }
      if (scope === 'agent') result.restart.push({ path, scope: 'agent' });
      else toRestart.set(scope, [...(toRestart.get(scope) ?? []), path]);
    }
    const deferred: string[] = [];
    for (const [name, paths] of toRestart) {
      if (defer.includes(name)) {
        deferred.push(name);
        result.restarted.push(name);
        result.applied.push(...paths);
        continue;
      }
      const { ok, modules } = await this.restartModule(name);
      for (const m of modules) if (!result.restarted.includes(m)) result.restarted.push(m);
      if (ok) result.applied.push(...paths);
      else result.restart.push(...paths.map((path) => ({ path, scope: name })));
    }
    s.mqtt.publish('config', redactConfig(next) as unknown as Record<string, unknown>);
    if (deferred.length)
      result.afterAnswer = async () => {
        for (const name of deferred) await this.restartModule(name);
      };
    return result;
  }

  private applyOne(path: string, next: AgentConfig): boolean {
    const s = this.services;
    if (path === 'inference.height') return s.pipeline?.setHeight(next.inference.height) ?? false;
    if (path.startsWith('inference.parser.')) {
      if (!s.pipeline) return false;
      s.pipeline.setParserParams(next.inference.parser);
      return true;
    }
    if (path.startsWith('mqtt.')) {
      // QoS, queue size, expiry: read by the client at publish time.
      s.mqtt.updateConfig(this.clientConfig(next.mqtt));
      if ((path === 'mqtt.skip_empty_frames' || path === 'mqtt.decimals') && s.pipeline)
        s.pipeline.setOptions({ skipEmptyFrames: next.mqtt.skip_empty_frames, decimals: next.mqtt.decimals });
      return true;
    }
    if (path === 'log.level') {
      s.log.level = next.log.level;
      return true;
    }
    return false;
  }

  /**
   * Stops and starts one module with the current config; restarting the pipeline also restarts its
   * followers. Says whether all came back, and which modules were restarted.
   */
  private async restartModule(name: string): Promise<{ ok: boolean; modules: string[] }> {
    const target = this.modules.find((m) => m.name === name);
    if (!target) return { ok: false, modules: [] };
    const group = name === 'pipeline' ? [target, ...this.modules.filter((m) => m.followsPipeline)] : [target];
    const log = this.services.log;
    log.info({ modules: group.map((m) => m.name) }, 'restarting to apply a config change');
    for (const m of group.slice().reverse()) {
      const i = this.running.findIndex((r) => r.module === m);
      if (i < 0) continue;
      const [r] = this.running.splice(i, 1);
      await this.stopModule(r);
    }
    let ok = false;
    // Back in module order, so a restarted module sits where it started the first time.
    const restarted: string[] = [];
    for (const m of group) {
      const started = await this.startModule(m);
      // A follower that was not running before (it had failed) and still fails does not hold up the target.
      if (started) restarted.push(m.name);
      if (m === target) ok = started;
    }
    this.running.sort((a, b) => this.order(a.module) - this.order(b.module));
    return { ok, modules: restarted };
  }

  private order(m: AgentModule): number {
    const i = this.modules.indexOf(m);
    return i < 0 ? -1 : i;
  }

  /** Stops modules in reverse order, then says `stopped` on MQTT and disconnects. */
  async stop(): Promise<void> {
    const log = this.services.log;
    await this.changes;
    for (const r of this.running.slice().reverse()) {
      if (r.module.name === 'broker') continue;
      await this.stopModule(r);
    }
    await this.services.mqtt.stop();
    // The embedded broker goes last so that `stopped` reaches subscribers through it.
    const broker = this.running.find((r) => r.module.name === 'broker');
    if (broker) await this.stopModule(broker);
    else if (this.broker) await this.broker.stop().catch(() => undefined);
    this.running.length = 0;
    log.info('agent stopped');
  }
}

/**
 * Net heights to prepare: the whole scale ladder when the scale adapts (so TensorRT builds one
 * profile and buffers are allocated once), else the one configured height.
 */
export function preparedHeights(config: AgentConfig, manifest: ModelManifest): number[] {
  const fixed = config.inference.height || manifest.input_size.default_height;
  if (!config.telemetry.scale.enabled) return [fixed];
  return [...new Set([fixed, ...resolveLadder(config.telemetry.scale, manifest)])];
}
