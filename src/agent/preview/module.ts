// The live view as an agent module: a PreviewService fed by the pose pipeline's frames.
// Starts after the pipeline module (it needs the model layout); fails alone when WebRTC cannot load.

import type { AgentModule, AgentServices } from '../agent.js';
import type { HttpServer } from '../http/server.js';
import { PreviewService } from './service.js';

/** Weight of the newest frame interval in the FPS shown on the overlay (≈ the last 10 frames). */
const FPS_SMOOTHING = 0.1;

export class PreviewModule implements AgentModule {
  readonly name = 'preview';
  /** Subscribes to the pipeline's frames: rebuild it when the pipeline restarts. */
  readonly followsPipeline = true;
  private service: PreviewService | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly s: AgentServices,
    private readonly http: HttpServer,
  ) {}

  /** Frames drawn for viewers since start (0 while nobody watches). */
  get framesDrawn(): number {
    return this.service?.framesDrawn ?? 0;
  }

  get viewers(): number {
    return this.service?.viewers ?? 0;
  }

  async start(): Promise<void> {
    const { runtime, pipeline, config, log } = this.s;
    if (!runtime || !pipeline) throw new Error('the live view needs the pose pipeline, which is not running');
    const service = new PreviewService(config.preview, this.http, runtime.layout, log.child({ module: 'preview' }));
    service.start();
    this.service = service;
    this.s.stats.addSection('preview', () => ({ viewers: service.viewers, frames_drawn: service.framesDrawn }));
    let fps = 0;
    let last = 0;
    this.unsubscribe = pipeline.on({
      onFrame: (frame, tracked, meta) => {
        const now = performance.now();
        if (last > 0) {
          const instant = 1000 / Math.max(1, now - last);
          fps = fps === 0 ? instant : fps + FPS_SMOOTHING * (instant - fps);
        }
        last = now;
        service.offer(frame, tracked, { fps, netWidth: meta.net.width, netHeight: meta.net.height, source: meta.source });
      },
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.service?.stop();
    this.service = undefined;
  }
}
