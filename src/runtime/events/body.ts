// Body geometry the event detectors share, computed once per person and frame from K × 3 keypoints: neck, hip
// midpoint, torso length and angle, the keypoint box and the foot point. The parts are found by name in the
// model's keypoint list, so COCO-18 (r_shoulder), BODY_25 (mid_hip) and trt_pose (right_shoulder) all work.

/** Indices of the parts the detectors use in one model's keypoint order; -1 = the model has no such part. */
export interface BodyParts {
  readonly count: number;
  readonly nose: number;
  readonly neck: number;
  readonly midHip: number;
  readonly shoulder: readonly [number, number];
  readonly elbow: readonly [number, number];
  readonly wrist: readonly [number, number];
  readonly hip: readonly [number, number];
  readonly ankle: readonly [number, number];
}

/** "right_shoulder", "RShoulder", "r_shoulder" → "r_shoulder"; "left_eye" → "l_eye"; "MidHip" → "mid_hip". */
function canonical(name: string): string {
  const snake = name
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/^([RL])([A-Z])/, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return snake.replace(/^right_/, 'r_').replace(/^left_/, 'l_');
}

/** Finds the parts by name; throws when a model lacks what the detectors cannot do without (shoulders, hips). */
export function bodyParts(keypoints: readonly string[]): BodyParts {
  const index = new Map(keypoints.map((n, i) => [canonical(n), i]));
  const at = (n: string) => index.get(n) ?? -1;
  const pair = (part: string): [number, number] => [at(`r_${part}`), at(`l_${part}`)];
  const parts: BodyParts = {
    count: keypoints.length,
    nose: at('nose'),
    neck: at('neck'),
    midHip: at('mid_hip'),
    shoulder: pair('shoulder'),
    elbow: pair('elbow'),
    wrist: pair('wrist'),
    hip: pair('hip'),
    ankle: pair('ankle'),
  };
  const missing = (['shoulder', 'hip'] as const).filter((p) => parts[p][0] < 0 && parts[p][1] < 0);
  if (missing.length) throw new Error(`events: the model's keypoints have no ${missing.join(' or ')} (got ${keypoints.join(', ')})`);
  return parts;
}

/** One person in one frame. Reused: `measure` overwrites every field. NaN = not visible. */
export class BodyFrame {
  /**
   * Source time of the frame, ms (the engine sets it before the detectors run; they read it from here because a
   * double passed as an argument to a function V8 does not inline is boxed: an allocation per call).
   */
  atMs = NaN;
  /** Parts found (confidence > 0). */
  parts = 0;
  neckX = NaN;
  neckY = NaN;
  hipX = NaN;
  hipY = NaN;
  /** Neck to hip midpoint, px (NaN without both). */
  torso = NaN;
  /** Angle of the neck→hip vector from straight down, degrees: 0 upright, 90 horizontal, 180 upside down. */
  torsoDeg = NaN;
  minX = NaN;
  minY = NaN;
  maxX = NaN;
  maxY = NaN;
  /** Ankle midpoint (or the one ankle seen), NaN when no ankle is seen. */
  ankleX = NaN;
  ankleY = NaN;
  /** Where the person stands: ankles, else hips, else the bottom centre of the keypoint box. */
  footX = NaN;
  footY = NaN;

  get width(): number {
    return this.maxX - this.minX;
  }

  get height(): number {
    return this.maxY - this.minY;
  }

  measure(kp: ArrayLike<number>, p: BodyParts): this {
    let n = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let k = 0; k < p.count; k++) {
      if (!(kp[3 * k + 2] > 0)) continue;
      n++;
      const x = kp[3 * k], y = kp[3 * k + 1];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    this.parts = n;
    // Branch on the stores, not on the locals: merging NaN into the loop's doubles made V8 box every one of them
    // (~200 B per call, measured with --trace-gc).
    if (n === 0) {
      this.minX = this.minY = this.maxX = this.maxY = NaN;
    } else {
      this.minX = minX;
      this.minY = minY;
      this.maxX = maxX;
      this.maxY = maxY;
    }

    // Neck: the model's own, else the shoulder midpoint (OpenPose defines the neck so).
    if (p.neck >= 0 && kp[3 * p.neck + 2] > 0) {
      this.neckX = kp[3 * p.neck];
      this.neckY = kp[3 * p.neck + 1];
    } else this.midpoint(kp, p.shoulder, 'neck');
    if (p.midHip >= 0 && kp[3 * p.midHip + 2] > 0) {
      this.hipX = kp[3 * p.midHip];
      this.hipY = kp[3 * p.midHip + 1];
    } else this.midpoint(kp, p.hip, 'hip');
    this.midpoint(kp, p.ankle, 'ankle');

    const dx = this.hipX - this.neckX, dy = this.hipY - this.neckY;
    // Not Math.hypot: it allocates on every call in Node 20 (~260 B, measured with --trace-gc).
    this.torso = Math.sqrt(dx * dx + dy * dy);
    this.torsoDeg = (Math.atan2(Math.abs(dx), dy) * 180) / Math.PI;

    if (this.ankleX === this.ankleX) {
      this.footX = this.ankleX;
      this.footY = this.ankleY;
    } else if (this.hipX === this.hipX) {
      this.footX = this.hipX;
      this.footY = this.hipY;
    } else {
      this.footX = (this.minX + this.maxX) / 2;
      this.footY = this.maxY;
    }
    return this;
  }

  /** Midpoint of a left/right pair, or the one side seen, into neck/hip/ankle X and Y. */
  private midpoint(kp: ArrayLike<number>, pair: readonly [number, number], into: 'neck' | 'hip' | 'ankle'): void {
    const r = pair[0], l = pair[1];
    const rOk = r >= 0 && kp[3 * r + 2] > 0, lOk = l >= 0 && kp[3 * l + 2] > 0;
    let x = NaN, y = NaN;
    if (rOk && lOk) {
      x = (kp[3 * r] + kp[3 * l]) / 2;
      y = (kp[3 * r + 1] + kp[3 * l + 1]) / 2;
    } else if (rOk || lOk) {
      const i = rOk ? r : l;
      x = kp[3 * i];
      y = kp[3 * i + 1];
    }
    if (into === 'neck') {
      this.neckX = x;
      this.neckY = y;
    } else if (into === 'hip') {
      this.hipX = x;
      this.hipY = y;
    } else {
      this.ankleX = x;
      this.ankleY = y;
    }
  }
}

/** A keypoint's (x, y) if seen, for the gesture detectors. */
export function seen(kp: ArrayLike<number>, k: number): boolean {
  return k >= 0 && kp[3 * k + 2] > 0;
}
