// The live annotated view: frames from the pipeline → scaled straight to I420, annotated in I420 → one shared
// WebRTC video source → every WHEP viewer. Nothing past the first check in offer() runs without a connected viewer.

import type { ModelLayout } from '../../runtime/manifest.js';
import type { RawFrame } from '../../runtime/types.js';
import type { HttpServer } from '../http/server.js';
import { Annotator, type PreviewPerson } from './annotate.js';
import type { PreviewConfig } from './config-schema.js';
import { registerPage } from './page.js';
import { FrameRateCap } from './rate-cap.js';
import { I420Scaler, type Placement } from './scale.js';
import { ViewerSessions } from './sessions.js';
import { registerWhep, whepPath } from './whep.js';
import { loadWrtc, type VideoSource } from './wrtc.js';

export interface PreviewLog {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface PreviewMeta {
  /** Pipeline frames per second (shown on the overlay). */
  fps: number;
  netWidth: number;
  netHeight: number;
  /** Size the keypoints refer to, when not the frame's own size (e.g. poses from the full-size source, frame downscaled). */
  source?: { width: number; height: number };
}

export class PreviewService {
  private readonly scaler: I420Scaler;
  private readonly annotator: Annotator;
  /** Placement with the keypoint scale folded in, reused per frame. */
  private readonly at: Placement = { scale: 1, offsetX: 0, offsetY: 0, contentWidth: 0, contentHeight: 0 };
  private readonly cap: FrameRateCap;
  private source: VideoSource | undefined;
  private sessions: ViewerSessions | undefined;
  private drawn = 0;
  /** A drawn frame is waiting in scaler.frame for send(). */
  private pending = false;
  private readonly send = (): void => {
    if (!this.pending) return;
    this.pending = false;
    // After stop() there is nobody to send to.
    if (!this.source) return;
    try {
      this.source.onFrame(this.scaler.frame);
      this.drawn++;
    } catch (e) {
      this.dropped(e);
    }
  };
  private lastError = '';

  constructor(
    private readonly cfg: PreviewConfig,
    private readonly http: HttpServer,
    layout: ModelLayout,
    private readonly log: PreviewLog,
  ) {
    this.scaler = new I420Scaler(cfg.width, cfg.height);
    this.annotator = new Annotator(layout, cfg.height);
    this.cap = new FrameRateCap(cfg.fps);
    // Routes exist from construction; until start() (and after stop()) WHEP answers 503.
    registerPage(http, whepPath(cfg.stream).slice(1));
    registerWhep(http, cfg.stream, () => this.sessions);
  }

  /** Loads WebRTC and opens the WHEP endpoint. Throws (with the reason) when wrtc cannot load. */
  start(): void {
    if (this.sessions) return;
    const wrtc = loadWrtc();
    // Screencast mode: libwebrtc keeps the resolution and gives up frame rate under CPU pressure (thin skeleton
    // lines and the status text blur when downscaled), and it encodes cheaper: 9.5–10.7 vs 12.9–13.6 ms of
    // agent CPU per 640×360 frame with one viewer on street.avi (2-core x86, two runs each).
    this.source = new wrtc.nonstandard.RTCVideoSource({ isScreencast: true });
    this.sessions = new ViewerSessions(wrtc, this.source, {
      maxViewers: this.cfg.max_viewers,
      reapAfterMs: this.cfg.reap_timeout_s * 1000,
      connectTimeoutMs: this.cfg.connect_timeout_s * 1000,
      maxBitrateKbps: this.cfg.max_bitrate_kbps,
    }, this.log);
    this.sessions.start();
    this.log.info({ stream: this.cfg.stream, size: `${this.cfg.width}x${this.cfg.height}`, fps: this.cfg.fps }, 'preview ready');
  }

  /** Closes every session and stops their tracks (an unstopped wrtc track keeps the process alive). */
  async stop(): Promise<void> {
    this.pending = false;
    this.sessions?.stop();
    this.sessions = undefined;
    this.source = undefined;
  }

  /** WHEP sessions, connected or still connecting. */
  get viewers(): number {
    return this.sessions?.count ?? 0;
  }

  /** Frames annotated and sent since start: stays put while nobody watches (the "no viewer, no cost" check). */
  get framesDrawn(): number {
    return this.drawn;
  }

  /** Hands one pipeline frame to the viewers; returns at once when nobody is connected or the cap says skip. */
  offer(frame: RawFrame, people: ReadonlyArray<PreviewPerson>, meta: PreviewMeta, nowMs = performance.now()): void {
    const sessions = this.sessions;
    if (!sessions || sessions.connected === 0) return;
    if (!this.cap.admit(nowMs)) return;
    // The previous frame is still waiting to go out (a caller faster than the event loop): send it first.
    if (this.pending) this.send();
    try {
      // One pass from the source frame into the I420 planes, the overlay drawn on those: no RGB image in between.
      const p = this.scaler.scale(frame);
      // Keypoints may refer to a larger source than the frame handed over.
      const kpScale = meta.source && meta.source.width > 0 ? frame.width / meta.source.width : 1;
      const at = Object.assign(this.at, p);
      at.scale = p.scale * kpScale;
      this.annotator.draw(this.scaler.frame, people, at, meta);
      // Handing the frame to wrtc takes ~2.5 ms of wall time with a viewer (≈ half of it waiting on wrtc's
      // threads), so it runs once the pipeline has handed the next frame to inference; the source frame itself is
      // no longer needed. Once per pipeline frame: a pipeline slower than the cap never sends a frame twice.
      this.pending = true;
      setImmediate(this.send);
    } catch (e) {
      this.dropped(e);
    }
  }

  /** A bad frame must not break the pipeline; say so once per distinct problem. */
  private dropped(e: unknown): void {
    const msg = (e as Error).message;
    if (msg !== this.lastError) this.log.warn({ err: msg }, 'preview frame dropped');
    this.lastError = msg;
  }
}
