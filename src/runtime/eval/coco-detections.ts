// Model-ordered poses → COCO-17 keypoint results. The manifest's `coco17` map says which model part
// each COCO keypoint is; parts a COCO person lacks (OpenPose's neck) are simply not read.

import { COCO_KEYPOINTS } from './ground-truth.js';
import type { KeypointDetection } from './cocoeval.js';

/**
 * 17 × (x, y, c) from K × (x, y, c) in model order. A missing part (c <= 0) becomes 0, 0, 0, which is
 * what COCO results hold for it: COCOeval then measures it as a point at the image origin.
 */
export function toCoco17(keypoints: ArrayLike<number>, coco17: readonly number[]): Float64Array {
  const out = new Float64Array(COCO_KEYPOINTS * 3);
  for (let i = 0; i < COCO_KEYPOINTS; i++) {
    const k = coco17[i];
    const c = keypoints[3 * k + 2];
    if (!(c > 0)) continue;
    out[3 * i] = keypoints[3 * k];
    out[3 * i + 1] = keypoints[3 * k + 1];
    out[3 * i + 2] = c;
  }
  return out;
}

/** One image's people (runtime `Person`s or parsed prediction lines) as COCO detections. */
export function detectionsOf(
  imageId: number,
  people: readonly { score: number; keypoints: ArrayLike<number> }[],
  coco17: readonly number[],
): KeypointDetection[] {
  return people.map((p) => ({ imageId, score: p.score, keypoints: toCoco17(p.keypoints, coco17) }));
}
