// The frame loop: capture → preprocess → infer → parse → track → publish. Capture runs in its
// own child process and keeps decoding while a frame is being inferred (realtime mode hands over
// the newest frame), so the loop only waits for a frame when inference is faster than the source.
// Everything else that wants to know about frames (watchdog, meters, preview) listens through
// PipelineEvents; the pipeline itself only publishes `poses` and `people`.

import type { Logger } from 'pino';
import type { NetSize } from '../runtime/backend.js';
import type { ParserParams } from '../runtime/manifest.js';
import type { Person, RawFrame } from '../runtime/types.js';
import type { TrackedPerson } from '../runtime/tracking/pose-tracker.js';
import type { PosePerson, PosesPayload, TopicName, TopicPayloads } from './mqtt/topics.js';
import { PipelineSession, sameFormat, type FrameFormat, type NetHeightControl, type SessionOpener } from './session.js';

export type { PoseEstimator } from './session.js';

/** A frame as the capture source hands it over (valid until the next `next()` call). */
export interface PipelineFrame extends RawFrame {
  /** Capture sequence number; gaps mean frames the source dropped. */
  seq: number;
  /** Capture time, ms since the Unix epoch. */
  ts: number;
  /** Source frame index (files: the frame's number in the file; live sources: the capture sequence). */
  index?: number;
  /** Source time, ms (files: index × frame interval; live sources: the capture time). */
  mediaMs?: number;
  /** Size of the original source; the frame itself may be scaled down by capture. */
  sourceWidth: number;
  sourceHeight: number;
}

export interface FrameSource {
  /** The next frame, or null when the source has ended for good (a file without loop, or stop()). */
  next(): Promise<PipelineFrame | null>;
}

export interface PoseTracking {
  /** `mediaMs`: the frame's source time (PipelineFrame.mediaMs). */
  update(people: Person[], mediaMs: number): readonly TrackedPerson[];
  /** People present after the last update, held steady in time (tracking.count_hold_ms); default: tracked.length. */
  readonly count?: number;
}

export interface PosePublisher {
  publish<K extends TopicName>(name: K, payload: TopicPayloads[K]): void;
}

export type PipelineStage = 'capture' | 'preprocess' | 'inference' | 'parse' | 'track' | 'publish';

export interface FrameMeta {
  seq: number;
  ts: number;
  source: { width: number; height: number };
  net: { width: number; height: number };
  /** Multiply source-pixel keypoints by this to draw them on the delivered frame. */
  sourceToFrame: { x: number; y: number };
  latency_ms: number;
}

/** Hooks for the modules around the pipeline; every member is optional. */
export interface PipelineEvents {
  /** After every processed frame (the systemd watchdog feeds on this). */
  onProgress?(seq: number): void;
  onStage?(stage: PipelineStage, ms: number): void;
  /** The frame and its tracked people (source pixels). Only called when someone listens; do not keep `frame`. */
  onFrame?(frame: PipelineFrame, tracked: readonly TrackedPerson[], meta: FrameMeta): void;
  /** A frame failed (inference error, bad frame); the loop carries on with the next one. */
  onError?(error: Error): void;
  /** A session was opened for a new frame format (the first frame, or the source changed size). */
  onSession?(session: NetHeightControl): void;
  /** The net size changed (session start, scale controller, live config), with the reason. */
  onNetSize?(net: NetSize, reason: string): void;
  /** Capture → publish latency of a processed frame. */
  onLatency?(ms: number): void;
}

export interface PipelineOptions {
  /** Net input height the first session starts at; 0 = the model's default. */
  height: number;
  skipEmptyFrames: boolean;
  /** Decimals of published keypoint coordinates. */
  decimals: number;
  /** Model name published in `poses`. */
  model: string;
}

export type PipelineEnd = 'ended' | 'stopped';

const ERROR_PAUSE_MS = 200;

const round = (v: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
};

/** Frame pixels → source pixels, pixel-centre convention (the centre of frame pixel 0 maps to the centre of the scaled block). */
export function toSourcePixels(people: readonly Person[], sx: number, sy: number): Person[] {
  if (sx === 1 && sy === 1) return people.slice();
  return people.map((p) => {
    const kp = new Float32Array(p.keypoints.length);
    for (let i = 0; i < kp.length; i += 3) {
      if (p.keypoints[i + 2] <= 0) continue;
      kp[i] = (p.keypoints[i] + 0.5) * sx - 0.5;
      kp[i + 1] = (p.keypoints[i + 1] + 0.5) * sy - 0.5;
      kp[i + 2] = p.keypoints[i + 2];
    }
    return { score: p.score, parts: p.parts, keypoints: kp };
  });
}

/** The `people[]` of a poses message: flat [x, y, c, ...] with coordinates rounded to `decimals` and confidences (clamped to 1) to 3. */
export function posePeople(tracked: readonly TrackedPerson[], decimals: number): PosePerson[] {
  return tracked.map((t) => {
    const flat = new Array<number>(t.keypoints.length);
    for (let i = 0; i < flat.length; i += 3) {
      flat[i] = round(t.keypoints[i], decimals);
      flat[i + 1] = round(t.keypoints[i + 1], decimals);
      // Confidences in 0..1 as OpenPose documents them (a heatmap peak can exceed 1).
      flat[i + 2] = round(Math.min(1, t.keypoints[i + 2]), 3);
    }
    return { id: t.id, score: round(t.score, 3), pose_keypoints_2d: flat };
  });
}

export interface PipelineParts {
  source: FrameSource;
  /** Prepares an estimator once the first frame (and so the real frame format) is known. */
  openSession: SessionOpener;
  tracker: PoseTracking;
  publisher: PosePublisher;
  options: PipelineOptions;
  log: Logger;
}

/** A session that cannot be opened (model, engine, backend) is retried with this backoff. */
const SESSION_RETRY_MIN_MS = 1_000;
const SESSION_RETRY_MAX_MS = 30_000;

export class PosePipeline {
  private readonly listeners = new Set<PipelineEvents>();
  private readonly source: FrameSource;
  private readonly openSession: SessionOpener;
  private readonly tracker: PoseTracking;
  private readonly publisher: PosePublisher;
  private readonly log: Logger;
  private options: PipelineOptions;
  private session: PipelineSession | undefined;
  private opening: Promise<PipelineSession | null> | undefined;
  private parserParams: Partial<ParserParams> = {};
  private running: Promise<PipelineEnd> | undefined;
  private stopping = false;
  private lastCount = -1;
  private framesTotal = 0;
  private errorsTotal = 0;
  private skippedTotal = 0;
  private sessionFailures = 0;
  private sessionRetryAt = 0;
  private lastSessionError = '';

  constructor(parts: PipelineParts) {
    this.source = parts.source;
    this.openSession = parts.openSession;
    this.tracker = parts.tracker;
    this.publisher = parts.publisher;
    this.log = parts.log;
    this.options = { ...parts.options };
  }

  /** Adds a listener; returns the function that removes it. */
  on(events: PipelineEvents): () => void {
    this.listeners.add(events);
    return () => this.listeners.delete(events);
  }

  /** The session in use, once the first frame has opened one. */
  get current(): NetHeightControl | undefined {
    return this.session;
  }

  /**
   * Net height from the next frame on (live config). Returns false when the running session has not
   * prepared that height: the caller then restarts the pipeline, which prepares it.
   */
  setHeight(height: number): boolean {
    const session = this.session;
    if (session && !session.has(height)) return false;
    this.options.height = height;
    session?.setHeight(height, 'config');
    return true;
  }

  /** Parser thresholds, applied from the next frame on (and to every later session). */
  setParserParams(p: Partial<ParserParams>): void {
    this.session?.estimator.setParserParams(p);
    this.parserParams = { ...this.parserParams, ...p };
  }

  /** Live-changeable publishing options. */
  setOptions(patch: Partial<Pick<PipelineOptions, 'skipEmptyFrames' | 'decimals'>>): void {
    this.options = { ...this.options, ...patch };
  }

  stats(): { frames: number; errors: number; skipped: number; net: NetSize | null } {
    return { frames: this.framesTotal, errors: this.errorsTotal, skipped: this.skippedTotal, net: this.session?.net ?? null };
  }

  /**
   * Opens the session for frames of `format` ahead of the first one (capture calls this before it
   * starts its process), so the first frames are not spent waiting for the model to load.
   */
  async prepare(format: FrameFormat): Promise<void> {
    await this.sessionFor(format);
  }

  /** Starts the loop; the promise it returns settles when the source ends or stop() is called. */
  start(): Promise<PipelineEnd> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops after the frame in flight and releases the session; the caller stops the source so that a pending next() returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    // A runtime still being created (capture's prepare() before the first frame) must finish and be released
    // before the process exits: onnxruntime aborts the process when its session creation completes after exit.
    while (this.opening) await this.opening.catch(() => null);
  }

  private emit<K extends keyof PipelineEvents>(name: K, ...args: Parameters<NonNullable<PipelineEvents[K]>>): void {
    for (const l of this.listeners) {
      const fn = l[name] as ((...a: unknown[]) => void) | undefined;
      if (!fn) continue;
      try {
        fn.apply(l, args);
      } catch (e) {
        // A broken listener must not stop the poses.
        this.log.error({ err: (e as Error).message, event: name }, 'pipeline listener failed');
      }
    }
  }

  private hasFrameListener(): boolean {
    for (const l of this.listeners) if (l.onFrame) return true;
    return false;
  }

  private async loop(): Promise<PipelineEnd> {
    try {
      while (!this.stopping) {
        const t0 = performance.now();
        let frame: PipelineFrame | null;
        try {
          frame = await this.source.next();
        } catch (e) {
          this.fail(e, 'capture');
          await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
          continue;
        }
        if (frame === null) return this.stopping ? 'stopped' : 'ended';
        if (this.stopping) break;
        this.emit('onStage', 'capture', performance.now() - t0);
        try {
          await this.process(frame);
        } catch (e) {
          this.fail(e, 'frame');
        }
      }
      return 'stopped';
    } finally {
      const session = this.session;
      this.session = undefined;
      await session?.dispose().catch((e: Error) => this.log.warn({ err: e.message }, 'releasing the pose runtime failed'));
    }
  }

  private fail(e: unknown, where: string): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this.errorsTotal++;
    // The first errors are logged in full; after that one line per 100, so a broken source cannot flood the log.
    if (this.errorsTotal <= 5 || this.errorsTotal % 100 === 0)
      this.log.error({ err: error.message, where, errors_total: this.errorsTotal }, 'pipeline frame failed');
    this.emit('onError', error);
  }

  /** The session for this format: the current one, or a new one opened for it (null while retrying). One opening at a time. */
  private async sessionFor(f: FrameFormat): Promise<PipelineSession | null> {
    while (this.opening) await this.opening;
    // The per-frame path: the current session, with no copy of the format made.
    if (this.session && sameFormat(this.session.format, f)) return this.session;
    const format: FrameFormat = { width: f.width, height: f.height, sourceWidth: f.sourceWidth, sourceHeight: f.sourceHeight };
    const opening = this.open(format);
    this.opening = opening;
    try {
      return await opening;
    } finally {
      if (this.opening === opening) this.opening = undefined;
    }
  }

  private async open(format: FrameFormat): Promise<PipelineSession | null> {
    const old = this.session;
    if (old && sameFormat(old.format, format)) return old;
    if (performance.now() < this.sessionRetryAt) return null;
    const startHeight = old?.height ?? this.options.height;
    let prepared;
    try {
      prepared = await this.openSession(format);
    } catch (e) {
      this.sessionFailures++;
      const delay = Math.min(SESSION_RETRY_MAX_MS, SESSION_RETRY_MIN_MS * 2 ** (this.sessionFailures - 1));
      this.sessionRetryAt = performance.now() + delay;
      const msg = (e as Error).message;
      // Once per distinct reason, not once per retry.
      if (msg !== this.lastSessionError) this.log.error({ err: msg, retry_in_ms: delay, format }, 'cannot prepare the pose runtime for this source; retrying');
      this.lastSessionError = msg;
      this.emit('onError', e as Error);
      return null;
    }
    if (this.stopping) {
      await prepared.estimator.dispose?.();
      return null;
    }
    const height = startHeight || prepared.estimator.manifest.input_size.default_height;
    const session = new PipelineSession(format, prepared.estimator, prepared.heights, height, (net, reason) => this.emit('onNetSize', net, reason));
    if (Object.keys(this.parserParams).length) session.estimator.setParserParams(this.parserParams);
    this.session = session;
    if (this.sessionFailures > 0) this.log.info({ format }, 'pose runtime ready after earlier failures');
    this.sessionFailures = 0;
    this.lastSessionError = '';
    if (old) {
      this.log.info({ from: old.format, to: format }, 'source format changed; pose runtime prepared for the new size');
      await old.dispose().catch((e: Error) => this.log.warn({ err: e.message }, 'releasing the previous pose runtime failed'));
    }
    this.emit('onSession', session);
    return session;
  }

  private async process(frame: PipelineFrame): Promise<void> {
    const session = await this.sessionFor(frame);
    if (!session) {
      this.skippedTotal++;
      return;
    }
    const result = await session.estimator.estimate(frame, session.height);
    this.emit('onStage', 'preprocess', result.timing_ms.preprocess_ms);
    this.emit('onStage', 'inference', result.timing_ms.inference_ms);
    this.emit('onStage', 'parse', result.timing_ms.parse_ms);

    const t1 = performance.now();
    const { x: sx, y: sy } = session.frameToSource;
    const tracked = this.tracker.update(toSourcePixels(result.people, sx, sy), frame.mediaMs ?? frame.ts);
    const t2 = performance.now();
    this.emit('onStage', 'track', t2 - t1);

    const source = { width: frame.sourceWidth, height: frame.sourceHeight };
    const latency = Math.max(0, Date.now() - frame.ts);
    if (tracked.length > 0 || !this.options.skipEmptyFrames) {
      const message: PosesPayload = {
        frame: frame.index ?? frame.seq,
        ts: frame.ts,
        source,
        model: this.options.model,
        net: result.net,
        latency_ms: round(latency, 1),
        people: posePeople(tracked, this.options.decimals),
      };
      this.publisher.publish('poses', message);
    }
    const count = this.tracker.count ?? tracked.length;
    if (count !== this.lastCount) {
      this.lastCount = count;
      this.publisher.publish('people', { count, frame: frame.index ?? frame.seq, ts: frame.ts });
    }
    this.emit('onStage', 'publish', performance.now() - t2);
    this.emit('onLatency', latency);
    this.framesTotal++;
    this.emit('onProgress', frame.seq);
    if (this.hasFrameListener())
      this.emit('onFrame', frame, tracked, {
        seq: frame.seq,
        ts: frame.ts,
        source,
        net: result.net,
        sourceToFrame: { x: 1 / sx, y: 1 / sy },
        latency_ms: latency,
      });
  }
}
