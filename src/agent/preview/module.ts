// The live view as an agent module: a PreviewService fed by the pose pipeline's frames.
// Starts after the pipeline module (it needs the model layout); fails alone, saying why, when no encoder or
// WebRTC can run here.
// Its routes, stats section and pipeline listener are registered through the module scope, so a
// restart (its own, or the pipeline's) replaces them instead of leaving the stopped ones answering.

import type { AgentModule, AgentServices } from '../agent.js';
import type { HttpServer } from '../http/server.js';
import type { ModuleScope } from '../lifecycle.js';
import type { PoseEvents } from '../../runtime/events/engine.js';
import type { OverlayScene } from './annotate.js';
import { registerPage } from './page.js';
import { PreviewService, type PreviewServiceOptions } from './service.js';
import { registerWhep, whepPath } from './whep.js';

/** Weight of the newest frame interval in the FPS shown on the overlay (≈ the last 10 frames). */
const FPS_SMOOTHING = 0.1;

export class PreviewModule implements AgentModule {
  readonly name = 'preview';
  /** Subscribes to the pipeline's frames: rebuild it when the pipeline restarts. */
  readonly followsPipeline = true;
  private service: PreviewService | undefined;

  constructor(
    private readonly s: AgentServices,
    private readonly http: HttpServer,
    private readonly options: PreviewServiceOptions = {},
    /** The running pose events engine, if any: its zones and lines are drawn, and who is down. */
    private readonly events: () => PoseEvents | undefined = () => undefined,
  ) {}

  /** Frames drawn for viewers since start (0 while nobody watches). */
  get framesDrawn(): number {
    return this.service?.framesDrawn ?? 0;
  }

  get viewers(): number {
    return this.service?.viewers ?? 0;
  }

  async start(scope: ModuleScope): Promise<void> {
    const { layout, pipeline, config, log } = this.s;
    if (!layout || !pipeline) throw new Error('the live view needs the pose pipeline, which is not running');
    const cfg = config.preview;
    const service = new PreviewService(cfg, layout, log.child({ module: 'preview' }), this.options);
    // Registered before start: a start that fails half-way (after loading WebRTC) still ends cleanly.
    scope.own(async () => {
      if (this.service === service) this.service = undefined;
      await service.stop();
    });
    await service.start();
    this.service = service;
    scope.own(registerPage(this.http, whepPath(cfg.stream).slice(1)));
    scope.own(registerWhep(this.http, cfg.stream, () => (service.sessions ? { sessions: service.sessions, codec: service.codec } : undefined)));
    scope.own(this.s.stats.addSection('preview', () => {
      const c = service.encoderCounters;
      return {
        viewers: service.viewers,
        frames_drawn: service.framesDrawn,
        encoder: service.encoderChoice?.encoder,
        encoder_running: service.encoderPid !== undefined,
        frames_dropped: c.dropped,
        encoder_restarts: c.restarts,
        kbytes_sent: Math.round(c.bytes / 1024),
      };
    }));
    scope.own(
      this.s.stats.addMetrics('preview', () => {
        const c = service.encoderCounters;
        return [
          { name: 'pafcast_preview_viewers', type: 'gauge', help: 'WHEP sessions of the live view, connected or connecting.', samples: [{ value: service.viewers }] },
          { name: 'pafcast_preview_frames_drawn_total', type: 'counter', help: 'Frames annotated and handed to the encoder.', samples: [{ value: service.framesDrawn }] },
          { name: 'pafcast_preview_frames_dropped_total', type: 'counter', help: 'Preview frames skipped because the encoder was behind.', samples: [{ value: c.dropped }] },
          { name: 'pafcast_preview_encoder_restarts_total', type: 'counter', help: 'Times the encoder child died and was restarted.', samples: [{ value: c.restarts }] },
          { name: 'pafcast_preview_encoded_bytes_total', type: 'counter', help: 'RTP bytes from the encoder (each viewer is sent these).', samples: [{ value: c.bytes }] },
        ];
      }),
    );
    let fps = 0;
    let last = 0;
    const ev = config.events;
    // One scene object per start: the zones and lines of this config; sizes and who is down are read per frame.
    const scene: OverlayScene | undefined =
      ev.enabled && (ev.zones.length || ev.lines.length || ev.person_down.enabled)
        ? { zones: ev.zones, lines: ev.lines, sourceWidth: 0, sourceHeight: 0, isDown: (id) => this.events()?.fallPhase(id) === 'down' }
        : undefined;
    scope.own(
      pipeline.on({
        onFrame: (frame, tracked, meta) => {
          const now = performance.now();
          if (last > 0) {
            const instant = 1000 / Math.max(1, now - last);
            fps = fps === 0 ? instant : fps + FPS_SMOOTHING * (instant - fps);
          }
          last = now;
          if (scene) {
            scene.sourceWidth = meta.source.width;
            scene.sourceHeight = meta.source.height;
          }
          service.offer(frame, tracked, { fps, netWidth: meta.net.width, netHeight: meta.net.height, source: meta.source, scene });
        },
      }),
    );
  }
}
