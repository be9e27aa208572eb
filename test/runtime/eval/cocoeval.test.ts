import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  evaluateImage,
  evaluateKeypoints,
  KEYPOINT_EVAL_PARAMS,
  type KeypointDetection,
} from '../../../src/runtime/eval/cocoeval.js';
import { parseKeypointGroundTruth, type GtPerson, type KeypointGroundTruth } from '../../../src/runtime/eval/ground-truth.js';
import { COCO_SIGMAS } from '../../../src/runtime/eval/oks.js';
import { matchPredictions, parsePredictions } from '../../../src/runtime/eval/predictions.js';
import { DEFAULT_MODEL, loadManifest } from '../../../src/runtime/manifest.js';
import { sharedPath } from '../../support/shared.js';

let nextId = 1;

/** A person with all 17 keypoints labelled inside a box at (x, y) of size w × h. */
function person(imageId: number, x: number, y: number, w = 100, h = 200, extra: Partial<GtPerson> = {}): GtPerson {
  const keypoints = new Float64Array(51);
  for (let k = 0; k < 17; k++) keypoints.set([x + (w * (k % 4)) / 4, y + (h * k) / 17, 2], 3 * k);
  return { id: nextId++, imageId, keypoints, bbox: [x, y, w, h], area: w * h * 0.6, iscrowd: false, numKeypoints: 17, ignore: false, ...extra };
}

function scene(people: GtPerson[], imageIds = [...new Set(people.map((p) => p.imageId))]): KeypointGroundTruth {
  return { images: imageIds.map((id) => ({ id, fileName: `${id}.jpg`, width: 640, height: 480 })), people };
}

/** A detection exactly on `p`, shifted by (dx, dy). */
function detect(p: GtPerson, score: number, dx = 0, dy = 0): KeypointDetection {
  const kp = Float64Array.from(p.keypoints);
  for (let k = 0; k < 17; k++) kp.set([kp[3 * k] + dx, kp[3 * k + 1] + dy, 0.9], 3 * k);
  return { imageId: p.imageId, keypoints: kp, score };
}

/** A detection nowhere near anybody. */
const stray = (imageId: number, score: number): KeypointDetection =>
  ({ imageId, score, keypoints: Float64Array.from({ length: 51 }, (_, i) => (i % 3 === 2 ? 1 : 5000 + i)) });

/** Share of COCO's 101 recall points at or below `recall`. */
const pointsUpTo = (recall: number) => KEYPOINT_EVAL_PARAMS.recallThresholds.filter((r) => r <= recall).length / 101;

describe('evaluateKeypoints', () => {
  it('gives AP and AR 1 for perfect detections, in each area range that has people', () => {
    const a = person(1, 10, 10, 30, 60); // area 1080: medium
    const b = person(1, 200, 10, 150, 300); // large
    const c = person(2, 50, 50, 120, 240); // large
    const s = evaluateKeypoints(scene([a, b, c]), [detect(a, 0.5), detect(b, 0.9), detect(c, 0.7)]);
    // precision is tp / (tp + fp + eps) in COCOeval, so "1" is 1 - 2e-16
    for (const v of Object.values(s)) expect(v).toBeCloseTo(1, 12);
  });

  it('reports -1 (COCO: undefined) for an area range without people', () => {
    const a = person(1, 10, 10, 150, 300);
    const s = evaluateKeypoints(scene([a]), [detect(a, 1)]);
    expect(s.apMedium).toBe(-1);
    expect(s.arMedium).toBe(-1);
    expect(s.apLarge).toBeCloseTo(1, 12);
  });

  it('counts the people of images without detections: half found → recall 0.5, AP over 51 of 101 points', () => {
    const a = person(1, 10, 10), b = person(2, 10, 10);
    const s = evaluateKeypoints(scene([a, b]), [detect(a, 1)]);
    expect(s.ar).toBe(0.5);
    expect(s.ap).toBeCloseTo(pointsUpTo(0.5), 12);
    expect(s.ap).toBeCloseTo(51 / 101, 12);
  });

  it('ranks detections by score over all images: a false positive above the only true one halves AP', () => {
    const a = person(1, 10, 10);
    const gt = scene([a], [1, 2]);
    expect(evaluateKeypoints(gt, [stray(2, 0.9), detect(a, 0.5)]).ap).toBeCloseTo(0.5, 12);
    expect(evaluateKeypoints(gt, [stray(2, 0.4), detect(a, 0.5)]).ap).toBeCloseTo(1, 12);
    expect(evaluateKeypoints(gt, [stray(2, 0.9), detect(a, 0.5)]).ar).toBe(1);
  });

  it('scores each OKS threshold: OKS 0.62 passes 0.50, 0.55 and 0.60 only', () => {
    const a = person(1, 10, 10);
    // shift every keypoint by the distance that makes its own term exp(-e) = 0.62
    const kp = Float64Array.from(a.keypoints);
    for (let k = 0; k < 17; k++) kp[3 * k] += Math.sqrt(-Math.log(0.62) * 2 * a.area * (2 * COCO_SIGMAS[k]) ** 2);
    const s = evaluateKeypoints(scene([a]), [{ imageId: 1, keypoints: kp, score: 1 }]);
    expect(s.ap50).toBeCloseTo(1, 12);
    expect(s.ap75).toBe(0);
    expect(s.ap).toBeCloseTo(0.3, 12);
    expect(s.ar).toBeCloseTo(0.3, 12);
  });

  it('ignores crowd and zero-keypoint people: detections on them are neither hits nor false positives', () => {
    const real = person(1, 10, 10);
    const crowd = person(1, 300, 10, 100, 200, { iscrowd: true, ignore: true });
    const empty = person(2, 10, 10, 100, 200, { numKeypoints: 0, ignore: true, keypoints: new Float64Array(51) });
    const gt = scene([real, crowd, empty]);
    const dets = [detect(crowd, 0.99), detect(crowd, 0.98, 2, 2), detect(empty, 0.97), detect(real, 0.5)];
    const s = evaluateKeypoints(gt, dets);
    expect(s.ap).toBeCloseTo(1, 12);
    expect(s.ar).toBe(1);
    // without the ignore flags, the same detections are false positives above the true one
    const plain = (p: GtPerson): GtPerson => ({ ...p, ignore: false, iscrowd: false });
    expect(evaluateKeypoints(scene([real, plain(crowd)]), [detect(crowd, 0.99), detect(crowd, 0.98, 2, 2), detect(real, 0.5)]).ap)
      .toBeLessThan(1);
  });

  it('scores nothing when every person is ignored', () => {
    const crowd = person(1, 10, 10, 100, 200, { iscrowd: true, ignore: true });
    expect(evaluateKeypoints(scene([crowd]), [detect(crowd, 1)]).ap).toBe(-1);
  });

  it('keeps at most 20 detections per image, best score first', () => {
    const people = Array.from({ length: 21 }, (_, i) => person(1, 10 + 30 * i, 10));
    const dets = people.map((p, i) => detect(p, 1 - i / 100));
    expect(evaluateKeypoints(scene(people), dets).ar).toBeCloseTo(20 / 21, 12);
    // the same 21 on two images: nothing is cut
    const split = people.map((p, i) => ({ ...p, imageId: i < 11 ? 1 : 2 }));
    expect(evaluateKeypoints(scene(split), split.map((p, i) => detect(p, 1 - i / 100))).ar).toBe(1);
  });

  it('evaluates only the selected images when asked', () => {
    const a = person(1, 10, 10), b = person(2, 10, 10);
    expect(evaluateKeypoints(scene([a, b]), [detect(a, 1)], { imageIds: [1] }).ar).toBe(1);
  });
});

describe('evaluateImage', () => {
  const all = KEYPOINT_EVAL_PARAMS.areaRanges[0];

  it('matches a real person before an ignored one, even when the ignored one overlaps more', () => {
    const real = person(1, 0, 0), ignored = person(1, 0, 0, 100, 200, { iscrowd: true, ignore: true });
    // gts are given ignored first; evaluateImage must reorder them
    const r = evaluateImage([ignored, real], [{ score: 1, area: 100 }], [[0.95, 0.6]], all, [0.5]);
    expect(r.gtIgnored).toEqual(Uint8Array.from([0, 1]));
    expect(r.dtMatched[0][0]).toBe(1);
    expect(r.dtIgnored[0][0]).toBe(0); // a true positive
  });

  it('gives each real person to one detection only, while a crowd may absorb several', () => {
    const real = person(1, 0, 0);
    const two = [{ score: 0.9, area: 100 }, { score: 0.8, area: 100 }];
    const r = evaluateImage([real], two, [[0.9], [0.8]], all, [0.5]);
    expect(Array.from(r.dtMatched[0])).toEqual([1, 0]);
    const crowd = person(1, 0, 0, 100, 200, { iscrowd: true, ignore: true });
    const c = evaluateImage([crowd], two, [[0.9], [0.8]], all, [0.5]);
    expect(Array.from(c.dtMatched[0])).toEqual([1, 1]);
    expect(Array.from(c.dtIgnored[0])).toEqual([1, 1]);
  });

  it('ignores unmatched detections whose keypoint box lies outside the area range', () => {
    const medium = KEYPOINT_EVAL_PARAMS.areaRanges[1];
    const r = evaluateImage([], [{ score: 1, area: 50 ** 2 }, { score: 1, area: 200 ** 2 }], [], medium, [0.5]);
    expect(Array.from(r.dtIgnored[0])).toEqual([0, 1]);
  });
});

const sample = parseKeypointGroundTruth(JSON.parse(readFileSync(sharedPath('media/coco/person_keypoints.json'), 'utf8')));
const manifest = loadManifest(DEFAULT_MODEL);
const layout = { name: manifest.name, keypoints: manifest.keypoints.length, coco17: manifest.coco17 };

function statsOf(file: string) {
  const lines = parsePredictions(readFileSync(sharedPath('media/coco', file), 'utf8'));
  const { detections } = matchPredictions(lines, sample, () => layout);
  return evaluateKeypoints(sample, detections);
}

describe('reference predictions of the upstream pipeline (acceptance point 1)', () => {
  it.each([
    ['reference-upstream-h256-padright.json', { ap: 0.5789, ap50: 0.9109, ap75: 0.5444, ar: 0.6333 }],
    ['reference-upstream-h256-padcentred.json', { ap: 0.5422, ap50: 0.9043, ap75: 0.4521, ar: 0.6 }],
  ])('%s gives the published COCO keypoint AP/AR', (file, want) => {
    const s = statsOf(file);
    expect(s.ap.toFixed(4)).toBe(want.ap.toFixed(4));
    expect(s.ap50.toFixed(4)).toBe(want.ap50.toFixed(4));
    expect(s.ap75.toFixed(4)).toBe(want.ap75.toFixed(4));
    expect(s.ar.toFixed(4)).toBe(want.ar.toFixed(4));
  });

  it('agrees with pycocotools on the other metrics too', () => {
    // pycocotools 2.0.11 COCOeval(iouType='keypoints') stats[3:] on the padright file, printed to 4 decimals
    const s = statsOf('reference-upstream-h256-padright.json');
    const got = [s.apMedium, s.apLarge, s.ar50, s.ar75, s.arMedium, s.arLarge].map((v) => v.toFixed(4));
    expect(got).toEqual(['0.3832', '0.7405', '0.9167', '0.6667', '0.3800', '0.8143']);
  });
});
