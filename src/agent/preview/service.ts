// The live annotated view: frames from the pipeline → scaled straight to I420, annotated in I420 → one encoder
// child (hardware H.264 on a Jetson with NVENC, software elsewhere) → its RTP packets to every WHEP viewer.
// No viewer, no cost: the encoder runs only while a WHEP session exists, and nothing past the first check in
// offer() runs without one. Drawing starts with the session, not with its connection: the encoder has warmed
// up (its first frame is the slowest) by the time ICE and DTLS are done and the viewer's keyframe is asked for.

import { randomInt } from 'node:crypto';
import type { ModelLayout } from '../../runtime/manifest.js';
import type { RawFrame } from '../../runtime/types.js';
import { Annotator, type OverlayScene, type PreviewPerson } from './annotate.js';
import type { PreviewConfig } from './config-schema.js';
import { EncoderProcess, type EncoderCounters } from './encoder.js';
import { chooseEncoder, encoderCommand, type EncoderChoice, type EncoderTools } from './encoder-plan.js';
import { probeHost } from './encoder-probe.js';
import { FrameRateCap } from './rate-cap.js';
import type { VideoCodec } from './rtp.js';
import { I420Scaler, type Placement } from './scale.js';
import { ViewerSessions } from './sessions.js';
import { loadWerift } from './transport.js';

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
  /** Zones, lines and who is down, when pose events run. */
  scene?: OverlayScene;
}

export interface PreviewServiceOptions {
  /** What the machine has (tests pass a recorded board); probed on this machine when absent. */
  tools?: EncoderTools;
}

/** Payload type of the encoder's RTP; the WebRTC sender rewrites it to what each viewer negotiated. */
const ENCODER_PT = 96;
/** RTP packet size from the encoder: below the usual 1500-byte path MTU once SRTP, UDP and IP headers are added. */
const RTP_MTU = 1200;

export class PreviewService {
  private readonly scaler: I420Scaler;
  private readonly annotator: Annotator;
  /** Placement with the keypoint scale folded in, reused per frame. */
  private readonly at: Placement = { scale: 1, offsetX: 0, offsetY: 0, contentWidth: 0, contentHeight: 0 };
  private readonly cap: FrameRateCap;
  private live: ViewerSessions | undefined;
  private choice: EncoderChoice | undefined;
  private encoder: EncoderProcess | undefined;
  /** Encoders told to stop whose child has not exited yet: stop() waits for them. */
  private readonly stopping = new Set<Promise<void>>();
  /** Counters of encoders that already stopped, so the totals survive viewers coming and going. */
  private readonly past: EncoderCounters = { frames: 0, dropped: 0, packets: 0, bytes: 0, keyframes: 0, restarts: 0 };
  private drawn = 0;
  private lastError = '';

  constructor(
    private readonly cfg: PreviewConfig,
    layout: ModelLayout,
    private readonly log: PreviewLog,
    private readonly options: PreviewServiceOptions = {},
  ) {
    this.scaler = new I420Scaler(cfg.width, cfg.height);
    this.annotator = new Annotator(layout, cfg.height);
    this.cap = new FrameRateCap(cfg.fps);
  }

  /** The WHEP sessions while started; undefined before start() and after stop() (WHEP answers 503). */
  get sessions(): ViewerSessions | undefined {
    return this.live;
  }

  /** The encoder in use and why (after start()). */
  get encoderChoice(): EncoderChoice | undefined {
    return this.choice;
  }

  /** Process id of the running encoder child; undefined while nobody watches. */
  get encoderPid(): number | undefined {
    return this.encoder?.pid;
  }

  get codec(): VideoCodec {
    return this.choice?.codec ?? 'H264';
  }

  /**
   * Picks the encoder (probing GStreamer unless told what the machine has), loads WebRTC and opens the
   * WHEP sessions. Throws, saying why, when no encoder or no WebRTC can run here. Starts no process.
   */
  async start(): Promise<void> {
    if (this.live) return;
    const tools = this.options.tools ?? (await probeHost());
    const choice = chooseEncoder(this.cfg.encoder, tools);
    const ssrc = randomInt(1, 0xffff_ffff);
    const argv = encoderCommand(choice, {
      width: this.cfg.width, height: this.cfg.height, fps: this.cfg.fps, bitrateKbps: this.cfg.max_bitrate_kbps,
      keyframeIntervalS: this.cfg.encoder.keyframe_interval_s, ssrc, pt: ENCODER_PT, mtu: RTP_MTU,
    }, this.cfg.encoder.pipeline);
    await loadWerift();
    this.choice = choice;
    const describe = { encoder: choice.encoder, codec: choice.codec, hardware: choice.hardware, why: choice.why };
    const sessions = new ViewerSessions({
      codec: choice.codec,
      demand: () => {
        if (this.encoder || this.live !== sessions) return;
        const enc = new EncoderProcess({ argv, codec: choice.codec, width: this.cfg.width, height: this.cfg.height, fps: this.cfg.fps, ssrc, describe },
          ({ packet, keyframe }) => sessions.forward(packet, keyframe), this.log);
        this.encoder = enc;
        enc.start();
      },
      idle: () => void this.stopEncoder(),
      requestKeyframe: () => this.encoder?.requestKeyframe(),
    }, {
      maxViewers: this.cfg.max_viewers,
      reapAfterMs: this.cfg.reap_timeout_s * 1000,
      connectTimeoutMs: this.cfg.connect_timeout_s * 1000,
    }, this.log);
    this.live = sessions;
    sessions.start();
    this.log.info({ stream: this.cfg.stream, size: `${this.cfg.width}x${this.cfg.height}`, fps: this.cfg.fps, transport: 'werift', ...describe }, 'preview ready');
  }

  /** Closes every session and stops the encoder child; resolves once it has exited. */
  async stop(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    live?.stop();
    await this.stopEncoder();
    await Promise.all(this.stopping);
  }

  /** WHEP sessions, connected or still connecting. */
  get viewers(): number {
    return this.live?.count ?? 0;
  }

  /** Frames annotated and handed to the encoder since start: stays put while nobody watches (the "no viewer, no cost" check). */
  get framesDrawn(): number {
    return this.drawn;
  }

  /** Encoder totals since start (frames in, frames dropped because it was behind, RTP out, restarts). */
  get encoderCounters(): EncoderCounters {
    const now = this.encoder?.counters;
    const out = { ...this.past };
    if (now) for (const k of Object.keys(out) as Array<keyof EncoderCounters>) out[k] += now[k];
    return out;
  }

  /** Hands one pipeline frame to the viewers; returns at once when nobody watches or the cap says skip. */
  offer(frame: RawFrame, people: ReadonlyArray<PreviewPerson>, meta: PreviewMeta, nowMs = performance.now()): void {
    const sessions = this.live;
    const encoder = this.encoder;
    if (!sessions || sessions.count === 0 || !encoder) return;
    if (!this.cap.admit(nowMs)) return;
    const target = encoder.acquire();
    if (!target) return; // the encoder is behind: skip this frame before drawing it
    try {
      // One pass from the source frame into the I420 planes, the overlay drawn on those: no RGB image in between.
      const p = this.scaler.scaleInto(frame, target);
      // Keypoints may refer to a larger source than the frame handed over.
      const kpScale = meta.source && meta.source.width > 0 ? frame.width / meta.source.width : 1;
      const at = Object.assign(this.at, p);
      at.scale = p.scale * kpScale;
      this.annotator.draw(target, people, at, meta, meta.scene);
      encoder.submit(target, nowMs);
      this.drawn++;
    } catch (e) {
      encoder.release(target);
      this.dropped(e);
    }
  }

  private async stopEncoder(): Promise<void> {
    const enc = this.encoder;
    if (!enc) return;
    this.encoder = undefined;
    const done = enc.stop();
    this.stopping.add(done);
    await done;
    this.stopping.delete(done);
    const c = enc.counters;
    for (const k of Object.keys(this.past) as Array<keyof EncoderCounters>) this.past[k] += c[k];
    this.log.info({ frames: c.frames, dropped: c.dropped, keyframes: c.keyframes, kbytes: Math.round(c.bytes / 1024) }, 'preview encoder stopped');
  }

  /** A bad frame must not break the pipeline; say so once per distinct problem. */
  private dropped(e: unknown): void {
    const msg = (e as Error).message;
    if (msg !== this.lastError) this.log.warn({ err: msg }, 'preview frame dropped');
    this.lastError = msg;
  }
}
