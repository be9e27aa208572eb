import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { buildIdentityChains, chainKey, joinChains, scoreTracking, type IdentityChain } from '../../../src/runtime/tracking/evaluation.js';
import { decodeRecording, encodeRecording } from '../../../src/runtime/tracking/recording.js';
import { sigmasFor } from '../../../src/runtime/tracking/sigmas.js';
import { fragmentAt, NUM_PARTS, poseAt, type Walker } from './synthetic.js';

const sigmas = sigmasFor(loadManifest('lightweight-openpose-coco18'));
const builder = { minParts: 8, minScore: 0.1, minOks: 0.5, maxGapFrames: 2 };

describe('identity chains', () => {
  const a: Walker = { x: 100, y: 300, height: 200, vx: 100, vy: 0 };
  const b: Walker = { x: 600, y: 300, height: 200, vx: -100, vy: 0 };

  it('link good detections frame to frame, bridge short gaps, ignore fragments', () => {
    // Frame f at f × 40 ms; a is missed in frames 5-6 (bridged) and b leaves after 7; a fragment in every frame.
    const frames = Array.from({ length: 12 }, (_, f) => {
      const people = [fragmentAt(900, 100)];
      if (f !== 5 && f !== 6) people.push(poseAt(a, f * 40, { jitter: 1, seed: 1 }));
      if (f <= 7) people.push(poseAt(b, f * 40, { jitter: 1, seed: 2 }));
      return people;
    });
    const chains = buildIdentityChains(frames, sigmas, builder);
    expect(chains).toHaveLength(2);
    const [ca, cb] = chains;
    expect(ca.frames).toEqual([0, 1, 2, 3, 4, 7, 8, 9, 10, 11]);
    expect(ca.detections.every((d, i) => frames[ca.frames[i]][d].parts === NUM_PARTS)).toBe(true);
    expect(cb.frames).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(chainKey(cb)).toBe('0:2');
    // A gap longer than maxGapFrames splits a chain.
    expect(buildIdentityChains(frames, sigmas, { ...builder, maxGapFrames: 1 })).toHaveLength(3);
  });

  it('joinChains merges what an eye found to be one person and refuses overlaps or unknown keys', () => {
    const c1: IdentityChain = { frames: [0, 1], detections: [0, 0] };
    const c2: IdentityChain = { frames: [5, 6], detections: [1, 2] };
    const c3: IdentityChain = { frames: [1, 2], detections: [1, 1] };
    expect(joinChains([c1, c2, c3], [['5:1', '0:0']])).toEqual([{ frames: [0, 1, 5, 6], detections: [0, 0, 1, 2] }]);
    expect(() => joinChains([c1, c3], [['0:0', '1:1']])).toThrow(/overlap at frame 1/);
    expect(() => joinChains([c1], [['9:9']])).toThrow(/no chain starts at 9:9/);
  });
});

describe('scoreTracking', () => {
  const chains: IdentityChain[] = [
    { frames: [0, 1, 2, 3, 4], detections: [0, 0, 0, 0, 0] },
    { frames: [0, 1, 2, 3, 4], detections: [1, 1, 1, 1, 1] },
  ];

  it('share of frames with the majority id, id switches, merged and distinct ids', () => {
    const published = [[-1, -1], [1, 2], [1, 2], [1, 3], [1, 3]];
    const s = scoreTracking(chains, published);
    expect(s.chains.map((c) => [c.majorityId, c.share, c.switches])).toEqual([[1, 0.8, 0], [2, 0.4, 1]]);
    expect(s.share).toBeCloseTo(6 / 10);
    expect(s.minShare).toBeCloseTo(0.4);
    expect(s.switches).toBe(1);
    expect(s.distinctIds).toBe(3);
    expect(s.mergedIds).toBe(0);
    expect(scoreTracking(chains, [[7, 7], [7, 7], [7, 7], [7, 7], [7, 7]]).mergedIds).toBe(1);
  });

  it('scores only the frames a subsampled run saw, and fails ids that change every frame', () => {
    const published = [[1, 2], undefined, [1, 2], undefined, [1, 2]];
    expect(scoreTracking(chains, published).share).toBe(1);
    expect(scoreTracking(chains, published).chains[0].frames).toBe(3);
    const fresh = Array.from({ length: 5 }, (_, f) => [10 * f, 10 * f + 1]);
    expect(scoreTracking(chains, fresh).share).toBeCloseTo(0.2);
  });
});

describe('detection recordings', () => {
  it('round-trip through JSON at 0.1 px and reject a malformed person', () => {
    const p = poseAt({ x: 100.123, y: 50, height: 100, vx: 0, vy: 0 }, 0);
    const json = JSON.parse(JSON.stringify(encodeRecording({ model: 'm', netHeight: 256, captureHeight: 368, frameMs: 20, frames: [[p], []] })));
    const back = decodeRecording(json, NUM_PARTS);
    expect(back.frames).toHaveLength(2);
    expect(back.frames[0][0].parts).toBe(p.parts);
    for (let i = 0; i < p.keypoints.length; i++) expect(Math.abs(back.frames[0][0].keypoints[i] - p.keypoints[i])).toBeLessThanOrEqual(0.05 + 1e-4);
    json.frames[0][0].pop();
    expect(() => decodeRecording(json, NUM_PARTS)).toThrow(/frame 0 person 0 has 55 numbers, expected 56/);
  });
});
