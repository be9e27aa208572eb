// The agent core: builds the shared services (config, logger, the MQTT client, stats), then
// starts one module per concern. A module that fails to start is logged and left out; the others
// carry on, so a missing model still leaves the device reporting `online` and its stats.

import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker.js';
import { redactConfig, type AgentConfig } from './config/schema.js';
import { CaptureSource } from './capture/capture-source.js';
import { AgentMqtt } from './mqtt/client.js';
import { StatsPublisher } from './mqtt/stats-publisher.js';
import { PosePipeline, type PipelineEnd } from './pipeline.js';
import { PoseRuntime } from '../runtime/pose-runtime.js';
import { PoseTracker } from '../runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../runtime/tracking/sigmas.js';

export interface AgentModule {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What every module may use. Fields set by a module (runtime, capture, pipeline) exist once it started. */
export interface AgentServices {
  readonly config: AgentConfig;
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
      inference: config.inference,
      log: (level, msg) => runtimeLog[level](msg),
    });
    this.s.runtime = runtime;
    const manifest = runtime.manifest;
    log.info({ model: manifest.name, backend: runtime.backend.info, reason: runtime.backendReason }, 'pose runtime ready');
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
      if (end === 'ended') log.info('source ended; stopping');
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

  private async startModule(m: AgentModule): Promise<void> {
    try {
      await m.start();
      this.started.push(m);
    } catch (e) {
      this.services.log.error({ module: m.name, err: (e as Error).message }, `module ${m.name} failed to start; the agent carries on without it`);
    }
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

function captureDropped(capture: CaptureSource | undefined): number {
  return capture?.stats().dropped ?? 0;
}
