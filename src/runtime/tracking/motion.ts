// Motion of a tracked body over source time: where its anchor (a point fixed to the body) and its size will be
// at a later time, and how sure that is. Units: px and ms of source time, so the model is right whatever the gaps
// between processed frames (every-frame files, fps_cap, realtime mode dropping 6–24 frames at a time).
//
// 'kalman': a constant-velocity Kalman filter per coordinate (anchor x, anchor y, size), as SORT and ByteTrack
// run on box centre and scale; the three axes are independent (diagonal noise), so each is a 2-state filter
// [position, velocity] with a 2×2 covariance, closed form, no matrices. Process noise is white acceleration
// scaled by body size; measurement noise by body size too (a near person's keypoints jitter more pixels).
// 'velocity': the previous tracker's idea in source time: an exponential average of the observed velocity, with
// a fixed growth of uncertainty. 'none': the body stays where it was last seen.
//
// Positions may be in image coordinates or stabilized ones (image minus the camera's estimated shift, see
// pose-tracker.ts); a prediction's variance comes in two kinds: `withCamera`, which also covers an unknown camera
// motion, and the person's own, once the camera's motion has been measured and removed.

export type MotionModel = 'kalman' | 'velocity' | 'none';

/** One axis of the constant-velocity model, at the time of the last observation. */
export interface Axis {
  p: number;
  v: number;
  /** Covariance [[p00, p01], [p01, p11]]. */
  p00: number;
  p01: number;
  p11: number;
}

export const newAxis = (): Axis => ({ p: 0, v: 0, p00: 0, p01: 0, p11: 0 });

/**
 * Kalman process noise: the velocity does a random walk; over one second it changes by about VELOCITY_WALK body
 * sizes per second, plus CAMERA_WALK_PX px/s for the camera (a pan or tilt moves near and far people by the same
 * pixels). Measurement noise: MEASUREMENT_SIGMA body sizes, but at least NOISE_FLOOR_PX (the net's resolution:
 * 720 source rows at net height 256 are 2.8 px per net pixel). Chosen on street.avi (bench/tracking.ts; a
 * hand-held camera that pans and tilts; shares at 50 / 25 / 12.5 / 6.25 fps / realtime as in config-schema.ts),
 * before tracking.camera_motion: camera walk 0: 0.923 / 0.875 / 0.785 / 0.690 / 0.650; 300: 0.924 / 0.880 /
 * 0.842 / 0.660 / 0.707; 1000: 0.949 / 0.939 / 0.922 / 0.927 / 0.797; 3000: 0.980 / 0.962 / 0.951 / 0.929 /
 * 0.773. Velocity walks 0.5 and 4, sigmas 0.02 and 0.08 and floors 1 and 6 px (at camera walk 1000) moved each
 * rate by up to 0.05, none evenly for the better. With camera_motion on (the camera walk then stays in the
 * filter's own covariance, and the second association leaves it out): 0: 0.989 / 0.976 / 0.989 / 0.967 / 0.937
 * (6.25 fps phase 0: 0.923); 1000: 0.985 / 0.985 / 0.984 / 0.976 / 0.965 (0.931); 3000: 0.923 / 0.971 / 0.980 /
 * 0.961 / 0.915 (0.969); velocity walk 0.5 / 4: within 0.02; sigma 0.02: 50 fps 0.881, 0.08: 0.976.
 */
const VELOCITY_WALK = 2;
const CAMERA_WALK_PX = 3000;
const MEASUREMENT_SIGMA = 0.04;
const NOISE_FLOOR_PX = 3;
/**
 * Velocity prior of a new track (all models), body sizes per second, one sigma; also the room left for the
 * camera's unknown motion: over the whole gap without camera_motion ('velocity' and 'none' widen a lost person's
 * search by it), over the gap since the previous update in the first association with it. street.avi opens with
 * the camera tilting at ~800 px/s; 'velocity' before camera_motion with 2 / 3 / 6: 0.974 / 0.924 / 0.896 / 0.890
 * / 0.820; 0.970 / 0.923 / 0.948 / 0.898 / 0.833; 0.969 / 0.968 / 0.949 / 0.891 / 0.841 (4: 0.970 / 0.971 /
 * 0.967 / 0.911 / 0.840); with it, 2 and 3 as 4, 6: realtime 0.941.
 */
const INITIAL_SPEED_SIZES_PER_S = 4;
/**
 * 'velocity' and 'none', once the camera's motion is removed: how far a person may have gone from the prediction,
 * body sizes per second of the gap, one sigma, growing until max_predict_ms (after that they are looked for
 * where the model put them then). street.avi (shares at 50 / 25 / 12.5 / 6.25 fps / realtime as in
 * config-schema.ts): 2: 0.987 / 0.985 / 0.980 / 0.963 / 0.956 (6.25 fps phase 0: 0.931); 2.5: 0.989 / 0.985 /
 * 0.980 / 0.968 / 0.943; 4: 0.989 / 0.985 / 0.971 / 0.970 / 0.941 (3: 0.989 / 0.985 / 0.980 / 0.969 / 0.946).
 */
const OWN_SPEED_SIZES_PER_S = 3;
/**
 * Variance of the camera's unknown motion over `dtMs` for a body of `size` px (INITIAL_SPEED_SIZES_PER_S, as the
 * search of a track seen once): the room the first association leaves before the camera's shift is measured.
 */
export function cameraMotionVar(size: number, dtMs: number): number {
  const spread = INITIAL_SPEED_SIZES_PER_S * size * 1e-3 * Math.max(0, Math.min(dtMs, 60_000));
  return spread * spread;
}
/** Measurement variance of a body of `size` px. */
const measurementVar = (size: number) => (MEASUREMENT_SIGMA * size) ** 2 + NOISE_FLOOR_PX ** 2;
/** 'velocity' model: weight of the newest observed velocity in the average (the old tracker's 0.5). */
const VELOCITY_GAIN = 0.5;

/**
 * Spectral density of the white acceleration, px²/ms³, for a body of `size` px: Var(v) grows by it per ms. Without
 * `withCamera`, the person's own part only.
 */
const accelVar = (size: number, withCamera = true) => ((VELOCITY_WALK * size) ** 2 + (withCamera ? CAMERA_WALK_PX ** 2 : 0)) * 1e-9;

/** Starts an axis at an observed position. */
export function initAxis(a: Axis, z: number, size: number): void {
  a.p = z;
  a.v = 0;
  a.p00 = measurementVar(size);
  a.p01 = 0;
  a.p11 = (INITIAL_SPEED_SIZES_PER_S * size * 1e-3) ** 2;
}

/**
 * Predicted position and its variance `dtMs` after the axis' time, into out[0], out[1]; the axis is unchanged.
 * `horizonMs` caps how far the velocity is extrapolated (a person lost for long has most likely stopped or
 * turned). `withCamera`: the variance also covers an unknown camera motion and keeps growing with the full dt;
 * without, it is the person's own uncertainty, which stops growing at the horizon.
 */
export function predictAxis(
  model: MotionModel,
  a: Axis,
  dtMs: number,
  horizonMs: number,
  size: number,
  out: Float64Array,
  withCamera = true,
): void {
  const dtv = Math.min(dtMs, horizonMs);
  if (model === 'kalman') {
    const q = accelVar(size, withCamera), dtp = withCamera ? dtMs : dtv;
    out[0] = a.p + a.v * dtv;
    out[1] = a.p00 + dtp * (2 * a.p01 + dtp * a.p11) + (q * dtp * dtp * dtp) / 3;
    return;
  }
  const v = model === 'velocity' ? a.v : 0;
  out[0] = a.p + v * dtv;
  // Uncertainty that grows linearly: the distance a body size per second covers, over the gap.
  const spread = withCamera ? INITIAL_SPEED_SIZES_PER_S * size * 1e-3 * dtMs : OWN_SPEED_SIZES_PER_S * size * 1e-3 * dtv;
  out[1] = measurementVar(size) + spread * spread;
}

/** Moves the axis to an observation `z` made `dtMs` later. */
export function observeAxis(model: MotionModel, a: Axis, z: number, dtMs: number, size: number): void {
  if (model === 'kalman') {
    if (dtMs > 0) {
      const q = accelVar(size);
      a.p += a.v * dtMs;
      a.p00 += dtMs * (2 * a.p01 + dtMs * a.p11) + (q * dtMs * dtMs * dtMs) / 3;
      a.p01 += dtMs * a.p11 + (q * dtMs * dtMs) / 2;
      a.p11 += q * dtMs;
    }
    const r = measurementVar(size);
    const s = a.p00 + r;
    const k0 = a.p00 / s, k1 = a.p01 / s;
    const innovation = z - a.p;
    a.p += k0 * innovation;
    a.v += k1 * innovation;
    const p00 = a.p00, p01 = a.p01;
    a.p00 = (1 - k0) * p00;
    a.p01 = (1 - k0) * p01;
    a.p11 -= k1 * p01;
    return;
  }
  if (model === 'velocity' && dtMs > 0) a.v += VELOCITY_GAIN * ((z - a.p) / dtMs - a.v);
  a.p = z;
}
