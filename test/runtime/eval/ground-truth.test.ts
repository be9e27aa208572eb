import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GroundTruthError, parseKeypointGroundTruth } from '../../../src/runtime/eval/ground-truth.js';
import { sharedPath } from '../../support/shared.js';

const kp = (labelled: number) => Array.from({ length: 51 }, (_, i) => (i % 3 === 2 ? (Math.floor(i / 3) < labelled ? 2 : 0) : 10 + i));

function file(annotations: object[], extra: object = {}) {
  return {
    images: [{ id: 7, file_name: 'a.jpg', width: 640, height: 480 }],
    categories: [{ id: 1, name: 'person', keypoints: [] }, { id: 2, name: 'dog' }],
    annotations,
    ...extra,
  };
}

const ann = (over: object = {}) => ({ id: 1, image_id: 7, category_id: 1, iscrowd: 0, num_keypoints: 3, keypoints: kp(3), bbox: [1, 2, 3, 4], area: 12, ...over });

describe('parseKeypointGroundTruth', () => {
  it('reads the shared COCO sample: 4 images, 14 people, 2 of them without keypoints', () => {
    const gt = parseKeypointGroundTruth(JSON.parse(readFileSync(sharedPath('media/coco/person_keypoints.json'), 'utf8')));
    expect(gt.images.map((i) => i.fileName)).toContain('000000000785.jpg');
    expect(gt.images).toHaveLength(4);
    expect(gt.people).toHaveLength(14);
    expect(gt.people.filter((p) => p.ignore)).toHaveLength(2);
    const visible = gt.people.reduce((n, p) => n + p.numKeypoints, 0);
    expect(visible).toBe(181);
  });

  it('ignores crowds and people without keypoints, whatever an "ignore" key says', () => {
    const gt = parseKeypointGroundTruth(file([
      ann({ id: 1 }),
      ann({ id: 2, iscrowd: 1 }),
      ann({ id: 3, num_keypoints: 0, keypoints: kp(0) }),
      ann({ id: 4, ignore: 1 }),
    ]));
    expect(gt.people.map((p) => [p.id, p.ignore])).toEqual([[1, false], [2, true], [3, true], [4, false]]);
  });

  it('keeps only person annotations and derives num_keypoints when it is absent', () => {
    const { num_keypoints: _, ...noCount } = ann({ id: 5, keypoints: kp(4) });
    const gt = parseKeypointGroundTruth(file([ann({ id: 9, category_id: 2 }), noCount]));
    expect(gt.people.map((p) => [p.id, p.numKeypoints])).toEqual([[5, 4]]);
  });

  it('names the bad field of a broken file', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /JSON object/],
      [{ annotations: [] }, /"images"/],
      [file([ann({ image_id: 8 })]), /annotations\[0\]\.image_id 8/],
      [file([ann({ keypoints: [1, 2, 3] })]), /annotations\[0\]\.keypoints/],
      [file([ann({ area: 'big' })]), /annotations\[0\]\.area/],
      [file([], { images: [{ id: 1, file_name: 'x.jpg' }, { id: 1, file_name: 'y.jpg' }] }), /image id 1 appears twice/],
    ];
    for (const [data, message] of bad) {
      expect(() => parseKeypointGroundTruth(data)).toThrow(GroundTruthError);
      expect(() => parseKeypointGroundTruth(data)).toThrow(message);
    }
  });
});
