// Accuracy and speed of one model at several net heights over the same ground-truth images, so the
// trade-off the adaptive scaler makes at run time can be seen (and chosen) up front.

import { evaluateKeypoints, type KeypointDetection, type KeypointStats } from './cocoeval.js';
import { detectionsOf } from './coco-detections.js';
import type { KeypointGroundTruth } from './ground-truth.js';
import type { PoseResult } from '../types.js';

/** The part of PoseRuntime a sweep needs (a fake in tests). */
export interface ImagePoseEstimator {
  estimateImage(path: string, height?: number): Promise<PoseResult>;
}

export interface SweepImage {
  /** Ground-truth image id. */
  id: number;
  path: string;
}

export interface HeightResult {
  height: number;
  stats: KeypointStats;
  /** People detected over all images. */
  people: number;
  inferenceMsMedian: number;
  parseMsMedian: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Runs `estimator` on every image at every height and scores each height against `gt`, on exactly
 * the images given (ground-truth images that are not given do not count).
 */
export async function sweepHeights(
  estimator: ImagePoseEstimator,
  gt: KeypointGroundTruth,
  images: SweepImage[],
  heights: number[],
  coco17: readonly number[],
  onImage?: (height: number, image: SweepImage, result: PoseResult) => void,
): Promise<HeightResult[]> {
  const results: HeightResult[] = [];
  const imageIds = images.map((img) => img.id);
  for (const height of heights) {
    const detections: KeypointDetection[] = [];
    const inference: number[] = [];
    const parse: number[] = [];
    for (const image of images) {
      const r = await estimator.estimateImage(image.path, height);
      detections.push(...detectionsOf(image.id, r.people, coco17));
      inference.push(r.timing_ms.inference_ms);
      parse.push(r.timing_ms.parse_ms);
      onImage?.(height, image, r);
    }
    results.push({
      height,
      stats: evaluateKeypoints(gt, detections, { imageIds }),
      people: detections.length,
      inferenceMsMedian: median(inference),
      parseMsMedian: median(parse),
    });
  }
  return results;
}
