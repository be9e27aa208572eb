import { describe, expect, it } from 'vitest';
import type { GtPerson } from '../../../src/runtime/eval/ground-truth.js';
import { COCO_SIGMAS, oks } from '../../../src/runtime/eval/oks.js';

/** A gt person whose labelled keypoints are given as [index, x, y]. */
function gtWith(labelled: Array<[number, number, number]>, area = 10_000, bbox: GtPerson['bbox'] = [100, 100, 100, 100]): GtPerson {
  const keypoints = new Float64Array(51);
  for (const [k, x, y] of labelled) keypoints.set([x, y, 2], 3 * k);
  return { id: 1, imageId: 1, keypoints, bbox, area, iscrowd: false, numKeypoints: labelled.length, ignore: labelled.length === 0 };
}

function dtAt(points: Array<[number, number, number]>): Float64Array {
  const kp = new Float64Array(51);
  for (const [k, x, y] of points) kp.set([x, y, 1], 3 * k);
  return kp;
}

/** COCO's definition, written out independently of the implementation. */
const expected = (d: number, k: number, area: number) => Math.exp(-(d * d) / (2 * area * (2 * COCO_SIGMAS[k]) ** 2));

describe('oks', () => {
  const all = Array.from({ length: 17 }, (_, k) => [k, 110 + 4 * k, 120 + 3 * k] as [number, number, number]);

  it('is 1 for a perfect detection', () => {
    expect(oks(dtAt(all), gtWith(all))).toBe(1);
  });

  it('follows exp(-d²/(2·area·(2σ)²)) for a shifted keypoint', () => {
    for (const [k, d] of [[0, 10], [11, 25], [15, 3]]) {
      const g = gtWith([[k, 150, 150]], 8_000);
      expect(oks(dtAt([[k, 150 + d, 150]]), g)).toBeCloseTo(expected(d, k, 8_000), 14);
      // direction does not matter, only the distance
      const diag = d / Math.SQRT2;
      expect(oks(dtAt([[k, 150 - diag, 150 + diag]]), g)).toBeCloseTo(expected(d, k, 8_000), 12);
    }
  });

  it('averages over the labelled gt keypoints only', () => {
    const g = gtWith([[5, 150, 150], [6, 170, 150]], 5_000);
    // keypoint 7 is unlabelled in the gt: wherever the detection puts it, it does not count
    const dt = dtAt([[5, 150, 150], [6, 170 + 12, 150], [7, 900, 900]]);
    expect(oks(dt, g)).toBeCloseTo((1 + expected(12, 6, 5_000)) / 2, 14);
  });

  it('counts a missing detected keypoint (0, 0) as a point at the origin, far from the person', () => {
    const g = gtWith([[0, 150, 150], [1, 160, 140]]);
    const dt = dtAt([[0, 150, 150]]); // keypoint 1 stays 0, 0
    expect(oks(dt, g)).toBeCloseTo(0.5, 12);
  });

  it('measures a gt without keypoints by the distance outside its box grown by one box size per side', () => {
    const g = gtWith([], 2_000, [100, 100, 50, 80]); // grown box: x 50..200, y 20..260
    const inside = dtAt(Array.from({ length: 17 }, (_, k) => [k, 60 + 8 * k, 30 + 12 * k] as [number, number, number]));
    expect(oks(inside, g)).toBe(1);
    // every keypoint 10 px right of the grown box: all 17 count, each by its own sigma
    const outside = dtAt(Array.from({ length: 17 }, (_, k) => [k, 210, 100] as [number, number, number]));
    const mean = COCO_SIGMAS.reduce((s, _, k) => s + expected(10, k, 2_000), 0) / 17;
    expect(oks(outside, g)).toBeCloseTo(mean, 14);
  });
});
