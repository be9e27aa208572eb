// Synthetic people in the COCO-18 (OpenPose) layout for tracker tests: a stick figure with swinging limbs that
// walks in source time, and fragments (a few parts, a low score) as the parser emits them.

import type { Person } from '../../../src/runtime/types.js';

/** Standing pose in body heights, centred on the hips: [x, y] per OpenPose COCO-18 part. */
const TEMPLATE: ReadonlyArray<[number, number]> = [
  [0, -0.45], [0, -0.35], [-0.1, -0.35], [-0.12, -0.2], [-0.13, -0.05], [0.1, -0.35], [0.12, -0.2], [0.13, -0.05],
  [-0.06, 0], [-0.06, 0.22], [-0.06, 0.45], [0.06, 0], [0.06, 0.22], [0.06, 0.45],
  [-0.02, -0.47], [0.02, -0.47], [-0.04, -0.46], [0.04, -0.46],
];
/** Parts that swing with the gait (wrists, knees, ankles), and in which direction (+1 / -1). */
const SWING: Record<number, number> = { 4: 1, 7: -1, 9: -1, 10: -1, 12: 1, 13: 1 };
export const NUM_PARTS = TEMPLATE.length;

export interface Walker {
  /** Hip centre at t = 0, px. */
  x: number;
  y: number;
  /** Body height in pixels. */
  height: number;
  /** Velocity, px per second of source time. */
  vx: number;
  vy: number;
}

export interface PoseOptions {
  /** Uniform jitter of every coordinate, ± px (deterministic per seed and time). */
  jitter?: number;
  /** Parts left out. */
  missing?: number[];
  seed?: number;
  score?: number;
}

/** The walker's pose at source time `tMs`. */
export function poseAt(w: Walker, tMs: number, opts: PoseOptions = {}): Person {
  const kp = new Float32Array(3 * NUM_PARTS);
  const cx = w.x + (w.vx * tMs) / 1000, cy = w.y + (w.vy * tMs) / 1000;
  const swing = Math.sin(tMs / 100) * 0.08; // a stride about every 0.6 s
  let rnd = ((opts.seed ?? 1) * 7919 + Math.round(tMs) * 104729) % 2147483648;
  const noise = () => {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    return (rnd / 2147483648 - 0.5) * 2 * (opts.jitter ?? 0);
  };
  TEMPLATE.forEach(([tx, ty], k) => {
    kp[3 * k] = cx + (tx + (SWING[k] ?? 0) * swing) * w.height + noise();
    kp[3 * k + 1] = cy + ty * w.height + noise();
    kp[3 * k + 2] = 0.8;
  });
  for (const k of opts.missing ?? []) kp.fill(0, 3 * k, 3 * k + 3);
  const parts = NUM_PARTS - (opts.missing?.length ?? 0);
  return { score: opts.score ?? 0.6, parts, keypoints: kp };
}

/** A fragment as the parser emits it: `parts` parts (default 3) around (x, y), score 0.08 (street.avi's are 0.03–0.1). */
export function fragmentAt(x: number, y: number, parts = 3): Person {
  const kp = new Float32Array(3 * NUM_PARTS);
  for (let k = 0; k < parts; k++) {
    kp[3 * k] = x + 4 * k;
    kp[3 * k + 1] = y + 10 * k;
    kp[3 * k + 2] = 0.3;
  }
  return { score: 0.08, parts, keypoints: kp };
}
