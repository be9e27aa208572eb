// Telemetry as an agent module: reads the sensors on a timer, runs the adaptive-scale controller
// against the pipeline's measured FPS and the hottest zone, adds the `telemetry` section to MQTT
// `stats` and serves the same numbers as Prometheus text on GET /metrics.

import type { AgentModule, AgentServices } from './agent.js';
import { sendText, type HttpServer } from './http/server.js';
import { checkTelemetryConfig } from '../telemetry/config-schema.js';
import { readDeviceInfo, type DeviceInfo } from '../telemetry/device-info.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../telemetry/prometheus.js';
import { TelemetrySampler } from '../telemetry/sampler.js';
import { resolveLadder, ScaleController, scaleOptionsFromConfig } from '../telemetry/scale-controller.js';
import { ScaleLoop } from '../telemetry/scale-loop.js';
import { buildTelemetrySection } from '../telemetry/stats.js';
import { ladderSizes } from '../runtime/engines/ladder.js';

export class TelemetryModule implements AgentModule {
  readonly name = 'telemetry';
  /** The scale loop drives the pipeline's height: rebuild it when the pipeline restarts. */
  readonly followsPipeline = true;
  private sampler: TelemetrySampler | undefined;
  private loop: ScaleLoop | undefined;
  private timer: NodeJS.Timeout | undefined;
  private device: DeviceInfo | null = null;

  constructor(
    private readonly s: AgentServices,
    /** Where /metrics is served; absent when the HTTP server is off. */
    private readonly http?: HttpServer,
  ) {}

  /** The controller's loop, when the scale is adaptive (tests and the bench read its decisions). */
  get scaleLoop(): ScaleLoop | undefined {
    return this.loop;
  }

  async start(): Promise<void> {
    const { config, log, stats } = this.s;
    const cfg = config.telemetry;
    const problems = checkTelemetryConfig(cfg);
    if (problems.length) throw new Error(`telemetry config: ${problems.join('; ')}`);
    const tlog = log.child({ module: 'telemetry' });
    const sampler = new TelemetrySampler({ config: cfg, onWarning: (msg) => tlog.warn(msg) });
    await sampler.start();
    this.sampler = sampler;
    this.device = await readDeviceInfo(cfg.root).catch(() => null);
    this.startScale(tlog);

    stats.addSection('telemetry', () =>
      buildTelemetrySection({ meters: stats.meters.snapshot(), sensors: sampler.latest(), lastScale: this.loop?.lastDecision ?? null, device: this.device }),
    );
    this.http?.route('GET', '/metrics', (_req, res) => {
      const body = renderPrometheus({ meters: stats.meters.snapshot(), sensors: sampler.latest(), device: this.device });
      sendText(res, 200, body, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
    });
  }

  /** Adaptive net height: the controller decides, the pipeline switches before its next frame. */
  private startScale(tlog: AgentServices['log']): void {
    const { config, runtime, pipeline, stats } = this.s;
    const scale = config.telemetry.scale;
    if (!scale.enabled || !runtime || !pipeline) return;
    const manifest = runtime.manifest;
    const heights = resolveLadder(scale, manifest);
    // Sizes only translate heights for the meters here; widths follow each frame's own aspect.
    const sizes = ladderSizes(heights, 16 / 9, manifest.stride);
    const controller = new ScaleController(scaleOptionsFromConfig(config.telemetry, heights, pipeline.height));
    const sampler = this.sampler!;
    const loop = new ScaleLoop({
      controller,
      meters: stats.meters,
      sizes,
      hottestC: () => sampler.latest()?.hottest?.tempC ?? null,
      onChange: (size, decision) => {
        pipeline.setHeight(size.height);
        stats.meters.setNetSize(size, decision.reason);
        tlog.info({ from: decision.from, to: decision.height, reason: decision.reason }, 'net height changed');
        // Publish the change (and its reason) now rather than at the next stats tick.
        stats.publishNow();
      },
    });
    pipeline.setHeight(loop.size.height);
    stats.meters.setNetSize(loop.size, 'start');
    this.loop = loop;
    this.timer = setInterval(() => loop.tick(), config.telemetry.interval_ms);
    this.timer.unref();
    tlog.info({ ladder: heights, target_fps: scale.target_fps, start: loop.size.height }, 'adaptive scale running');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sampler?.stop();
  }
}
