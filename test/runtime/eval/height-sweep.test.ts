import { describe, expect, it } from 'vitest';
import type { GtPerson, KeypointGroundTruth } from '../../../src/runtime/eval/ground-truth.js';
import { median, sweepHeights, type ImagePoseEstimator } from '../../../src/runtime/eval/height-sweep.js';
import { DEFAULT_MODEL, loadManifest } from '../../../src/runtime/manifest.js';
import type { PoseResult } from '../../../src/runtime/types.js';

const coco17 = loadManifest(DEFAULT_MODEL).coco17;

function gtPerson(id: number, imageId: number, x: number): GtPerson {
  const keypoints = new Float64Array(51);
  for (let k = 0; k < 17; k++) keypoints.set([x + 5 * (k % 3), 50 + 10 * k, 2], 3 * k);
  return { id, imageId, keypoints, bbox: [x, 50, 20, 170], area: 3000, iscrowd: false, numKeypoints: 17, ignore: false };
}

const gt: KeypointGroundTruth = {
  images: [1, 2, 3].map((id) => ({ id, fileName: `${id}.jpg`, width: 640, height: 480 })),
  people: [gtPerson(1, 1, 100), gtPerson(2, 2, 300), gtPerson(3, 3, 200)],
};

/** Model-order (COCO-18) keypoints that reproduce a gt person exactly. */
function asModelPose(p: GtPerson): Float32Array {
  const kp = new Float32Array(18 * 3);
  coco17.forEach((m, c) => kp.set([p.keypoints[3 * c], p.keypoints[3 * c + 1], 0.8], 3 * m));
  return kp;
}

/** Finds everybody at 256 and above, nobody below; timing grows with the height. */
const fake: ImagePoseEstimator & { calls: string[] } = {
  calls: [],
  async estimateImage(path: string, height = 256): Promise<PoseResult> {
    this.calls.push(`${path}@${height}`);
    const imageId = Number(path.replace(/\D/g, ''));
    const people = height >= 256
      ? gt.people.filter((p) => p.imageId === imageId).map((p) => ({ score: 10, parts: 17, keypoints: asModelPose(p) }))
      : [];
    return {
      people, width: 640, height: 480, net: { width: height, height },
      timing_ms: { preprocess_ms: 1, inference_ms: height / 8 + imageId, parse_ms: imageId / 10 },
    };
  },
};

describe('sweepHeights', () => {
  it('scores every height on the same images, with median timings', async () => {
    const images = [{ id: 1, path: '/x/1.jpg' }, { id: 2, path: '/x/2.jpg' }, { id: 3, path: '/x/3.jpg' }];
    const rows = await sweepHeights(fake, gt, images, [160, 256], coco17);
    expect(rows.map((r) => r.height)).toEqual([160, 256]);
    expect(rows[0].stats.ap).toBe(0);
    expect(rows[0].stats.ar).toBe(0);
    expect(rows[0].people).toBe(0);
    expect(rows[1].stats.ap).toBeCloseTo(1, 12);
    expect(rows[1].stats.ar).toBe(1);
    expect(rows[1].people).toBe(3);
    expect(rows[0].inferenceMsMedian).toBe(20 + 2);
    expect(rows[1].inferenceMsMedian).toBe(32 + 2);
    expect(rows[1].parseMsMedian).toBeCloseTo(0.2, 12);
    expect(fake.calls).toHaveLength(6);
  });

  it('scores only the images it ran on', async () => {
    const rows = await sweepHeights(fake, gt, [{ id: 2, path: '/x/2.jpg' }], [256], coco17);
    expect(rows[0].stats.ar).toBe(1);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
