// Hands up and wave, per tracked person. Pure: the caller passes the time.
//
// Hands up: both wrists above their shoulders (by `margin` torso lengths) for `hold_s`; one event per raise, armed
// again once the hands were down for `rearm_s`. A frame where a wrist or shoulder is not found changes nothing
// (the network drops a wrist now and then; that must neither end a hold nor count as hands down).
// Wave: a wrist held above its shoulder that changes its sideways direction `min_swings` times within `window_s`,
// each move between turns at least `min_amplitude` torso lengths, measured relative to the neck so that a person
// walking does not wave. One event per wave, then `cooldown_s`.

import { seen, type BodyFrame, type BodyParts } from './body.js';
import type { HandsUpConfig, WaveConfig } from './config-schema.js';

/** Gestures need a roughly upright body: a lying person's arms point anywhere in the image. */
const MAX_LEAN_DEG = 45;
/** Turn times kept per wrist (min_swings ≤ 10). */
const TURNS = 12;
/** A wrist not seen raised for this long ends the current wave. */
const WAVE_GAP_MS = 400;

export type GestureChange = 'hands_up' | 'wave_left' | 'wave_right' | null;

/** Sideways swing state of one wrist (see observeSwing). */
class WristSwing {
  /** +1 moving right, -1 left, 0 not yet moved far enough. */
  dir = 0;
  /** Before the first full move: the range seen so far. After it: the extreme of the current move. */
  lo = NaN;
  hi = NaN;
  extreme = NaN;
  lastMs = -Infinity;
  readonly turns = new Float64Array(TURNS);
  turnCount = 0;
  cooldownUntil = -Infinity;

  reset(): void {
    this.dir = 0;
    this.lo = this.hi = this.extreme = NaN;
    this.turnCount = 0;
  }
}

export class GestureTrack {
  private raisedSinceMs = NaN;
  private loweredSinceMs = NaN;
  private fired = false;
  private readonly swing: [WristSwing, WristSwing] = [new WristSwing(), new WristSwing()];
  /** The wrist sample observeSwing reads (a field, not an argument: see BodyFrame.atMs). */
  private sampleX = NaN;

  /**
   * One observed frame (time: b.atMs; body scale: fall.scale); returns at most one gesture (hands up wins over a
   * wave in the same frame).
   */
  observe(kp: ArrayLike<number>, b: BodyFrame, p: BodyParts, fall: { readonly scale: number }, hands: HandsUpConfig, wave: WaveConfig): GestureChange {
    if (b.torso > 0 && b.torsoDeg > MAX_LEAN_DEG) return null;
    const nowMs = b.atMs;
    // No NaN in this merge: a NaN constant among the doubles made V8 box them (measured with --trace-gc).
    let unit = fall.scale;
    if (!(unit > 0)) {
      if (!(b.torso > 0)) return null;
      unit = b.torso;
    }
    let result: GestureChange = null;

    let raised = 0, down = 0;
    for (let s = 0; s < 2; s++) {
      const w = p.wrist[s];
      const sh = seen(kp, p.shoulder[s]) ? p.shoulder[s] : seen(kp, p.neck) ? p.neck : -1;
      if (!seen(kp, w) || sh < 0) continue;
      const above = (kp[3 * sh + 1] - kp[3 * w + 1]) / unit;
      if (above >= hands.margin) raised++;
      else down++;
      if (wave.enabled && above > 0 && b.neckX === b.neckX) {
        this.sampleX = (kp[3 * w] - b.neckX) / unit;
        if (this.observeSwing(this.swing[s], b, wave)) result = s === 0 ? 'wave_right' : 'wave_left';
      }
    }
    if (hands.enabled) {
      if (raised === 2) {
        this.loweredSinceMs = NaN;
        if (!(this.raisedSinceMs <= nowMs)) this.raisedSinceMs = nowMs;
        if (!this.fired && nowMs - this.raisedSinceMs >= hands.hold_s * 1000) {
          this.fired = true;
          return 'hands_up';
        }
      } else if (down > 0) {
        this.raisedSinceMs = NaN;
        if (!(this.loweredSinceMs <= nowMs)) this.loweredSinceMs = nowMs;
        if (this.fired && nowMs - this.loweredSinceMs >= hands.rearm_s * 1000) this.fired = false;
      }
    }
    return result;
  }

  /** A raised-wrist sample (this.sampleX: x relative to the neck, in torso lengths); true when it completes a wave. */
  private observeSwing(w: WristSwing, b: BodyFrame, c: WaveConfig): boolean {
    const x = this.sampleX, nowMs = b.atMs;
    if (nowMs - w.lastMs > WAVE_GAP_MS) w.reset();
    w.lastMs = nowMs;
    if (w.dir === 0) {
      if (!(x >= w.lo)) w.lo = x;
      if (!(x <= w.hi)) w.hi = x;
      if (w.hi - w.lo < c.min_amplitude) return false;
      // The first full move: its direction is towards where the wrist is now.
      w.dir = x === w.hi ? 1 : -1;
      w.extreme = x;
      return false;
    }
    if ((x - w.extreme) * w.dir >= 0) {
      w.extreme = x;
      return false;
    }
    if (Math.abs(w.extreme - x) < c.min_amplitude) return false;
    // Turned after a full move one way, and has already come back a full move the other way.
    w.dir = -w.dir;
    w.extreme = x;
    w.turns[w.turnCount % TURNS] = nowMs;
    w.turnCount++;
    if (nowMs < w.cooldownUntil || w.turnCount < c.min_swings) return false;
    const oldest = w.turns[(w.turnCount - c.min_swings) % TURNS];
    if (nowMs - oldest > c.window_s * 1000) return false;
    w.cooldownUntil = nowMs + c.cooldown_s * 1000;
    w.turnCount = 0;
    return true;
  }
}
