// Synthetic walkers in the COCO-18 (OpenPose) layout for tracker tests: a stick figure with swinging limbs.

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
  x: number;
  y: number;
  /** Body height in pixels. */
  height: number;
  /** Pixels per frame. */
  vx: number;
  vy: number;
}

/** The walker's pose at frame `f`, with optional deterministic jitter (pixels) and missing parts. */
export function poseAt(w: Walker, f: number, opts: { jitter?: number; missing?: number[]; seed?: number } = {}): Person {
  const kp = new Float32Array(3 * NUM_PARTS);
  const cx = w.x + w.vx * f, cy = w.y + w.vy * f;
  const swing = Math.sin(f * 0.4) * 0.08;
  let rnd = (opts.seed ?? 1) * 7919 + f * 104729;
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
  return { score: 10, parts: NUM_PARTS - (opts.missing?.length ?? 0), keypoints: kp };
}
