import { describe, expect, it } from 'vitest';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';
import { ConnectionSet, LimbMatcher } from '../../../src/runtime/paf/match.js';
import { PafScorer } from '../../../src/runtime/paf/paf-score.js';
import { PeakSet, findPeaks } from '../../../src/runtime/paf/peaks.js';
import { partIndex, renderSyntheticMaps } from '../../../src/runtime/synthetic.js';

const coco = layoutOf(loadManifest('lightweight-openpose-coco18'));
const neck = partIndex(coco, 'neck'), shoulder = partIndex(coco, 'r_shoulder');
const limb = coco.manifest.limbs.findIndex((l) => l.from === 'neck' && l.to === 'r_shoulder');

/** Maps holding only neck → r_shoulder limbs between the given points. */
function scene(W: number, H: number, links: [[number, number], [number, number]][]) {
  const skeletons = links.map(([a, b]) => {
    const s = new Float32Array(coco.numParts * 3);
    s.set([a[0], a[1], 1], neck * 3);
    s.set([b[0], b[1], 1], shoulder * 3);
    return s;
  });
  const maps = renderSyntheticMaps(coco, W, H, skeletons);
  const peaks = new PeakSet(coco.numParts);
  findPeaks(maps.heatmaps, 0, coco.numParts, W, H, 0.1, peaks);
  const scorer = new PafScorer(coco.manifest.parser);
  scorer.setMap(maps.pafs, W, H);
  const at = (part: number, x: number, y: number) => {
    for (let i = peaks.start[part]!; i < peaks.start[part]! + peaks.count[part]!; i++)
      if (Math.hypot(peaks.x[i]! - x, peaks.y[i]! - y) < 0.1) return i;
    throw new Error(`no peak at ${x},${y}`);
  };
  const score = (a: number, b: number) =>
    scorer.score(coco.pafX[limb]!, coco.pafY[limb]!, peaks.x[a]!, peaks.y[a]!, peaks.x[b]!, peaks.y[b]!);
  return { peaks, scorer, at, score };
}

describe('LimbMatcher', () => {
  it('takes pairs best first and uses each peak once per limb', () => {
    // Neck A1 is supported towards shoulders B1 and B2, neck A2 only towards B2.
    const A1: [number, number] = [4, 4], A2: [number, number] = [2, 19], B1: [number, number] = [14, 4], B2: [number, number] = [10, 10];
    const s = scene(24, 20, [[A1, B1], [A1, B2], [A2, B2]]);
    const a1 = s.at(neck, ...A1), a2 = s.at(neck, ...A2), b1 = s.at(shoulder, ...B1), b2 = s.at(shoulder, ...B2);
    // The situation this test needs: A1–B2 outranks A2–B2, which outranks A2–B1.
    const [s11, s12, s22] = [s.score(a1, b1), s.score(a1, b2), s.score(a2, b2)];
    expect(s11).toBeGreaterThan(s12);
    expect(s12).toBeGreaterThan(s22);
    expect(s22).toBeGreaterThan(0);
    expect(s.score(a2, b1)).toBeLessThan(s22);
    const out = new ConnectionSet();
    new LimbMatcher().matchAll(coco, s.peaks, s.scorer, 0, out);
    const kept = Array.from({ length: out.count }, (_, i) => [out.a[i], out.b[i], out.limb[i]]);
    // Greedy: A1–B1, then A1–B2 is skipped (A1 is taken), then A2–B2.
    expect(kept).toEqual([[a1, b1, limb], [a2, b2, limb]]);
    expect(out.score[0]).toBeCloseTo(s11, 9);
    expect(out.score[1]).toBeCloseTo(s22, 9);
  });

  it('considers every pair of a limb and counts them', () => {
    const s = scene(30, 20, [[[3, 3], [8, 3]], [[3, 10], [8, 10]], [[15, 5], [22, 5]]]);
    const matcher = new LimbMatcher();
    const out = new ConnectionSet();
    matcher.matchAll(coco, s.peaks, s.scorer, 0, out);
    expect(out.count).toBe(3);
    expect(matcher.pairs).toBe(9);
  });
});
