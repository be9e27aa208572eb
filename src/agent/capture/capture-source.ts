// A frame source backed by a child process (ffmpeg or gst-launch-1.0) that writes raw frames to its stdout.
// Frames are read into a small pool of reused buffers while the consumer works on the previous one, so
// capture overlaps inference. Failures (missing device, dead decoder, dropped stream) are reported through
// the log and 'problem' events and retried with bounded exponential backoff; nothing here throws at the agent.
//
// Frame lifetime: the frame next() resolves with (its object and its data) stays valid until the following
// next() call, which hands the buffer back to the pool. Copy anything needed for longer.
// Output size is fixed per run (config output_height, requiresRestart): changing it means restarting the child,
// so adaptive net sizes are handled by the preprocessing, which resizes frames to any net height.

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CaptureConfigSchema, type CaptureConfig } from './config-schema.js';
import { lastLine } from './exec.js';
import { FrameAssembler, LIVE_TIMING, type CapturedFrame, type FrameTiming } from './frame-pool.js';
import { planCommand, type CommandPlan } from './pipelines.js';
import { probeInput, probeSource } from './probe.js';
import { classifySource, endsByItself, type SourceSpec } from './source-uri.js';
import { chooseBackend, detectTools, type Backend, type CaptureTools } from './tools.js';

export type { CapturedFrame } from './frame-pool.js';

export type CaptureState = 'starting' | 'running' | 'retrying' | 'ended' | 'stopped';

export interface CaptureStats {
  /** Frames read from the capture process since start(), delivered or dropped. */
  frames: number;
  /** Frames replaced by newer ones before the consumer asked (realtime mode) or discarded. */
  dropped: number;
  /** Restarts after failures (a looping file starting over is not one). */
  restarts: number;
  state: CaptureState;
  lastError: string | null;
}

export type CaptureOptions = Omit<Partial<CaptureConfig>, 'csi' | 'retry'> & {
  uri: string;
  csi?: Partial<CaptureConfig['csi']>;
  retry?: Partial<CaptureConfig['retry']>;
};

interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}
/** The part of a pino logger capture uses. */
export interface CaptureLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** Buffers in the pool: one held by the consumer, one ready, one being filled. */
const POOL_SIZE = 3;
/** Error output lines kept from the capture process, for the failure message. */
const STDERR_LINES = 20;
/** Grace period between SIGTERM and SIGKILL when stopping the capture process. */
const KILL_GRACE_MS = 2000;

/** Fills in defaults and rejects invalid options with a readable message. */
export function resolveCaptureOptions(opts: CaptureOptions): CaptureConfig {
  const config = Value.Default(CaptureConfigSchema, Value.Clone(opts)) as CaptureConfig;
  const firstError = Value.Errors(CaptureConfigSchema, config).First();
  if (firstError) throw new Error(`source config ${firstError.path || '(root)'}: ${firstError.message}`);
  if (config.retry.max_ms < config.retry.min_ms) throw new Error('source config /retry: max_ms must be >= min_ms');
  return config;
}

export class CaptureSource extends EventEmitter {
  readonly config: CaptureConfig;
  private readonly realtime: boolean;
  private readonly assembler: FrameAssembler;
  /** 'starting' until the first frame, so a next() issued before start() waits instead of reading as ended. */
  private state: CaptureState = 'starting';
  private started = false;
  private stopping: Promise<void> | null = null;
  /** Bumped on every attempt and on stop, so callbacks of an abandoned attempt do nothing. */
  private generation = 0;

  private child: ChildProcess | null = null;
  private stderrTail: string[] = [];
  /** Bytes read but not yet taken by the pool (every-frame mode, consumer busy); stdout is paused meanwhile. */
  private pending: Buffer | null = null;
  private waiter: ((frame: CapturedFrame | null) => void) | null = null;

  private spec: SourceSpec | null = null;
  private tools: CaptureTools | null = null;
  private backend: Backend | null = null;
  private plan: CommandPlan | null = null;
  private runFrames = 0;
  private runStartedAt = 0;
  private lastFrameAt = 0;
  private imageIndex = 0;
  private imagePassFrames = 0;
  /** Source time at which the current pass over an image directory started (mediaMs of its image 0). */
  private imagePassOffsetMs = 0;

  private failures = 0;
  private restarts = 0;
  private lastError: string | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private imageTimer: NodeJS.Timeout | null = null;

  /**
   * Awaited after the source was probed and before its capture process starts: the consumer prepares
   * for the frames it will get (the pose runtime for their exact size) so that a file played in
   * realtime does not run on while the model is still loading. Not used for image directories,
   * where every image has its own size.
   */
  beforeLaunch: ((format: { width: number; height: number; sourceWidth: number; sourceHeight: number }) => Promise<void>) | undefined;

  constructor(opts: CaptureOptions, private readonly log: CaptureLogger) {
    super();
    this.config = resolveCaptureOptions(opts);
    this.realtime = this.config.mode === 'realtime';
    this.assembler = new FrameAssembler(POOL_SIZE, this.realtime, () => this.onFrame());
  }

  /** Starts capturing in the background; problems are reported and retried, never thrown. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.attempt();
  }

  /**
   * realtime: the newest frame not yet delivered (older undelivered ones are dropped and counted);
   * every-frame: the next frame in order (the capture process waits while the pool is full).
   * Resolves null once the source has ended (a non-looping file) or was stopped. One call at a time.
   */
  next(): Promise<CapturedFrame | null> {
    if (this.waiter) return Promise.reject(new Error('CaptureSource.next() called again before the previous call resolved'));
    // Stopped means no more frames, also those already buffered (an ended file still hands out what it read).
    if (this.stopping) return Promise.resolve(null);
    this.assembler.release();
    this.feedPending();
    const frame = this.assembler.take(this.realtime);
    if (frame) return Promise.resolve(frame);
    if (this.state === 'ended' || this.state === 'stopped') return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  stats(): CaptureStats {
    return {
      frames: this.assembler.frames,
      dropped: this.assembler.dropped,
      restarts: this.restarts,
      state: this.state,
      lastError: this.lastError,
    };
  }

  /** The capture command of the current run (for logs and the `config` view), or null before one started. */
  get command(): readonly string[] | null {
    return this.plan?.argv ?? null;
  }

  /** Process id of the running capture process (diagnostics, tests), or null. */
  get childPid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Stops the capture process (SIGTERM, then SIGKILL after a grace period) and waits until it has exited. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.generation++;
    this.clearTimers();
    const child = this.child;
    this.child = null;
    this.pending = null;
    if (child) {
      const closed = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          if (!child.stdout || child.stdout.readableEnded) return resolve();
        }
        child.once('close', () => resolve());
      });
      // Let any buffered output drain so the pipes close; its frames are no longer wanted.
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      // A configured pipeline may leave a grandchild holding the pipes open: never let that hang shutdown.
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 2 * KILL_GRACE_MS)))]);
      clearTimeout(killer);
      clearTimeout(giveUp);
    }
    this.setState('stopped');
    this.resolveWaiter();
  }

  private async attempt(): Promise<void> {
    const generation = ++this.generation;
    const stale = () => generation !== this.generation;
    this.setState('starting');
    try {
      const spec = classifySource(this.config.uri);
      const tools = await detectTools();
      if (stale()) return;
      this.spec = spec;
      this.tools = tools;
      this.backend = chooseBackend(this.config.backend, spec, tools);
      if (spec.kind === 'images') {
        this.imageIndex = 0;
        this.imagePassFrames = 0;
        this.imagePassOffsetMs = this.assembler.mediaEndMs;
        await this.launchImage(generation);
        return;
      }
      const source = await probeSource(spec, tools, this.config.csi);
      if (stale()) return;
      const plan = planCommand({ spec, source, backend: this.backend, tools, config: this.config });
      this.plan = plan;
      this.log.info({ argv: plan.argv, width: plan.width, height: plan.height, source }, 'capture pipeline');
      if (this.beforeLaunch) {
        // The consumer's own failures are its to report; capture starts either way.
        await this.beforeLaunch({ width: plan.width, height: plan.height, sourceWidth: plan.source.width, sourceHeight: plan.source.height }).catch(() => undefined);
        if (stale()) return;
      }
      this.launch(plan);
    } catch (e) {
      if (!stale()) this.fail((e as Error).message);
    }
  }

  /** Decodes the current image of an image directory (each image has its own size, so its own run). */
  private async launchImage(generation: number): Promise<void> {
    const spec = this.spec as Extract<SourceSpec, { kind: 'images' }>;
    const file = spec.files[this.imageIndex];
    let plan: CommandPlan;
    try {
      const source = await probeInput(file, 'images', this.tools!);
      if (generation !== this.generation) return;
      plan = planCommand({ spec, input: file, source, backend: this.backend!, tools: this.tools!, config: this.config });
    } catch (e) {
      if (generation !== this.generation) return;
      this.reportProblem(`skipping image ${file}: ${(e as Error).message}`);
      this.afterImage();
      return;
    }
    if (this.imageIndex === 0 && !this.plan) this.log.info({ argv: plan.argv, images: spec.files.length }, 'capture pipeline');
    this.plan = plan;
    this.launch(plan);
  }

  private launch(plan: CommandPlan): void {
    this.assembler.setFormat(
      {
        width: plan.width,
        height: plan.height,
        order: this.config.pixel_order,
        sourceWidth: plan.source.width,
        sourceHeight: plan.source.height,
      },
      this.frameTiming(plan),
    );
    this.stderrTail = [];
    this.runFrames = 0;
    this.runStartedAt = this.lastFrameAt = Date.now();
    const child = spawn(plan.argv[0], plan.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let spawnError: NodeJS.ErrnoException | null = null;
    child.on('error', (e: NodeJS.ErrnoException) => (spawnError = e));
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split(/\r?\n/)) if (line.trim()) this.stderrTail.push(line.trim());
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.splice(0, this.stderrTail.length - STDERR_LINES);
    });
    child.on('close', (code, signal) => {
      if (child !== this.child) return;
      this.child = null;
      this.onExit(plan, code, signal, spawnError);
    });
    this.armStallWatch();
  }

  /**
   * Source index and time of this run's frames (CapturedFrame.index / mediaMs). A file's run starts at its frame 0
   * (a loop pass, a restart after a failure) and its time runs on from where the last run ended.
   */
  private frameTiming(plan: CommandPlan): FrameTiming {
    const kind = this.spec?.kind;
    if (kind === 'file' && plan.source.fps > 0)
      return { fps: plan.source.fps, keep: plan.keep, firstIndex: 0, offsetMs: this.assembler.mediaEndMs };
    if (kind === 'images')
      return { fps: this.config.image_fps, keep: { num: 1, den: 1 }, firstIndex: this.imageIndex, offsetMs: this.imagePassOffsetMs };
    return LIVE_TIMING;
  }

  private onData(chunk: Buffer): void {
    if (this.pending) {
      // Data that arrived around the pause: keep it in order behind what is already waiting.
      this.pending = Buffer.concat([this.pending, chunk]);
      return;
    }
    const used = this.assembler.push(chunk);
    if (used < chunk.length) {
      this.pending = chunk.subarray(used);
      this.child?.stdout?.pause();
    }
  }

  /** Moves waiting bytes into freed pool buffers and lets the capture process write again once all fit. */
  private feedPending(): void {
    if (!this.pending) return;
    const used = this.assembler.push(this.pending);
    this.pending = used < this.pending.length ? this.pending.subarray(used) : null;
    if (!this.pending) this.child?.stdout?.resume();
  }

  private onFrame(): void {
    this.runFrames++;
    this.imagePassFrames++;
    this.lastFrameAt = Date.now();
    this.failures = 0;
    // Frames still buffered when the process ended are delivered after `ended`: that state must stay,
    // or the consumer's next() after the last frame would wait forever.
    if (this.state === 'starting' || this.state === 'retrying') this.setState('running');
    if (this.waiter) {
      const frame = this.assembler.take(this.realtime);
      const resolve = this.waiter;
      this.waiter = null;
      resolve(frame);
    }
  }

  private onExit(plan: CommandPlan, code: number | null, signal: NodeJS.Signals | null, spawnError: NodeJS.ErrnoException | null): void {
    this.disarmStallWatch();
    const program = basename(plan.argv[0]);
    if (spawnError) {
      this.fail(spawnError.code === 'ENOENT' ? `${program} not found (is it installed?)` : `cannot start ${program}: ${spawnError.message}`);
      return;
    }
    const frameBytes = plan.width * plan.height * 3;
    // Bytes still waiting for a free pool buffer (every-frame backpressure) are whole frames, not a truncation.
    const leftover = (this.assembler.partialBytes + (this.pending?.length ?? 0)) % frameBytes;
    if (leftover > 0) this.log.warn(`${program} output ended inside a frame (${leftover} of ${frameBytes} bytes); dropped it`);
    const why = code === null ? `${program} was killed by ${signal}` : `${program} exited ${code}`;
    const detail = `${why}: ${lastLine(this.stderrTail.join('\n'))}`;
    const spec = this.spec!;

    if (spec.kind === 'images') {
      if (code !== 0 || this.runFrames === 0) this.reportProblem(`cannot decode image ${spec.files[this.imageIndex]}: ${detail}`);
      this.afterImage();
    } else if (code !== 0) {
      this.fail(detail);
    } else if (!endsByItself(spec)) {
      this.fail(`${this.config.uri} ended (${why})`);
    } else if (this.runFrames === 0) {
      this.fail(`${program} decoded no frames from ${this.config.uri}: ${lastLine(this.stderrTail.join('\n'))}`);
    } else if (this.config.loop) {
      this.launch(plan);
    } else {
      this.end();
    }
  }

  /** Moves to the next image: paced by image_fps in realtime mode, at once in every-frame mode. */
  private afterImage(): void {
    const spec = this.spec as Extract<SourceSpec, { kind: 'images' }>;
    this.imageIndex++;
    if (this.imageIndex >= spec.files.length) {
      if (this.imagePassFrames === 0) return this.fail(`no image in ${spec.dir} could be decoded`);
      if (!this.config.loop) return this.end();
      this.imageIndex = 0;
      this.imagePassFrames = 0;
      this.imagePassOffsetMs = this.assembler.mediaEndMs;
    }
    const generation = this.generation;
    const wait = this.realtime ? Math.max(0, 1000 / this.config.image_fps - (Date.now() - this.runStartedAt)) : 0;
    this.imageTimer = setTimeout(() => {
      this.imageTimer = null;
      if (generation === this.generation) void this.launchImage(generation);
    }, wait);
  }

  private fail(message: string): void {
    if (this.stopping) return;
    this.failures++;
    this.lastError = message;
    const delay = Math.min(this.config.retry.max_ms, this.config.retry.min_ms * 2 ** (this.failures - 1));
    this.log.error({ source: this.config.uri, retry_in_ms: delay }, `capture: ${message}`);
    this.emit('problem', message);
    this.setState('retrying');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.restarts++;
      void this.attempt();
    }, delay);
  }

  private reportProblem(message: string): void {
    this.lastError = message;
    this.log.warn({ source: this.config.uri }, `capture: ${message}`);
    this.emit('problem', message);
  }

  private end(): void {
    this.log.info({ source: this.config.uri, frames: this.assembler.frames }, 'capture: source ended');
    this.setState('ended');
    this.resolveWaiter();
  }

  /** Watches for a run that stops delivering frames without exiting (a hung stream or camera). */
  private armStallWatch(): void {
    this.disarmStallWatch();
    const timeout = this.config.stall_timeout_ms;
    if (timeout <= 0) return;
    this.stallTimer = setInterval(() => {
      // Waiting on a busy consumer (every-frame backpressure) is not a stall.
      if (this.pending || !this.assembler.canAccept) this.lastFrameAt = Date.now();
      if (Date.now() - this.lastFrameAt < timeout || !this.child) return;
      const child = this.child;
      this.child = null;
      this.disarmStallWatch();
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      child.kill('SIGKILL');
      this.pending = null;
      this.fail(`no frame from ${this.config.uri} for ${timeout} ms; restarting the capture process`);
    }, Math.min(1000, Math.max(50, timeout / 4)));
    this.stallTimer.unref();
  }

  private disarmStallWatch(): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stallTimer = null;
  }

  private clearTimers(): void {
    this.disarmStallWatch();
    for (const t of [this.retryTimer, this.imageTimer]) if (t) clearTimeout(t);
    this.retryTimer = this.imageTimer = null;
  }

  private setState(state: CaptureState): void {
    if (state === this.state) return;
    this.state = state;
    this.emit('state', state);
  }

  private resolveWaiter(): void {
    const resolve = this.waiter;
    this.waiter = null;
    resolve?.(this.assembler.take(this.realtime));
  }
}
