// Telemetry as an agent module: reads the sensors on a timer, runs the adaptive-scale controller
// against the pipeline's measured FPS and the hottest zone, adds the `telemetry` section to MQTT
// `stats` and serves the same numbers as Prometheus text on GET /metrics.

import type { AgentModule, AgentServices } from './agent.js';
import { sendText, type HttpServer } from './http/server.js';
import type { ModuleScope } from './lifecycle.js';
import type { NetHeightControl } from './session.js';
import { checkTelemetryConfig } from '../telemetry/config-schema.js';
import { readDeviceInfo, type DeviceInfo } from '../telemetry/device-info.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../telemetry/prometheus.js';
import { TelemetrySampler } from '../telemetry/sampler.js';
import { resolveLadder, ScaleController, scaleOptionsFromConfig } from '../telemetry/scale-controller.js';
import { ScaleLoop } from '../telemetry/scale-loop.js';
import { buildTelemetrySection } from '../telemetry/stats.js';
import { loadManifest } from '../runtime/manifest.js';

export class TelemetryModule implements AgentModule {
  readonly name = 'telemetry';
  /** The scale loop drives the pipeline's height: rebuild it when the pipeline restarts. */
  readonly followsPipeline = true;
  private loop: ScaleLoop | undefined;
  private device: DeviceInfo | null = null;

  constructor(
    private readonly s: AgentServices,
    /** Where /metrics is served; absent when the HTTP server is off. */
    private readonly http?: HttpServer,
  ) {}

  /** The controller's loop, once a session runs with the scale adaptive (tests and the bench read its decisions). */
  get scaleLoop(): ScaleLoop | undefined {
    return this.loop;
  }

  async start(scope: ModuleScope): Promise<void> {
    const { config, log, stats } = this.s;
    const cfg = config.telemetry;
    const problems = checkTelemetryConfig(cfg);
    if (problems.length) throw new Error(`telemetry config: ${problems.join('; ')}`);
    const tlog = log.child({ module: 'telemetry' });
    const sampler = new TelemetrySampler({ config: cfg, onWarning: (msg) => tlog.warn(msg) });
    await sampler.start();
    scope.own(() => sampler.stop());
    scope.own(() => (this.loop = undefined));
    this.device = await readDeviceInfo(cfg.root).catch(() => null);
    this.startScale(scope, sampler, tlog);

    scope.own(
      stats.addSection('telemetry', () =>
        buildTelemetrySection({ meters: stats.meters.snapshot(), sensors: sampler.latest(), lastScale: this.loop?.lastDecision ?? null, device: this.device }),
      ),
    );
    if (this.http)
      scope.own(
        this.http.route('GET', '/metrics', (_req, res) => {
          const body = renderPrometheus({ meters: stats.meters.snapshot(), sensors: sampler.latest(), device: this.device, extra: stats.metricSamples() });
          sendText(res, 200, body, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
        }),
      );
  }

  /**
   * Adaptive net height: the controller commands the pipeline session, which owns the height. A new
   * session (first frame, or the source changed size) gets a controller over the heights it prepared.
   */
  private startScale(scope: ModuleScope, sampler: TelemetrySampler, tlog: AgentServices['log']): void {
    const { config, pipeline, stats } = this.s;
    const scale = config.telemetry.scale;
    if (!scale.enabled || !pipeline) return;
    const heights = resolveLadder(scale, loadManifest(config.inference.model));
    const attach = (session: NetHeightControl) => {
      const ladder = heights.filter((h) => session.heights.includes(h));
      const controller = new ScaleController(scaleOptionsFromConfig(config.telemetry, ladder, session.height));
      if (controller.height !== session.height) session.setHeight(controller.height, 'start');
      this.loop = new ScaleLoop({
        controller,
        meters: stats.meters,
        target: session,
        hottestC: () => sampler.latest()?.hottest?.tempC ?? null,
        onChange: (decision) => {
          tlog.info({ from: decision.from, to: decision.height, reason: decision.reason }, 'net height changed');
          // Publish the change (and its reason) now rather than at the next stats tick.
          stats.publishNow();
        },
      });
      tlog.info({ ladder, target_fps: scale.target_fps, start: controller.height }, 'adaptive scale running');
    };
    scope.own(pipeline.on({ onSession: attach }));
    if (pipeline.current) attach(pipeline.current);
    scope.every(config.telemetry.interval_ms, () => this.loop?.tick());
  }
}
