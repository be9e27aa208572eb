// Per-stage timing meters for the pose pipeline. `record` runs once per stage per frame, so it only
// writes into preallocated ring buffers; sorting for quantiles happens in `snapshot`, which runs at
// the stats interval.

export const STAGES = ['capture', 'preprocess', 'inference', 'parse', 'track', 'publish'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageSnapshot {
  /** Timings recorded since start. */
  count: number;
  /** Sum of all recorded timings, ms (for Prometheus summaries). */
  sumMs: number;
  /** Over the last `window` timings; null before the first. */
  medianMs: number | null;
  p99Ms: number | null;
  lastMs: number | null;
  drops: number;
}

export interface BackendIdentity {
  /** e.g. "onnxruntime", "tensorrt". */
  backend: string;
  /** Execution provider or device actually in use, e.g. "cpu", "cuda:0". */
  provider: string;
  precision?: string;
}

export interface MetersSnapshot {
  atMs: number;
  /** Frames completed per second over the FPS window at the current net size; null before two such frames. */
  fps: number | null;
  frames: number;
  /** Drops over all stages. */
  drops: number;
  stages: Record<Stage, StageSnapshot>;
  backend: BackendIdentity | null;
  net: { width: number; height: number } | null;
  /** Net size changes since start, by the reason given to setNetSize. */
  scaleChanges: Record<string, number>;
  /** Capture → publish latency over the recent window, ms (null before the first frame). */
  latency: { medianMs: number | null; p99Ms: number | null; count: number; sumMs: number };
}

export interface StageMetersOptions {
  /** Timings kept per stage for quantiles. */
  window?: number;
  /** FPS is measured over this much recent time. */
  fpsWindowMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

/** Fixed-size ring of doubles. */
class Ring {
  readonly values: Float64Array;
  private next = 0;
  filled = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  push(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    if (this.filled < this.values.length) this.filled++;
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }

  /** The i-th newest value (0 = newest). */
  newest(i = 0): number {
    const n = this.values.length;
    return this.values[(this.next - 1 - i + 2 * n) % n];
  }
}

class StageMeter {
  readonly ring: Ring;
  count = 0;
  sumMs = 0;
  drops = 0;

  constructor(window: number) {
    this.ring = new Ring(window);
  }
}

/** Nearest-rank quantile of the first `n` sorted values. */
function quantile(sorted: Float64Array, n: number, q: number): number {
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
}

const defaultNow = (): number => performance.now();

export class StageMeters {
  private readonly stages = new Map<Stage, StageMeter>();
  private readonly frameTimes: Ring;
  private readonly latencyMeter: StageMeter;
  private readonly scratch: Float64Array;
  private readonly now: () => number;
  private readonly fpsWindowMs: number;
  private frames = 0;
  private backend: BackendIdentity | null = null;
  private net: { width: number; height: number } | null = null;
  private readonly scaleChanges: Record<string, number> = {};

  constructor(opts: StageMetersOptions = {}) {
    const window = opts.window ?? 512;
    this.now = opts.now ?? defaultNow;
    this.fpsWindowMs = opts.fpsWindowMs ?? 5_000;
    for (const s of STAGES) this.stages.set(s, new StageMeter(window));
    this.latencyMeter = new StageMeter(window);
    // Enough frame timestamps for 1 kHz over the FPS window would be wasteful; 1024 covers 200 fps at 5 s.
    this.frameTimes = new Ring(1024);
    this.scratch = new Float64Array(window);
  }

  /** Records one stage's duration for the current frame. */
  record(stage: Stage, ms: number): void {
    const m = this.stages.get(stage)!;
    m.ring.push(ms);
    m.count++;
    m.sumMs += ms;
  }

  /** Capture → publish latency of one frame. */
  recordLatency(ms: number): void {
    const m = this.latencyMeter;
    m.ring.push(ms);
    m.count++;
    m.sumMs += ms;
  }

  /** Marks one frame as fully processed (published). */
  frame(): void {
    this.frames++;
    this.frameTimes.push(this.now());
  }

  /** Counts a frame dropped at `stage` (default capture: the source outran the pipeline). */
  drop(stage: Stage = 'capture'): void {
    this.stages.get(stage)!.drops++;
  }

  setBackend(identity: BackendIdentity): void {
    this.backend = { ...identity };
  }

  /**
   * Sets the current net size. A change counts under `reason` and restarts the FPS measurement, so
   * the controller judges the new size by its own frames, not a mix with the old size's.
   */
  setNetSize(size: { width: number; height: number }, reason = 'config'): void {
    if (this.net && (this.net.height !== size.height || this.net.width !== size.width)) {
      this.scaleChanges[reason] = (this.scaleChanges[reason] ?? 0) + 1;
      this.frameTimes.clear();
    }
    this.net = { width: size.width, height: size.height };
  }

  /**
   * FPS over the recent window. Divides by the elapsed window (not by the span between frames) so
   * a stalled pipeline reads as slow instead of keeping its last rate.
   */
  fps(): number | null {
    const now = this.now();
    const windowStart = now - this.fpsWindowMs;
    const ring = this.frameTimes;
    let n = 0;
    while (n < ring.filled && ring.newest(n) > windowStart) n++;
    const olderFramesExist = n < ring.filled || ring.filled === ring.values.length;
    if (olderFramesExist) return (n * 1000) / this.fpsWindowMs;
    // Fewer than one window since the first frame: measure from that frame.
    if (n < 2) return null;
    return ((n - 1) * 1000) / (now - ring.newest(n - 1));
  }

  private quantiles(m: StageMeter): { medianMs: number | null; p99Ms: number | null } {
    const n = m.ring.filled;
    if (n === 0) return { medianMs: null, p99Ms: null };
    const sorted = this.scratch.subarray(0, n);
    sorted.set(m.ring.values.subarray(0, n));
    sorted.sort();
    return { medianMs: quantile(sorted, n, 0.5), p99Ms: quantile(sorted, n, 0.99) };
  }

  snapshot(): MetersSnapshot {
    const stages = {} as Record<Stage, StageSnapshot>;
    let drops = 0;
    for (const [name, m] of this.stages) {
      const n = m.ring.filled;
      const { medianMs, p99Ms } = this.quantiles(m);
      drops += m.drops;
      stages[name] = { count: m.count, sumMs: m.sumMs, medianMs, p99Ms, lastMs: n ? m.ring.newest() : null, drops: m.drops };
    }
    return {
      atMs: this.now(),
      fps: this.fps(),
      frames: this.frames,
      drops,
      stages,
      backend: this.backend ? { ...this.backend } : null,
      net: this.net ? { ...this.net } : null,
      scaleChanges: { ...this.scaleChanges },
      latency: { ...this.quantiles(this.latencyMeter), count: this.latencyMeter.count, sumMs: this.latencyMeter.sumMs },
    };
  }
}
