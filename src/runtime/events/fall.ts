// Person down / fall, per tracked person, from keypoints over source time. Pure: the caller passes the time.
//
// The published rules this follows (read, not copied): Chen et al., Symmetry 2020 12(5):744 ("Fall detection
// based on key points of human-skeleton using OpenPose") — a fast descent of the hip centre, then the body line
// turned towards the ground (< 45° to it) or a box wider than tall, and no standing up afterwards; OpenDR's
// rule-based detector on Lightweight OpenPose — torso and legs angles in one frame; Ambianic's fall_detect —
// the body's lean compared across frames 1–2 s apart. One frame's posture is not enough here: this network
// finds a lying person only in some frames and often as a fragment (fall-01: none at all for 1.2 s after the
// impact), so the detector keys on the descent, which it sees while the person is still upright enough to be
// found, and then on what follows it:
//
//   normal ──fast hip drop──▶ falling ──looks lying (or vanishes tipping over)──▶ pending ──confirm_s──▶ down
//      ▲                        │ rises / nothing within lie_within_s                │ rises          │
//      └────────────────────────┴───────────────────────────────────────────────────┘   upright clear_s
//
// "Looks lying": torso ≥ lying_torso_deg from vertical, or a keypoint box wider than tall (with enough parts to be
// a body, not a fragment), or a foreshortened torso with the hips at or below where the feet were before the fall
// (a fall towards the camera turns the torso in depth, not in the image). "Rises": an upright, not
// foreshortened torso with the hips back up by rise_min torso lengths. Lengths are in torso lengths measured
// while the person stood (or sat) upright, so the rules hold at any distance from the camera.

import type { BodyFrame } from './body.js';
import type { PersonDownConfig } from './config-schema.js';

export type FallPhase = 'normal' | 'falling' | 'pending' | 'down';

/** What one observation did. */
export type FallChange = 'fall' | 'cleared' | null;

/** Hip samples kept for the descent window; more than a window holds at 60 fps. */
const RING = 64;
/** Body-scale learning rate while upright (EMA); ~5 frames to follow a person walking towards the camera. */
const SCALE_GAIN = 0.2;
/** A torso shorter than this share of the upright one is foreshortened (lying towards the camera), not upright. */
const FORESHORTENED = 0.6;
/** A keypoint box counts as a body for the wide-box rule only with this many parts and this width (torso lengths). */
const WIDE_MIN_PARTS = 5;
const WIDE_MIN_WIDTH = 0.8;
/**
 * Lost while tipping over: after the descent the person was last seen leaning at least this far (fall-01: 74°
 * when the network lost them) and not again for LOST_S. A squat (≤ 40°) or sitting (≤ 45°) that loses the
 * person does not count.
 */
const VANISH_LEAN_DEG = 45;
const LOST_S = 0.3;
/** Standing frames (torso upright, ≥ this many parts) teach the body scale and the floor line. */
const SCALE_MIN_PARTS = 8;
/** Floor line (ankles while upright) older than this is not trusted for the hips-on-the-floor rule. */
const FLOOR_MAX_AGE_S = 3;

export class FallTrack {
  phase: FallPhase = 'normal';
  /** Upright torso length, px (0 until seen upright). */
  scale = 0;
  /** Source time the phase last changed to falling / the person first looked lying, ms. */
  fallStartMs = NaN;
  downSinceMs = NaN;
  /** Lowest hip position (largest y) since the descent started. */
  lowHipY = NaN;
  /** Where the person was last seen while falling or down (hip midpoint, else box centre), px. */
  spotX = NaN;
  spotY = NaN;

  private floorY = NaN;
  private floorMs = -Infinity;
  private floorAtFall = NaN;
  private lastLeanDeg = NaN;
  private lastTorsoMs = -Infinity;
  private upSinceMs = NaN;
  private readonly ringT = new Float64Array(RING);
  private readonly ringY = new Float64Array(RING);
  private ringHead = 0;
  private ringSize = 0;

  /** Whether `b` shows an upright person (torso near vertical and not foreshortened). */
  isUpright(b: BodyFrame, c: PersonDownConfig): boolean {
    return b.torso > 0 && b.torsoDeg < c.upright_torso_deg && (this.scale === 0 || b.torso >= FORESHORTENED * this.scale);
  }

  /** One frame in which the person was seen. */
  observe(b: BodyFrame, nowMs: number, c: PersonDownConfig): FallChange {
    const upright = this.isUpright(b, c);
    if (this.phase === 'normal') this.learn(b, upright, nowMs, c);
    const hip = b.hipY === b.hipY;
    if (hip) this.pushHip(nowMs, b.hipY);
    if (b.torso > 0) {
      this.lastLeanDeg = b.torsoDeg;
      this.lastTorsoMs = nowMs;
    }
    if (this.phase !== 'normal') {
      if (hip && !(b.hipY <= this.lowHipY)) this.lowHipY = b.hipY;
      this.spotX = hip ? b.hipX : (b.minX + b.maxX) / 2;
      this.spotY = hip ? b.hipY : (b.minY + b.maxY) / 2;
    }
    const s = this.scale;
    const risen = upright && hip && b.hipY <= this.lowHipY - c.rise_min * s;

    switch (this.phase) {
      case 'normal': {
        if (s > 0 && hip && b.hipY - this.highestHip(nowMs - c.descent_window_s * 1000) >= c.descent_min * s) {
          this.phase = 'falling';
          this.fallStartMs = nowMs;
          this.lowHipY = b.hipY;
          this.floorAtFall = nowMs - this.floorMs <= FLOOR_MAX_AGE_S * 1000 ? this.floorY : NaN;
          this.spotX = b.hipX;
          this.spotY = b.hipY;
          if (this.looksLying(b, upright, c)) this.toPending(nowMs);
        }
        return null;
      }
      case 'falling':
        if (this.looksLying(b, upright, c)) this.toPending(nowMs);
        else if (risen) this.reset();
        else this.expire(nowMs, c);
        return null;
      case 'pending':
        if (risen) {
          this.reset();
          return null;
        }
        return this.confirm(nowMs, c);
      case 'down':
        if (risen) {
          if (!(this.upSinceMs <= nowMs)) this.upSinceMs = nowMs;
          if (nowMs - this.upSinceMs >= c.clear_s * 1000) {
            this.reset();
            return 'cleared';
          }
        } else if (b.torso > 0) this.upSinceMs = NaN;
        return null;
    }
  }

  /** A frame in which the person was not seen (lost, or not found by the network). */
  miss(nowMs: number, c: PersonDownConfig): FallChange {
    if (this.phase === 'falling') this.expire(nowMs, c);
    if (this.phase === 'pending') return this.confirm(nowMs, c);
    return null;
  }

  /** Clears a `down` person from outside (someone stood up at the spot, or forget_s ran out). */
  reset(): void {
    this.phase = 'normal';
    this.fallStartMs = this.downSinceMs = this.lowHipY = NaN;
    this.upSinceMs = NaN;
    // The descent that started this must not start it again.
    this.ringSize = 0;
  }

  private learn(b: BodyFrame, upright: boolean, nowMs: number, c: PersonDownConfig): void {
    if (b.parts < SCALE_MIN_PARTS || !(b.torso > 0)) return;
    if (upright) {
      this.scale = this.scale === 0 ? b.torso : this.scale + SCALE_GAIN * (b.torso - this.scale);
      if (b.ankleY === b.ankleY) {
        this.floorY = b.ankleY;
        this.floorMs = nowMs;
      }
    } else if (this.scale === 0 && b.torsoDeg < 1.5 * c.upright_torso_deg) {
      // Never seen upright yet (first seen sitting, leaning): a first guess, replaced once upright.
      this.scale = b.torso;
    }
  }

  private looksLying(b: BodyFrame, upright: boolean, c: PersonDownConfig): boolean {
    if (upright) return false;
    if (b.torso > 0 && b.torsoDeg >= c.lying_torso_deg) return true;
    if (b.parts >= WIDE_MIN_PARTS && b.width >= c.wide_ratio * b.height && b.width >= WIDE_MIN_WIDTH * this.scale) return true;
    // Fallen towards the camera: the torso is foreshortened, not turned, but the hips lie where the feet stood.
    return b.torso < FORESHORTENED * this.scale && b.hipY === b.hipY && this.floorAtFall === this.floorAtFall && b.hipY >= this.floorAtFall;
  }

  private toPending(nowMs: number): void {
    this.phase = 'pending';
    this.downSinceMs = nowMs;
  }

  /** Falling for lie_within_s without looking lying: a squat or sitting down, unless the person vanished tipping over. */
  private expire(nowMs: number, c: PersonDownConfig): void {
    if (nowMs - this.fallStartMs < c.lie_within_s * 1000) return;
    if (this.lastLeanDeg >= VANISH_LEAN_DEG && nowMs - this.lastTorsoMs >= LOST_S * 1000) {
      this.phase = 'pending';
      this.downSinceMs = this.lastTorsoMs;
    } else this.reset();
  }

  private confirm(nowMs: number, c: PersonDownConfig): FallChange {
    if (nowMs - this.downSinceMs < c.confirm_s * 1000) return null;
    this.phase = 'down';
    this.upSinceMs = NaN;
    return 'fall';
  }

  private pushHip(tMs: number, y: number): void {
    this.ringT[this.ringHead] = tMs;
    this.ringY[this.ringHead] = y;
    this.ringHead = (this.ringHead + 1) % RING;
    if (this.ringSize < RING) this.ringSize++;
  }

  /** Smallest hip y (highest point) among samples at or after `sinceMs`. */
  private highestHip(sinceMs: number): number {
    let best = Infinity;
    for (let i = 0, j = this.ringHead; i < this.ringSize; i++) {
      j = j === 0 ? RING - 1 : j - 1;
      if (this.ringT[j] < sinceMs) break;
      if (this.ringY[j] < best) best = this.ringY[j];
    }
    return best;
  }
}
