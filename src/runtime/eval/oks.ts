// Object Keypoint Similarity between one detection and one ground-truth person, as COCOeval.computeOks
// defines it (https://cocodataset.org/#keypoints-eval):
//   OKS = mean over labelled gt keypoints of exp(-d² / (2 · area · (2σ)²))
// A gt with no labelled keypoint is compared by how far each detected keypoint lies outside the gt box
// grown by one box size on every side, averaged over all 17 keypoints.

import { COCO_KEYPOINTS, type GtPerson } from './ground-truth.js';
import { numpySum } from './numpy-sum.js';

/** Per-keypoint falloff σ of COCO-17 (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles). */
export const COCO_SIGMAS: readonly number[] = [
  0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
].map((s) => s / 10);

/** (2σ)² in numpy's operation order (it squares as x·x), so OKS follows pycocotools' arithmetic step by step. */
const VARIANCES = Float64Array.from(COCO_SIGMAS, (s) => (s * 2) * (s * 2));

/** numpy's np.spacing(1): keeps a zero-area gt from dividing by zero. */
const EPS = 2.220446049250313e-16;

const terms = new Float64Array(COCO_KEYPOINTS);

/** OKS of detection keypoints `dt` (17 × (x, y, score); the score is not used) against `gt`. */
export function oks(dt: ArrayLike<number>, gt: GtPerson): number {
  const g = gt.keypoints;
  const scale = gt.area + EPS;
  let labelled = 0;
  for (let k = 0; k < COCO_KEYPOINTS; k++) if (g[3 * k + 2] > 0) labelled++;
  let n = 0;
  if (labelled > 0) {
    for (let k = 0; k < COCO_KEYPOINTS; k++) {
      if (!(g[3 * k + 2] > 0)) continue;
      const dx = dt[3 * k] - g[3 * k];
      const dy = dt[3 * k + 1] - g[3 * k + 1];
      terms[n++] = Math.exp(-((dx * dx + dy * dy) / VARIANCES[k] / scale / 2));
    }
  } else {
    const [bx, by, bw, bh] = gt.bbox;
    const x0 = bx - bw, x1 = bx + bw * 2;
    const y0 = by - bh, y1 = by + bh * 2;
    for (let k = 0; k < COCO_KEYPOINTS; k++) {
      const x = dt[3 * k], y = dt[3 * k + 1];
      const dx = Math.max(0, x0 - x) + Math.max(0, x - x1);
      const dy = Math.max(0, y0 - y) + Math.max(0, y - y1);
      terms[n++] = Math.exp(-((dx * dx + dy * dy) / VARIANCES[k] / scale / 2));
    }
  }
  return numpySum(terms, 0, n) / n;
}
