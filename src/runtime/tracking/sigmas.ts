// Per-keypoint OKS sigmas: how far (relative to person size) a keypoint may move and still count as the same.

import type { ModelManifest } from '../manifest.js';

/** COCO's keypoint sigmas, in COCO-17 order (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles). */
export const COCO17_SIGMAS: readonly number[] = [
  0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
];

/**
 * Sigmas for parts COCO does not annotate, by name: the neck sits between the shoulders, a mid hip between the hips,
 * toes and heels move with the ankles. Anything else gets DEFAULT_SIGMA, a middling value (between wrist and shoulder).
 */
const NAMED_FALLBACKS: ReadonlyArray<[RegExp, number]> = [
  [/neck/i, 0.079],
  [/hip/i, 0.107],
  [/toe|heel|foot|feet/i, 0.089],
];
export const DEFAULT_SIGMA = 0.08;

/** One sigma per model keypoint (Float32Array of length K), from the manifest's COCO-17 map and part names. */
export function sigmasFor(manifest: Pick<ModelManifest, 'keypoints' | 'coco17'>): Float32Array {
  const sigmas = new Float32Array(manifest.keypoints.length).fill(Number.NaN);
  manifest.coco17.forEach((modelIndex, cocoIndex) => {
    sigmas[modelIndex] = COCO17_SIGMAS[cocoIndex];
  });
  manifest.keypoints.forEach((name, i) => {
    if (!Number.isNaN(sigmas[i])) return;
    sigmas[i] = NAMED_FALLBACKS.find(([pattern]) => pattern.test(name))?.[1] ?? DEFAULT_SIGMA;
  });
  return sigmas;
}
