import { describe, expect, it } from 'vitest';
import { layoutOf, listManifests, loadManifest, type ModelLayout, type ParserParams } from '../../../src/runtime/manifest.js';
import { PafParser } from '../../../src/runtime/paf/parser.js';
import { openposeScore } from '../../../src/runtime/paf/person-score.js';
import { ParserInputError, type ParsedPoses } from '../../../src/runtime/paf/types.js';
import { partIndex, randomSkeletons, renderSyntheticMaps, standingSkeleton, type Skeleton } from '../../../src/runtime/synthetic.js';

const layouts: ModelLayout[] = listManifests().map((n) => layoutOf(loadManifest(n)));
const byName = (name: string) => layouts.find((l) => l.manifest.name === name)!;
const coco = byName('lightweight-openpose-coco18');
/** Map sizes of each model at its usual net size (net / stride). */
const mapSize: Record<string, [number, number]> = {
  'lightweight-openpose-coco18': [57, 32],
  'mobilenet-v2-small-coco18': [54, 46],
  'openpose-body25': [82, 46],
  'trt-pose-resnet18-att-224': [56, 56],
};

function params(layout: ModelLayout, over: Partial<ParserParams> = {}): ParserParams {
  return { ...layout.manifest.parser, ...over };
}

function parse(layout: ModelLayout, W: number, H: number, people: Skeleton[], over: Partial<ParserParams> = {}): ParsedPoses {
  return new PafParser(layout, params(layout, over)).parse(renderSyntheticMaps(layout, W, H, people));
}

/** Person i of a result as a skeleton (K × 3). */
function person(r: ParsedPoses, K: number, i: number): Float32Array {
  return r.keypoints.slice(i * K * 3, (i + 1) * K * 3);
}

/**
 * Asserts that `r` holds exactly the people `truth` (any order): the same parts present, each within
 * `tol` cells of the truth with the truth's peak height as confidence, and no part of one true
 * person given to another.
 */
function expectPeople(layout: ModelLayout, r: ParsedPoses, truth: Skeleton[], tol = 0.05): void {
  const K = layout.numParts;
  expect(r.count).toBe(truth.length);
  const used = new Set<number>();
  for (let i = 0; i < r.count; i++) {
    const p = person(r, K, i);
    // The true person that shares most parts with p.
    let best = -1, bestHits = -1;
    truth.forEach((t, j) => {
      let hits = 0;
      for (let k = 0; k < K; k++)
        if (t[k * 3 + 2]! > 0 && p[k * 3 + 2]! > 0 && Math.hypot(t[k * 3]! - p[k * 3]!, t[k * 3 + 1]! - p[k * 3 + 1]!) <= tol) hits++;
      if (hits > bestHits) { best = j; bestHits = hits; }
    });
    expect(used.has(best), `person ${i} duplicates true person ${best}`).toBe(false);
    used.add(best);
    const t = truth[best]!;
    let parts = 0;
    for (let k = 0; k < K; k++) {
      const name = layout.manifest.keypoints[k];
      if (t[k * 3 + 2]! > 0) {
        parts++;
        expect(p[k * 3 + 2], `person ${i} (truth ${best}) ${name} confidence`).toBeCloseTo(t[k * 3 + 2]!, 3);
        expect(Math.hypot(t[k * 3]! - p[k * 3]!, t[k * 3 + 1]! - p[k * 3 + 1]!), `person ${i} (truth ${best}) ${name}`).toBeLessThanOrEqual(tol);
      } else {
        expect([p[k * 3], p[k * 3 + 1], p[k * 3 + 2]], `person ${i} (truth ${best}) ${name} must be missing`).toEqual([0, 0, 0]);
      }
    }
    expect(r.partCounts[i]).toBe(parts);
  }
}

/** Sets part `name` of skeleton `s`: position, or missing when `v` is 0. */
function set(layout: ModelLayout, s: Skeleton, name: string, x: number, y: number, v = 1): void {
  s.set([v > 0 ? x : 0, v > 0 ? y : 0, v], partIndex(layout, name) * 3);
}
function drop(layout: ModelLayout, s: Skeleton, ...names: string[]): void {
  for (const n of names) set(layout, s, n, 0, 0, 0);
}
/** Mirror image of a standing person about x = cx: a person seen from behind (left side on the image left). */
function fromBehind(s: Skeleton, cx: number): Skeleton {
  const m = new Float32Array(s);
  for (let k = 0; k < m.length; k += 3) m[k] = 2 * cx - m[k]!;
  return m;
}

describe('PafParser parses synthetic maps back to the skeletons they were drawn from', () => {
  for (const layout of layouts) {
    const [W, H] = mapSize[layout.manifest.name]!;
    it(`${layout.manifest.name}: 6 people on a ${W}×${H} map`, () => {
      for (const seed of [1, 2, 3]) {
        const truth = randomSkeletons(layout, 6, W, H, seed);
        expectPeople(layout, parse(layout, W, H, truth), truth);
      }
    });
    it(`${layout.manifest.name}: 42 people`, () => {
      const truth = randomSkeletons(layout, 42, 3 * W, 3 * H, 42);
      expectPeople(layout, parse(layout, 3 * W, 3 * H, truth), truth);
    });
  }

  it('two people whose forearms of the same side cross', () => {
    const a = standingSkeleton(coco, 20, 2, 30);
    const b = fromBehind(standingSkeleton(coco, 44, 2, 30), 44); // its left arm is on the image left
    set(coco, a, 'l_elbow', 28, 12);
    set(coco, a, 'l_wrist', 38, 20);
    set(coco, b, 'l_elbow', 36, 12);
    set(coco, b, 'l_wrist', 26, 20);
    // Same limb type, so the two fields share channels and average where they cross.
    const maps = renderSyntheticMaps(coco, 64, 40, [a, b]);
    const limb = coco.manifest.limbs.findIndex((l) => l.from === 'l_elbow' && l.to === 'l_wrist');
    expect(maps.pafs[coco.pafX[limb]! * 64 * 40 + 15 * 64 + 32]).toBeCloseTo(0, 1);
    expectPeople(coco, new PafParser(coco, params(coco)).parse(maps), [a, b]);
  });

  for (const gap of [0.26, 0.3])
    it(`two people side by side, shoulders touching (centres ${gap} body heights apart)`, () => {
      const a = standingSkeleton(coco, 20, 3, 30);
      const b = standingSkeleton(coco, 20 + gap * 30, 3, 30);
      expectPeople(coco, parse(coco, 48, 36, [a, b]), [a, b]);
    });

  it('people cut by the map border or with occluded parts', () => {
    const cut = standingSkeleton(coco, 1, 2, 28); // right half outside the map
    for (let k = 0; k < coco.numParts; k++) if (cut[k * 3]! < 0) cut.set([0, 0, 0], k * 3);
    const legless = standingSkeleton(coco, 30, 8, 28);
    drop(coco, legless, 'r_knee', 'r_ankle', 'l_knee', 'l_ankle', 'l_hip');
    const faceless = standingSkeleton(coco, 50, 2, 28);
    drop(coco, faceless, 'r_eye', 'l_eye', 'r_ear', 'l_ear', 'nose');
    expect(cut.filter((_, i) => i % 3 === 2 && _ > 0).length).toBeGreaterThan(4);
    expectPeople(coco, parse(coco, 64, 40, [cut, legless, faceless]), [cut, legless, faceless]);
  });

  it('finds sub-cell positions and reports the peak height as confidence', () => {
    const s = standingSkeleton(coco, 20.37, 2.61, 27.3);
    for (let k = 0; k < coco.numParts; k++) s[k * 3 + 2] = 0.3 + 0.04 * k;
    expectPeople(coco, parse(coco, 40, 32, [s]), [s], 0.01);
  });
});

describe('y-first PAFs (trt_pose)', () => {
  const trt = byName('trt-pose-resnet18-att-224');
  it('are read from the channels the manifest names, not assumed x-first', () => {
    const truth = randomSkeletons(trt, 4, 56, 56, 5);
    const maps = renderSyntheticMaps(trt, 56, 56, truth);
    expectPeople(trt, new PafParser(trt, params(trt)).parse(maps), truth);
    // The same maps read by a parser that assumes x first: vertical limbs lose all support.
    const xFirst: ModelLayout = { ...trt, pafX: trt.pafY, pafY: trt.pafX };
    const wrong = new PafParser(xFirst, params(trt)).parse(maps);
    expect(() => expectPeople(trt, wrong, truth)).toThrow();
    let parts = 0;
    for (let i = 0; i < wrong.count; i++) parts += wrong.partCounts[i]!;
    expect(parts).toBeLessThan(0.75 * 4 * trt.numParts);
  });
});

describe('redundant limbs (ear–shoulder)', () => {
  it('cannot create a person on their own', () => {
    const s = standingSkeleton(coco, 20, 2, 30);
    for (let k = 0; k < coco.numParts; k++) if (!/shoulder|ear/.test(coco.manifest.keypoints[k]!)) s.set([0, 0, 0], k * 3);
    expect(parse(coco, 40, 36, [s], { min_subset_cnt: 1 }).count).toBe(0);
  });

  it('add an ear that no other limb reaches', () => {
    const s = standingSkeleton(coco, 20, 2, 30);
    drop(coco, s, 'r_eye', 'l_eye');
    expectPeople(coco, parse(coco, 40, 36, [s]), [s]);
  });

  it('never merge a head fragment into a body', () => {
    const s = standingSkeleton(coco, 20, 2, 30);
    drop(coco, s, 'nose');
    // Without a nose the eye–ear pairs are separate fragments; only ear–shoulder links them to the body.
    const r = parse(coco, 40, 36, [s], { min_subset_cnt: 2 });
    const body = new Float32Array(s), right = new Float32Array(s.length), left = new Float32Array(s.length);
    drop(coco, body, 'r_eye', 'l_eye', 'r_ear', 'l_ear');
    for (const [f, side] of [[right, 'r'], [left, 'l']] as const)
      for (const part of ['eye', 'ear']) f.set(s.subarray(partIndex(coco, `${side}_${part}`) * 3, partIndex(coco, `${side}_${part}`) * 3 + 3), partIndex(coco, `${side}_${part}`) * 3);
    expectPeople(coco, r, [body, right, left]);
  });
});

describe('filters and ranking', () => {
  it('min_subset_cnt drops people with too few parts', () => {
    const whole = standingSkeleton(coco, 15, 2, 30);
    const pair = standingSkeleton(coco, 40, 2, 30);
    for (let k = 0; k < coco.numParts; k++) if (!['neck', 'r_shoulder'].includes(coco.manifest.keypoints[k]!)) pair.set([0, 0, 0], k * 3);
    expectPeople(coco, parse(coco, 56, 36, [whole, pair], { min_subset_cnt: 3 }), [whole]);
    expectPeople(coco, parse(coco, 56, 36, [whole, pair], { min_subset_cnt: 2 }), [whole, pair]);
  });

  it('min_subset_score drops people whose mean (peak + limb) score is low', () => {
    const strong = standingSkeleton(coco, 15, 2, 30);
    const weak = standingSkeleton(coco, 40, 2, 30);
    for (let k = 0; k < coco.numParts; k++) weak[k * 3 + 2] = 0.15;
    const both = renderSyntheticMaps(coco, 56, 36, [strong, weak]);
    // OpenPose's score per part is (Σ peaks + Σ limbs) / parts: about (18 + 17) / 18 vs (2.7 + 17) / 18.
    const parser = new PafParser(coco, params(coco, { min_subset_score: 1.5 }), { personScore: openposeScore });
    expectPeople(coco, parser.parse(both), [strong]);
    parser.setParams(params(coco, { min_subset_score: 1.0 }));
    const r = parser.parse(both);
    expectPeople(coco, r, [strong, weak]);
    expect(r.scores[0]! / r.partCounts[0]!).toBeGreaterThan(1.5);
    expect(r.scores[1]! / r.partCounts[1]!).toBeLessThan(1.5);
  });

  it('number_people_max keeps the best-ranked people, best first', () => {
    const full = standingSkeleton(coco, 10, 2, 30);
    const most = standingSkeleton(coco, 28, 2, 30);
    drop(coco, most, 'r_knee', 'r_ankle', 'l_knee', 'l_ankle');
    const half = standingSkeleton(coco, 46, 2, 30);
    drop(coco, half, 'r_knee', 'r_ankle', 'l_knee', 'l_ankle', 'r_hip', 'l_hip', 'r_elbow', 'r_wrist', 'l_elbow', 'l_wrist');
    const maps = renderSyntheticMaps(coco, 56, 36, [half, full, most]);
    const parser = new PafParser(coco, params(coco));
    const all = parser.parse(maps);
    expect(Array.from(all.partCounts.subarray(0, 3))).toEqual([18, 14, 8]);
    expect(all.scores[0]).toBeGreaterThan(all.scores[1]!);
    expect(all.scores[1]).toBeGreaterThan(all.scores[2]!);
    parser.setParams(params(coco, { number_people_max: 2 }));
    expectPeople(coco, parser.parse(maps), [full, most]);
  });

  it('takes new thresholds live', () => {
    const s = standingSkeleton(coco, 20, 2, 30);
    for (let k = 0; k < coco.numParts; k++) s[k * 3 + 2] = 0.5;
    const maps = renderSyntheticMaps(coco, 40, 36, [s]);
    const parser = new PafParser(coco, params(coco));
    expect(parser.parse(maps).count).toBe(1);
    parser.setParams(params(coco, { nms_threshold: 0.6 }));
    expect(parser.parse(maps).count).toBe(0);
  });
});

describe('input checks', () => {
  const parser = new PafParser(coco, params(coco));
  const maps = renderSyntheticMaps(coco, 20, 16, []);
  it('rejects maps that do not fit the layout with a message, and parses empty maps to nobody', () => {
    expect(parser.parse(maps).count).toBe(0);
    expect(() => parser.parse({ ...maps, heatmaps: maps.heatmaps.subarray(0, 17 * 320) })).toThrow(ParserInputError);
    expect(() => parser.parse({ ...maps, pafs: maps.pafs.subarray(0, 37 * 320) })).toThrow(/PAFs hold 37 channels of 20×16 but the layout needs 38/);
    expect(() => parser.parse({ ...maps, width: 0 })).toThrow(/map size/);
    expect(() => parser.parse({ ...maps, pafOffset: 1 })).toThrow(ParserInputError);
  });
  it('refuses parameters it cannot run with, keeping the old ones', () => {
    const p = new PafParser(coco, params(coco));
    expect(() => p.setParams(params(coco, { nms_threshold: NaN }))).toThrow(/nms_threshold must be a finite number/);
    expect(() => p.setParams(params(coco, { paf_samples: { min: 10, max: 100, per_cells: 1 } }))).toThrow(/paf_samples needs/);
    expect(() => p.setParams(params(coco, { paf_samples: { min: 10, max: 10, per_cells: 0 } }))).toThrow(/per_cells/);
    expect(() => p.setParams(params(coco, { min_subset_cnt: 1.5 }))).toThrow(/min_subset_cnt/);
    expect(() => new PafParser(coco, params(coco, { number_people_max: -1 }))).toThrow(RangeError);
    const maps = renderSyntheticMaps(coco, 40, 36, [standingSkeleton(coco, 20, 2, 30)]);
    expect(p.parse(maps).count).toBe(1);
  });
  it('survives NaN and infinite map values', () => {
    const bad = renderSyntheticMaps(coco, 40, 36, [standingSkeleton(coco, 20, 2, 30)]);
    bad.heatmaps.fill(NaN, 0, 500);
    bad.pafs.fill(Infinity, 0, 500);
    bad.pafs.fill(NaN, 3000, 4000);
    const r = parser.parse(bad);
    expect(r.count).toBeLessThanOrEqual(1);
    for (let i = 0; i < r.count * coco.numParts * 3; i++) expect(Number.isFinite(r.keypoints[i])).toBe(true);
  });
});

describe('cost', () => {
  /** The parser's scratch buffers, read through its private fields to check they are reused. */
  function buffers(p: PafParser): unknown[] {
    const q = p as unknown as Record<string, Record<string, unknown>>;
    const r = p.parse.call(p, renderSyntheticMaps(coco, 20, 16, [])); // result object is one of them
    return [
      r, q.peaks!.x, q.peaks!.y, q.peaks!.score, q.connections!.a, q.connections!.score,
      q.scorer!.pairA, q.scorer!.pairScore, q.scorer!.endAX, q.scorer!.endBY, q.scorer!.dots, q.matcher!.candOrder, q.matcher!.usedBy,
      q.assembler!.personPeak, q.assembler!.owner, q.assembler!.adjList, q.assembler!.key, q.assembler!.seeds,
      (q.assembler!.frontier as unknown as { items: unknown }).items, q.rank, q.order,
    ];
  }

  it('reuses its result and every scratch buffer once warm', () => {
    const parser = new PafParser(coco, params(coco));
    const busy = renderSyntheticMaps(coco, 57, 32, randomSkeletons(coco, 8, 57, 32, 8));
    const quiet = renderSyntheticMaps(coco, 57, 32, randomSkeletons(coco, 3, 57, 32, 3));
    parser.parse(busy); // grows the buffers to what this scene needs
    const before = buffers(parser);
    const r1 = parser.parse(busy);
    const k1 = r1.keypoints;
    const r2 = parser.parse(quiet);
    expect(r2).toBe(r1);
    expect(r2.keypoints).toBe(k1);
    expect(r2.count).toBe(3);
    parser.parse(busy);
    const after = buffers(parser);
    after.forEach((b, i) => expect(b, `buffer ${i}`).toBe(before[i]));
  });

  it('grows its result when a frame has more people than ever before', () => {
    const parser = new PafParser(coco, params(coco));
    const few = parser.parse(renderSyntheticMaps(coco, 57, 32, randomSkeletons(coco, 2, 57, 32, 2)));
    const capacity = few.scores.length;
    const many = randomSkeletons(coco, capacity + 4, 6 * 57, 3 * 32, 7);
    const r = parser.parse(renderSyntheticMaps(coco, 6 * 57, 3 * 32, many));
    expect(r.count).toBe(capacity + 4);
    expect(r.scores.length).toBeGreaterThanOrEqual(capacity + 4);
    expect(r.keypoints.length).toBeGreaterThanOrEqual((capacity + 4) * coco.numParts * 3);
  });

  it('grows linearly with people except pair scoring, whose rejections cost a bounded number of samples', () => {
    // People of the same size, 1 alone and 64 on a map 8 × 8 times larger.
    const one = new PafParser(coco, params(coco));
    one.parse(renderSyntheticMaps(coco, 57, 32, randomSkeletons(coco, 1, 57, 32, 1)));
    const w1 = { ...one.work };
    const crowd = new PafParser(coco, params(coco));
    const r = crowd.parse(renderSyntheticMaps(coco, 8 * 57, 8 * 32, randomSkeletons(coco, 64, 8 * 57, 8 * 32, 64)));
    const w64 = { ...crowd.work };
    expect(r.count).toBe(64);
    expect(w64.peaks).toBe(64 * w1.peaks);
    expect(w64.connections).toBe(64 * w1.connections);
    // Ordering and assembly are O(C log C) for C connections: the cost per connection may grow by
    // the log factor (2.4 here, with heapsort's 2 comparisons per level) but not with the number of
    // people, as scanning every person per connection would (64×).
    const perConnection = w64.assembly / w64.connections / (w1.assembly / w1.connections);
    expect(perConnection).toBeLessThan(2 * Math.log2(w64.connections) / Math.log2(w1.connections));
    // Every (A, B) pair of a limb is considered, as in OpenPose: Σ nA·nB = 64² per limb.
    expect(w64.pairs).toBe(64 * 64 * coco.numLimbs);
    // Kept pairs cost 10 samples. A rejected one stops after 2 failures (0.8 of 10 must agree),
    // and the end samples are read once per peak, not per pair: a pair pointing against the field
    // at both ends reads nothing, so the samples stay well under 2 per rejected pair.
    const rejected = w64.pairs - w64.connections;
    expect(w64.samples).toBeLessThanOrEqual(10 * w64.connections + 1.25 * rejected);
    expect(w1.samples).toBe(10 * w1.connections);
  });
});
