// Adaptive net input height. Pure: no timers, no I/O; the caller passes the time, the measured FPS
// and the hottest relevant temperature, and applies the height it gets back.
//
// Rules, in order of precedence:
//   1. pinned height: never changes;
//   2. hottest zone >= hard limit: drop to the smallest step at once (no dwell);
//   3. hottest zone >= soft limit, or FPS below target: after `down_dwell_ms` of it, step down
//      (for FPS, straight to the largest step predicted to meet the target);
//   4. FPS predicted for the next larger step >= target × (1 + headroom) and the zone at least
//      `hysteresis_c` under the soft limit: after `up_dwell_ms` of it, step up one step.
// A step that is entered from below and left downwards again (FPS or heat) before it has held for
// `max_backoff_ms` is not retried for 2 × up_dwell_ms, doubling per failure up to `max_backoff_ms`:
// a size that cannot hold its rate or its temperature is probed ever more rarely instead of flapping.
// Neither FPS nor heat at a larger size can be known before trying it (the heat shows only minutes
// later), so a bounded, ever rarer probe is the price of finding capacity again when conditions ease.

import type { NetSize } from '../runtime/backend.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { TelemetryConfig, ScaleConfig } from './config-schema.js';

export type ScaleReason = 'hold' | 'pinned' | 'hard-limit' | 'thermal' | 'fps-shortfall' | 'headroom';

export interface ScaleInput {
  /** Monotonic time, ms. */
  nowMs: number;
  /** Measured FPS at the current height; null while unknown (no frames yet). */
  fps: number | null;
  /** Hottest relevant thermal zone, °C; null when the board has no usable sensor. */
  tempC: number | null;
  /**
   * FPS the pipeline could reach at this height if the source were not the limit (1000 / busy ms
   * per frame). Needed to see headroom behind a camera that caps the rate; defaults to `fps`.
   */
  capacityFps?: number | null;
}

export interface ScaleDecision {
  height: number;
  changed: boolean;
  reason: ScaleReason;
  /** Height before this decision. */
  from: number;
}

export interface ScaleControllerOptions {
  /** Heights, largest first (resolveLadder's output). */
  ladder: readonly number[];
  targetFps: number;
  softLimitC: number;
  hardLimitC: number;
  hysteresisC: number;
  downDwellMs: number;
  upDwellMs: number;
  fpsTolerance: number;
  upHeadroom: number;
  maxBackoffMs: number;
  /** Fixed height: the controller never changes it. */
  pinned?: boolean;
  /** Starting height (must be a ladder step); default the largest. */
  startHeight?: number;
}

export class LadderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LadderError';
  }
}

type Profile = Pick<ModelManifest, 'name' | 'stride' | 'input_size'>;

/**
 * The ladder the controller will use, largest first: the configured heights (or the pinned one),
 * inside the config's min/max bounds. Every step must be a stride multiple inside the model's
 * input_size range, which is the TensorRT optimisation profile's height range, so switching steps
 * never needs an engine rebuild. Throws one LadderError listing every problem.
 */
export function resolveLadder(scale: ScaleConfig, model: Profile): number[] {
  const { stride, input_size: range } = model;
  const errors: string[] = [];
  const check = (h: number, where: string): void => {
    if (h % stride !== 0) errors.push(`${where}: ${h} is not a multiple of the model stride ${stride}`);
    if (h < range.min_height || h > range.max_height)
      errors.push(`${where}: ${h} is outside ${model.name}'s input range ${range.min_height}..${range.max_height} (the engine's shape profile)`);
  };
  let heights: number[];
  if (scale.pinned_height > 0) {
    check(scale.pinned_height, '/telemetry/scale/pinned_height');
    heights = [scale.pinned_height];
  } else {
    scale.ladder.forEach((h, i) => check(h, `/telemetry/scale/ladder/${i}`));
    const lo = scale.min_height || 0;
    const hi = scale.max_height || Infinity;
    heights = [...new Set(scale.ladder)].filter((h) => h >= lo && h <= hi).sort((a, b) => b - a);
    if (!heights.length) errors.push(`/telemetry/scale: no ladder step lies within min_height..max_height (${lo}..${scale.max_height || 'any'})`);
  }
  if (errors.length) throw new LadderError(`scale ladder is invalid:\n  ${errors.join('\n  ')}`);
  return heights;
}


/**
 * Controller options from the telemetry config and a resolved ladder. With `scale.enabled` false
 * the agent should not run a controller at all (it runs at inference.height).
 */
export function scaleOptionsFromConfig(config: TelemetryConfig, ladder: readonly number[], startHeight?: number): ScaleControllerOptions {
  const s = config.scale;
  return {
    ladder,
    targetFps: s.target_fps,
    softLimitC: config.thermal.soft_limit_c,
    hardLimitC: config.thermal.hard_limit_c,
    hysteresisC: config.thermal.hysteresis_c,
    downDwellMs: s.down_dwell_ms,
    upDwellMs: s.up_dwell_ms,
    fpsTolerance: s.fps_tolerance,
    upHeadroom: s.up_headroom,
    maxBackoffMs: s.max_backoff_ms,
    pinned: s.pinned_height > 0,
    startHeight: startHeight !== undefined && ladder.includes(startHeight) ? startHeight : undefined,
  };
}

export class ScaleController {
  private readonly ladder: readonly number[];
  private index: number;
  private enteredAtMs: number | null = null;
  private enteredFromBelow = false;
  /** Start of the current uninterrupted stretch of "should go down" / "could go up"; null when not in one. */
  private downSinceMs: number | null = null;
  private upSinceMs: number | null = null;
  private readonly failures: Uint32Array;
  private readonly retryAfterMs: Float64Array;

  constructor(private readonly o: ScaleControllerOptions) {
    if (!o.ladder.length) throw new LadderError('scale ladder is empty');
    for (let i = 1; i < o.ladder.length; i++)
      if (!(o.ladder[i] < o.ladder[i - 1])) throw new LadderError('scale ladder must be strictly decreasing');
    if (!(o.softLimitC < o.hardLimitC)) throw new LadderError('soft limit must be below the hard limit');
    this.ladder = [...o.ladder];
    const start = o.startHeight ?? o.ladder[0];
    this.index = this.ladder.indexOf(start);
    if (this.index < 0) throw new LadderError(`start height ${start} is not a ladder step`);
    this.failures = new Uint32Array(this.ladder.length);
    this.retryAfterMs = new Float64Array(this.ladder.length).fill(-Infinity);
  }

  get height(): number {
    return this.ladder[this.index];
  }

  get steps(): readonly number[] {
    return this.ladder;
  }

  /**
   * Adopts a height chosen elsewhere (a live `inference.height` change) as the current step, so the
   * controller continues from where the pipeline is instead of from its own stale copy. Dwell timers
   * restart; no probe is counted as failed. Returns false for a height that is not a ladder step.
   */
  follow(height: number, nowMs: number): boolean {
    const index = this.ladder.indexOf(height);
    if (index < 0) return false;
    if (index === this.index) return true;
    this.index = index;
    this.enteredAtMs = nowMs;
    this.enteredFromBelow = false;
    this.downSinceMs = this.upSinceMs = null;
    return true;
  }

  update(input: ScaleInput): ScaleDecision {
    const { nowMs, fps, tempC } = input;
    const from = this.height;
    this.enteredAtMs ??= nowMs;
    if (this.o.pinned) return this.decide(from, false, 'pinned');

    const bottom = this.ladder.length - 1;
    const atStepMs = nowMs - this.enteredAtMs;
    if (tempC !== null && tempC >= this.o.hardLimitC) {
      this.downSinceMs = this.upSinceMs = null;
      if (this.index === bottom) return this.decide(from, false, 'hard-limit');
      return this.move(bottom, nowMs, from, 'hard-limit');
    }

    // A step entered from below that has held for the longest backoff has proved itself.
    if (this.enteredFromBelow && atStepMs >= this.o.maxBackoffMs) this.failures[this.index] = 0;

    const tooHot = tempC !== null && tempC >= this.o.softLimitC;
    const tooSlow = fps !== null && fps < this.o.targetFps * (1 - this.o.fpsTolerance);

    if (tooHot || tooSlow) {
      this.upSinceMs = null;
      this.downSinceMs ??= nowMs;
      const settled = nowMs - this.downSinceMs >= this.o.downDwellMs && atStepMs >= this.o.downDwellMs;
      if (!settled || this.index === bottom) return this.decide(from, false, 'hold');
      if (tooHot) return this.move(this.index + 1, nowMs, from, 'thermal');
      return this.move(this.largestStepMeeting(fps!, this.o.targetFps), nowMs, from, 'fps-shortfall');
    }
    this.downSinceMs = null;

    const cool = tempC === null || tempC < this.o.softLimitC - this.o.hysteresisC;
    const capacity = input.capacityFps ?? fps;
    const up = this.index - 1;
    const roomAbove =
      up >= 0 && cool && capacity !== null && this.predictFps(capacity, up) >= this.o.targetFps * (1 + this.o.upHeadroom);
    if (!roomAbove) {
      this.upSinceMs = null;
      return this.decide(from, false, 'hold');
    }
    this.upSinceMs ??= nowMs;
    if (nowMs - this.upSinceMs >= this.o.upDwellMs && atStepMs >= this.o.upDwellMs && nowMs >= this.retryAfterMs[up]) {
      return this.move(up, nowMs, from, 'headroom');
    }
    return this.decide(from, false, 'hold');
  }

  /** Inference cost grows with pixels and width follows height, so FPS scales with 1 / height². */
  private predictFps(fpsHere: number, step: number): number {
    const r = this.height / this.ladder[step];
    return fpsHere * r * r;
  }

  /** Largest step below the current one predicted to reach `target`; the bottom when none is. */
  private largestStepMeeting(fps: number, target: number): number {
    for (let i = this.index + 1; i < this.ladder.length; i++) if (this.predictFps(fps, i) >= target) return i;
    return this.ladder.length - 1;
  }

  private noteFailedProbe(step: number, nowMs: number): void {
    this.failures[step]++;
    const wait = Math.min(this.o.maxBackoffMs, this.o.upDwellMs * 2 ** this.failures[step]);
    this.retryAfterMs[step] = nowMs + wait;
  }

  private move(to: number, nowMs: number, from: number, reason: ScaleReason): ScaleDecision {
    // Leaving a step we climbed into before it proved itself: that probe failed, back off from it.
    if (to > this.index && this.enteredFromBelow) this.noteFailedProbe(this.index, nowMs);
    this.enteredFromBelow = to < this.index;
    this.index = to;
    this.enteredAtMs = nowMs;
    this.downSinceMs = this.upSinceMs = null;
    return this.decide(from, true, reason);
  }

  private decide(from: number, changed: boolean, reason: ScaleReason): ScaleDecision {
    return { height: this.height, changed, reason, from };
  }
}
