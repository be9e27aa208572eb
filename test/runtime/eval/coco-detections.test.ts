import { describe, expect, it } from 'vitest';
import { detectionsOf, toCoco17 } from '../../../src/runtime/eval/coco-detections.js';
import { DEFAULT_MODEL, loadManifest } from '../../../src/runtime/manifest.js';

const coco18 = loadManifest(DEFAULT_MODEL);

/** 18 OpenPose parts; part k sits at (100 + k, 200 + k) with confidence 0.5, or is missing. */
function pose(missing: number[] = []): number[] {
  return Array.from({ length: 18 }, (_, k) => (missing.includes(k) ? [0, 0, 0] : [100 + k, 200 + k, 0.5])).flat();
}

describe('toCoco17', () => {
  it('reorders OpenPose COCO-18 parts into COCO-17 with the manifest map, dropping the neck', () => {
    const out = toCoco17(pose(), coco18.coco17);
    // COCO 0 nose = OpenPose 0; COCO 1 left eye = OpenPose 15; COCO 6 right shoulder = OpenPose 2; COCO 16 right ankle = OpenPose 10
    expect(Array.from(out.subarray(0, 3))).toEqual([100, 200, 0.5]);
    expect(Array.from(out.subarray(3, 6))).toEqual([115, 215, 0.5]);
    expect(Array.from(out.subarray(18, 21))).toEqual([102, 202, 0.5]);
    expect(Array.from(out.subarray(48, 51))).toEqual([110, 210, 0.5]);
    expect(Array.from(out).filter((_, i) => i % 3 === 0)).not.toContain(101); // neck
  });

  it('writes a missing part as 0, 0, 0 even if the model left coordinates behind', () => {
    const p = pose([15]);
    p.splice(15 * 3, 2, 333, 444); // stale x, y with confidence 0
    expect(Array.from(toCoco17(p, coco18.coco17).subarray(3, 6))).toEqual([0, 0, 0]);
  });
});

describe('detectionsOf', () => {
  it('keeps each person\'s score and tags the image', () => {
    const dets = detectionsOf(9, [{ score: 4, keypoints: Float32Array.from(pose()) }, { score: 2, keypoints: pose([0]) }], coco18.coco17);
    expect(dets.map((d) => [d.imageId, d.score, d.keypoints[0]])).toEqual([[9, 4, 100], [9, 2, 0]]);
  });
});
