import { describe, expect, it } from 'vitest';
import type { KeypointGroundTruth } from '../../../src/runtime/eval/ground-truth.js';
import {
  fileNameOf,
  matchPredictions,
  parsePredictions,
  PredictionsError,
  type KeypointLayout,
} from '../../../src/runtime/eval/predictions.js';
import { DEFAULT_MODEL, loadManifest } from '../../../src/runtime/manifest.js';

const coco18 = loadManifest(DEFAULT_MODEL);
const layout: KeypointLayout = { name: coco18.name, keypoints: 18, coco17: coco18.coco17 };

/** 18 OpenPose parts; part k sits at (100 + k, 200 + k) with confidence 0.5, or is missing. */
function pose(missing: number[] = []): number[] {
  return Array.from({ length: 18 }, (_, k) => (missing.includes(k) ? [0, 0, 0] : [100 + k, 200 + k, 0.5])).flat();
}

const line = (source: string, people: object[] = [{ score: 3, pose_keypoints_2d: pose() }], extra: object = {}) =>
  JSON.stringify({ source, width: 640, height: 480, people, ...extra });

const gt: KeypointGroundTruth = {
  images: [{ id: 1, fileName: 'a.jpg', width: 640, height: 480 }, { id: 2, fileName: 'b.jpg', width: 640, height: 480 }],
  people: [],
};

describe('parsePredictions', () => {
  it('reads one object per line and skips blank lines', () => {
    const lines = parsePredictions(`${line('a.jpg')}\n\n${line('dir/b.jpg', [])}\n`);
    expect(lines.map((l) => [l.line, l.source, l.people.length])).toEqual([[1, 'a.jpg', 1], [3, 'dir/b.jpg', 0]]);
    expect(lines[0].people[0].score).toBe(3);
  });

  it('names the line and the problem of bad input', () => {
    const bad: Array<[string, RegExp]> = [
      [`${line('a.jpg')}\n{"source": "b.jpg", "people": [`, /^predictions line 2: not valid JSON$/],
      ['[1, 2]', /line 1: must be a JSON object/],
      ['{"people": []}', /line 1: "source"/],
      ['{"source": "a.jpg"}', /line 1: "people" must be an array/],
      [line('a.jpg', [{ score: 'high', pose_keypoints_2d: pose() }]), /line 1: people\[0\]\.score/],
      [line('a.jpg', [{ score: 1, pose_keypoints_2d: [1, 2] }]), /line 1: people\[0\]\.pose_keypoints_2d/],
      [line('a.jpg', [{ score: 1, pose_keypoints_2d: [1, null, 3] }]), /only numbers/],
    ];
    for (const [text, message] of bad) {
      expect(() => parsePredictions(text)).toThrow(PredictionsError);
      expect(() => parsePredictions(text)).toThrow(message);
    }
  });
});

describe('matchPredictions', () => {
  it('matches lines to images by file name and reports the rest', () => {
    const lines = parsePredictions([line('/data/val/a.jpg'), line('C:\\imgs\\x.jpg')].join('\n'));
    const m = matchPredictions(lines, gt, () => layout);
    expect(m.detections).toHaveLength(1);
    expect(m.detections[0].imageId).toBe(1);
    expect(m.detections[0].score).toBe(3);
    expect(m.unknownSources).toEqual(['C:\\imgs\\x.jpg']);
    expect(m.imagesWithoutLine).toEqual(['b.jpg']);
  });

  it('uses the layout of the model a line names', () => {
    const asked: Array<string | undefined> = [];
    matchPredictions(parsePredictions([line('a.jpg', [], { model: 'other' }), line('b.jpg')].join('\n')), gt, (m) => {
      asked.push(m);
      return layout;
    });
    expect(asked).toEqual(['other', undefined]);
  });

  it('refuses two lines for one image, a wrong keypoint count and an unknown model, naming the line', () => {
    const twice = parsePredictions([line('a.jpg'), line('x/a.jpg')].join('\n'));
    expect(() => matchPredictions(twice, gt, () => layout)).toThrow(/line 2: second line for image a\.jpg \(first at line 1\)/);
    const body25 = parsePredictions(line('b.jpg', [{ score: 1, pose_keypoints_2d: new Array(75).fill(1) }]));
    expect(() => matchPredictions(body25, gt, () => layout)).toThrow(/line 1: people\[0\] has 25 keypoints but model lightweight-openpose-coco18 has 18/);
    const unknown = parsePredictions(line('a.jpg', [], { model: 'nope' }));
    expect(() => matchPredictions(unknown, gt, () => { throw new Error('unknown model "nope"'); }))
      .toThrow(/line 1: unknown model "nope"/);
  });

  it('takes the file name of POSIX and Windows paths', () => {
    expect(fileNameOf('a/b/c.jpg')).toBe('c.jpg');
    expect(fileNameOf('C:\\x\\y.jpg')).toBe('y.jpg');
    expect(fileNameOf('z.jpg')).toBe('z.jpg');
  });
});
