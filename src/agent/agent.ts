// The agent core: builds the shared services (config, logger, the MQTT client, stats), then
// starts one module per concern. A module that fails to start is logged and left out; the others
// carry on, so a missing model still leaves the device reporting `online` and its stats.

import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker.js';
import { applyScopeOf, sectionModuleOf } from './config/apply-scope.js';
import { changedPaths, redactConfig, type AgentConfig } from './config/schema.js';
import { CaptureSource } from './capture/capture-source.js';
import { AgentMqtt } from './mqtt/client.js';
import { StatsPublisher } from './mqtt/stats-publisher.js';
import { StageMeters } from '../telemetry/meters.js';
import { PosePipeline, type PipelineEnd } from './pipeline.js';
import { loadManifest } from '../runtime/manifest.js';
import { PoseRuntime } from '../runtime/pose-runtime.js';
import { resolveLadder } from '../telemetry/scale-controller.js';
import { PoseTracker } from '../runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../runtime/tracking/sigmas.js';

export interface AgentModule {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Restart this module whenever the pipeline restarts (it holds on to the pipeline or runtime). */
  readonly followsPipeline?: boolean;
}

/** What every module may use. Fields set by a module (runtime, capture, pipeline) exist once it started. */
export interface AgentServices {
  /** The config in effect; replaced by Agent.applyLive. */
  config: AgentConfig;
  readonly log: Logger;
  readonly mqtt: AgentMqtt;
  readonly stats: StatsPublisher;
  runtime?: PoseRuntime;
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
  /** Modules restarted to apply them. */
  restarted: string[];
  /**
   * Keys not in effect: they need the whole agent restarted (broker connection, HTTP listener), or the
   * module restarted for them failed to start again (its error is logged).
   */
  restart: Array<{ path: string; scope: string }>;
}

/** Starts the embedded broker; only created when mqtt.url is empty. */
class BrokerModule implements AgentModule {
  readonly name = 'broker';
  constructor(private readonly broker: EmbeddedBroker) {}
  start = () => this.broker.start();
  stop = () => this.broker.stop();
}

/** Publishes the effective config (retained, secrets redacted) so a fleet can see what each device runs. */
class ConfigPublisherModule implements AgentModule {
  readonly name = 'config';
  constructor(private readonly s: AgentServices) {}
  async start(): Promise<void> {
    this.s.mqtt.publish('config', redactConfig(this.s.config) as unknown as Record<string, unknown>);
  }
  async stop(): Promise<void> {}
}

/** Capture, model, tracker and the frame loop: the part that turns pixels into `poses`. */
class PipelineModule implements AgentModule {
  readonly name = 'pipeline';
  private resolveEnd!: (end: AgentEnd) => void;
  /** Settles when the source ends for good (a file without loop). */
  readonly ended = new Promise<AgentEnd>((r) => (this.resolveEnd = r));

  constructor(private readonly s: AgentServices) {}

  async start(): Promise<void> {
    const { config, log } = this.s;
    const runtimeLog = log.child({ module: 'runtime' });
    const runtime = await PoseRuntime.create({
      model: config.inference.model,
      heights: preparedHeights(config),
      inference: config.inference,
      log: (level, msg) => runtimeLog[level](msg),
    });
    this.s.runtime = runtime;
    const manifest = runtime.manifest;
    log.info({ model: manifest.name, backend: runtime.backend.info, reason: runtime.backendReason }, 'pose runtime ready');
    const info = runtime.backend.info;
    this.s.stats.meters.setBackend({ backend: info.name, provider: info.device, precision: info.precision });
    const tracker = new PoseTracker(config.tracking, manifest.keypoints.length, sigmasFor(manifest));
    const capture = new CaptureSource(config.source, log.child({ module: 'capture' }));
    this.s.capture = capture;
    const pipeline = new PosePipeline(
      capture,
      runtime,
      tracker,
      this.s.mqtt,
      { height: config.inference.height, skipEmptyFrames: config.mqtt.skip_empty_frames, decimals: config.mqtt.decimals, model: manifest.name },
      log.child({ module: 'pipeline' }),
    );
    this.s.pipeline = pipeline;
    pipeline.on(this.s.stats.events);
    capture.start();
    void pipeline.start().then((end) => {
      // 'stopped' comes from stop() (shutdown or a restart for a config change): not an end of the source.
      if (end !== 'ended') return;
      log.info('source ended; stopping');
      this.resolveEnd(end);
    });
  }

  async stop(): Promise<void> {
    const { capture, pipeline, runtime } = this.s;
    // Mark the loop as stopping, then stop the source so that a pending next() returns null.
    const loopDone = pipeline?.stop();
    await capture?.stop();
    await loopDone;
    await runtime?.dispose();
  }
}

/** The periodic `stats` message. */
class StatsModule implements AgentModule {
  readonly name = 'stats';
  constructor(private readonly s: AgentServices) {}
  async start(): Promise<void> {
    this.s.stats.start();
  }
  async stop(): Promise<void> {
    this.s.stats.stop();
  }
}

export class Agent {
  readonly services: AgentServices;
  private readonly modules: AgentModule[] = [];
  private readonly started: AgentModule[] = [];
  private readonly pipelineModule: PipelineModule;
  private readonly broker: EmbeddedBroker | undefined;

  constructor(config: AgentConfig, log: Logger, opts: AgentOptions = {}) {
    this.broker = config.mqtt.url ? undefined : new EmbeddedBroker(config.broker, log.child({ module: 'broker' }));
    const url = config.mqtt.url || this.broker!.url;
    const mqtt = new AgentMqtt(url, config.mqtt, config.mqtt.device_id, log.child({ module: 'mqtt' }));
    const services: AgentServices = {
      config,
      log,
      mqtt,
      stats: new StatsPublisher(
        mqtt,
        {
          mqtt: () => mqtt.counters(),
          captureDropped: () => captureDropped(services.capture),
          net: () => services.pipeline?.stats().net ?? null,
        },
        config.mqtt.stats_interval_s,
        new StageMeters({ fpsWindowMs: 5_000 }),
      ),
    };
    this.services = services;
    this.pipelineModule = new PipelineModule(services);
    this.modules.push(new ConfigPublisherModule(services), this.pipelineModule, new StatsModule(services));
    this.modules.push(...(opts.extraModules?.(services) ?? []));
  }

  /** Settles when the source ends by itself (a file without loop); never for cameras and looping files. */
  get ended(): Promise<AgentEnd> {
    return this.pipelineModule.ended;
  }

  /** Starts everything; only problems that leave nothing to run (none so far) reject. */
  async start(): Promise<void> {
    const log = this.services.log;
    // The broker has to listen before the client's first attempt; if it cannot (port taken),
    // the client still tries the same address, where another broker may well be listening.
    if (this.broker) await this.startModule(new BrokerModule(this.broker));
    this.services.mqtt.start();
    for (const m of this.modules) await this.startModule(m);
    log.info({ modules: this.started.map((m) => m.name), base: this.services.mqtt.base }, 'agent running');
  }

  private async startModule(m: AgentModule): Promise<boolean> {
    try {
      await m.start();
      this.started.push(m);
      return true;
    } catch (e) {
      this.services.log.error({ module: m.name, err: (e as Error).message }, `module ${m.name} failed to start; the agent carries on without it`);
      return false;
    }
  }

  /**
   * Applies a new, validated config to the running agent: live where a key allows it (net height,
   * parser thresholds, QoS, rates, log level), else by restarting only the module the key belongs to
   * (a pipeline restart takes the modules that follow it along). Keys of the broker connection and the
   * HTTP listener need a process restart and are reported, not applied. Republishes `config`.
   */
  async applyLive(next: AgentConfig): Promise<LiveChangeResult> {
    const s = this.services;
    const result: LiveChangeResult = { applied: [], restarted: [], restart: [] };
    const toRestart = new Map<string, string[]>();
    for (const path of changedPaths(s.config, next)) {
      let scope = applyScopeOf(path);
      if (scope === 'live') {
        if (this.applyOne(path, next)) {
          result.applied.push(path);
          continue;
        }
        // A live key the running agent cannot take now (its module is not running): start that module anew.
        scope = sectionModuleOf(path);
      }
      if (scope === 'agent') result.restart.push({ path, scope: 'agent' });
      else toRestart.set(scope, [...(toRestart.get(scope) ?? []), path]);
    }
    s.config = next;
    for (const [name, paths] of toRestart) {
      if (await this.restartModule(name)) {
        result.restarted.push(name);
        result.applied.push(...paths);
      } else result.restart.push(...paths.map((path) => ({ path, scope: name })));
    }
    s.mqtt.publish('config', redactConfig(next) as unknown as Record<string, unknown>);
    return result;
  }

  private applyOne(path: string, next: AgentConfig): boolean {
    const s = this.services;
    if (path === 'inference.height' && s.pipeline) {
      // With the adaptive scale running this is where the controller continues from.
      s.pipeline.setHeight(next.inference.height);
      return true;
    }
    if (path.startsWith('inference.parser.') && s.pipeline) {
      s.pipeline.setParserParams(next.inference.parser);
      return true;
    }
    if (path.startsWith('mqtt.qos.') || path === 'mqtt.queue_max') {
      s.mqtt.updateConfig(next.mqtt);
      return true;
    }
    if ((path === 'mqtt.skip_empty_frames' || path === 'mqtt.decimals') && s.pipeline) {
      s.pipeline.setOptions({ skipEmptyFrames: next.mqtt.skip_empty_frames, decimals: next.mqtt.decimals });
      return true;
    }
    if (path === 'mqtt.stats_interval_s') {
      s.stats.setInterval(next.mqtt.stats_interval_s);
      return true;
    }
    if (path === 'log.level') {
      s.log.level = next.log.level;
      return true;
    }
    return false;
  }

  /** Stops and starts one module with the current config; restarting the pipeline also restarts its followers. */
  private async restartModule(name: string): Promise<boolean> {
    const all = this.modules;
    const target = all.find((m) => m.name === name);
    if (!target) return false;
    const group = name === 'pipeline' ? [target, ...all.filter((m) => m.followsPipeline)] : [target];
    const log = this.services.log;
    log.info({ modules: group.map((m) => m.name) }, 'restarting to apply a config change');
    for (const m of group.slice().reverse()) {
      const i = this.started.indexOf(m);
      if (i < 0) continue;
      this.started.splice(i, 1);
      await m.stop().catch((e: Error) => log.error({ module: m.name, err: e.message }, `module ${m.name} failed to stop cleanly`));
    }
    let ok = true;
    for (const m of group) ok = (await this.startModule(m)) && ok;
    return ok;
  }

  /** Stops modules in reverse order, then says `stopped` on MQTT and disconnects. */
  async stop(): Promise<void> {
    const log = this.services.log;
    for (const m of this.started.slice().reverse()) {
      if (m.name === 'broker') continue;
      try {
        await m.stop();
      } catch (e) {
        log.error({ module: m.name, err: (e as Error).message }, `module ${m.name} failed to stop cleanly`);
      }
    }
    await this.services.mqtt.stop();
    // The embedded broker goes last so that `stopped` reaches subscribers through it.
    if (this.broker) await this.broker.stop().catch(() => undefined);
    this.started.length = 0;
    log.info('agent stopped');
  }
}

/**
 * Net heights to prepare at start: the whole scale ladder when the scale adapts (so TensorRT builds
 * one profile and onnxruntime allocates once), else the one configured height.
 */
function preparedHeights(config: AgentConfig): number[] {
  const manifest = loadManifest(config.inference.model);
  const fixed = config.inference.height || manifest.input_size.default_height;
  if (!config.telemetry.scale.enabled) return [fixed];
  return [...new Set([fixed, ...resolveLadder(config.telemetry.scale, manifest)])];
}

function captureDropped(capture: CaptureSource | undefined): number {
  return capture?.stats().dropped ?? 0;
}
