// PafScorer.scoreLimb (the matcher's fast path) against a straightforward reference written here:
// every sample of every pair read, failures counted afterwards, on crowded and noisy maps. The
// accepted pairs and their scores must be the same, bit for bit.

import { describe, expect, it } from 'vitest';
import { layoutOf, loadManifest, type ParserParams } from '../../../src/runtime/manifest.js';
import { PafScorer } from '../../../src/runtime/paf/paf-score.js';
import { PeakSet, findPeaks } from '../../../src/runtime/paf/peaks.js';
import { randomSkeletons, renderSyntheticMaps, seededRandom } from '../../../src/runtime/synthetic.js';

const coco = layoutOf(loadManifest('lightweight-openpose-coco18'));
const defaults = coco.manifest.parser;

/** The definition: n = clamp(round(len / per_cells)), samples t = i/(n−1) summed from the middle
 *  outwards (the order that fixes the double), bilinear reads clamped to the map. */
function reference(p: ParserParams, paf: Float32Array, W: number, H: number, chX: number, chY: number,
  ax: number, ay: number, bx: number, by: number): number | null {
  const dx = bx - ax, dy = by - ay;
  const len = Math.sqrt(dx * dx + dy * dy);
  if (!(len > 1e-6)) return null;
  const ux = dx / len, uy = dy / len;
  const n = Math.min(p.paf_samples.max, Math.max(p.paf_samples.min, Math.round(len / p.paf_samples.per_cells)));
  const mid = (n - 1) / 2;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid) || a - b);
  const read = (c: number, x: number, y: number) => paf[c * W * H + y * W + x]!;
  let sum = 0, agree = 0;
  for (const i of order) {
    const t = i / (n - 1);
    const sx = Math.min(W - 1, Math.max(0, ax + dx * t)), sy = Math.min(H - 1, Math.max(0, ay + dy * t));
    const x0 = Math.min(W - 2, Math.floor(sx)), y0 = Math.min(H - 2, Math.floor(sy));
    const fx = sx - x0, fy = sy - y0;
    const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
    const px = w00 * read(chX, x0, y0) + w01 * read(chX, x0 + 1, y0) + w10 * read(chX, x0, y0 + 1) + w11 * read(chX, x0 + 1, y0 + 1);
    const py = w00 * read(chY, x0, y0) + w01 * read(chY, x0 + 1, y0) + w10 * read(chY, x0, y0 + 1) + w11 * read(chY, x0 + 1, y0 + 1);
    const dot = px * ux + py * uy;
    sum += dot;
    if (dot > p.inter_threshold) agree++;
  }
  if (!(agree > Math.floor(p.inter_min_above_threshold * n))) return null;
  const s = sum / n + Math.min(0, (p.max_limb_ratio * H) / len - 1);
  return s > 0 ? s : null;
}

/** Every limb's accepted pairs, "a b score" per line, from scoreLimb and from the reference. */
function compare(p: ParserParams, maps: { heatmaps: Float32Array; pafs: Float32Array }, W: number, H: number) {
  const peaks = new PeakSet(coco.numParts);
  findPeaks(maps.heatmaps, 0, coco.numParts, W, H, p.nms_threshold, peaks);
  const scorer = new PafScorer(p);
  scorer.setMap(maps.pafs, W, H);
  const fast: string[] = [], ref: string[] = [], byScore: string[] = [];
  let pairs = 0;
  for (let l = 0; l < coco.numLimbs; l++) {
    const chX = coco.pafX[l]!, chY = coco.pafY[l]!;
    const sA = peaks.start[coco.limbA[l]!]!, nA = peaks.count[coco.limbA[l]!]!;
    const sB = peaks.start[coco.limbB[l]!]!, nB = peaks.count[coco.limbB[l]!]!;
    const found = scorer.scoreLimb(chX, chY, peaks.x, peaks.y, sA, nA, sB, nB);
    for (let k = 0; k < found; k++) fast.push(`${l} ${scorer.pairA[k]} ${scorer.pairB[k]} ${scorer.pairScore[k]}`);
    for (let a = sA; a < sA + nA; a++)
      for (let b = sB; b < sB + nB; b++) {
        pairs++;
        const s = reference(p, maps.pafs, W, H, chX, chY, peaks.x[a]!, peaks.y[a]!, peaks.x[b]!, peaks.y[b]!);
        if (s !== null) ref.push(`${l} ${a} ${b} ${s}`);
        const t = scorer.score(chX, chY, peaks.x[a]!, peaks.y[a]!, peaks.x[b]!, peaks.y[b]!);
        if (t > -Infinity) byScore.push(`${l} ${a} ${b} ${t}`);
      }
  }
  return { fast, ref, byScore, pairs };
}

/** Synthetic maps of `people` people, the PAFs scaled by `scale` plus seeded noise of amplitude `noise`. */
function noisy(people: number, W: number, H: number, seed: number, noise: number, scale = 1) {
  const maps = renderSyntheticMaps(coco, W, H, randomSkeletons(coco, people, W, H, seed));
  const random = seededRandom(seed * 31 + 1);
  for (let i = 0; i < maps.pafs.length; i++) maps.pafs[i] = scale * maps.pafs[i]! + noise * (2 * random() - 1);
  return maps;
}

describe('PafScorer.scoreLimb', () => {
  const variants: [string, Partial<ParserParams>][] = [
    ['default parameters', {}],
    ['lax share (4 of 10 may fail)', { inter_min_above_threshold: 0.5 }],
    ['length-dependent sample count', { paf_samples: { min: 3, max: 24, per_cells: 0.75 } }],
    ['zero threshold and strong distance prior', { inter_threshold: 0, max_limb_ratio: 0.1 }],
    ['negative threshold', { inter_threshold: -0.2 }],
  ];
  for (const [name, over] of variants)
    it(`accepts exactly the reference's pairs with the same scores: ${name}`, () => {
      const p = { ...defaults, ...over };
      // Clean, noisy, very noisy, and a weak field hovering around inter_threshold (0.05).
      const scenes = [[48, 120, 70, 3, 0, 1], [40, 120, 70, 5, 0.3, 1], [12, 57, 32, 9, 0.6, 1], [30, 120, 70, 13, 0.03, 0.09]] as const;
      for (const [people, W, H, seed, noise, scale] of scenes) {
        const r = compare(p, noisy(people, W, H, seed, noise, scale), W, H);
        expect(r.pairs).toBeGreaterThan(people * people);
        expect(r.ref.length).toBeGreaterThan(0);
        expect(r.fast).toEqual(r.ref);
        expect(r.byScore).toEqual(r.ref);
      }
    });

  it('agrees on pure noise, peaks at the map border and a NaN in the field', () => {
    const W = 40, H = 24, random = seededRandom(11);
    const heatmaps = new Float32Array(19 * W * H), pafs = new Float32Array(38 * W * H);
    for (let i = 0; i < pafs.length; i++) pafs[i] = 2 * random() - 1;
    pafs[5 * W * H + 100] = NaN;
    // Peaks on a lattice that includes the first and last rows and columns.
    for (let k = 0; k < 18; k++)
      for (let y = 0; y < H; y += 3 + (k % 3))
        for (let x = (k % 4); x < W; x += 5) heatmaps[k * W * H + y * W + x] = 0.5 + 0.4 * random();
    for (const over of [{}, { inter_min_above_threshold: 0.3 }, { paf_samples: { min: 2, max: 6, per_cells: 2 } }]) {
      const r = compare({ ...defaults, ...over }, { heatmaps, pafs }, W, H);
      expect(r.fast).toEqual(r.ref);
    }
  });

  it('reads the far end itself when A + (B − A) does not round back to B', () => {
    // B = (1e-30, 1e-30), A = (1, 9.5): B − A rounds to (−1, −9.5), so score's t = 1 sample is at
    // (0, 0), not at B. A huge value at cell (1, 0) weighs 1e-30 at B and nothing at (0, 0): the
    // vector read at B itself would turn the accepted pair's mean hugely negative.
    const W = 12, H = 10, plane = W * H;
    const pafs = new Float32Array(38 * plane);
    pafs.fill(-0.1, 12 * plane, 13 * plane); // limb 0: x channel 12, y channel 13
    pafs.fill(-1, 13 * plane, 14 * plane);
    pafs[12 * plane + 1] = 1e38;
    const xs = Float32Array.of(1, 1e-30), ys = Float32Array.of(9.5, 1e-30);
    const scorer = new PafScorer(defaults);
    scorer.setMap(pafs, W, H);
    const expected = reference(defaults, pafs, W, H, 12, 13, xs[0]!, ys[0]!, xs[1]!, ys[1]!);
    expect(expected).toBeGreaterThan(0.5);
    expect(scorer.scoreLimb(12, 13, xs, ys, 0, 1, 1, 1)).toBe(1);
    expect(scorer.pairScore[0]).toBe(expected);
    // Now the field at A (row 9 only) points away: A's end fails, B's must still count as passing
    // (one failure is allowed), though the vector at B itself points against the pair too.
    for (let x = 0; x < W; x++) {
      pafs[12 * plane + 9 * W + x] = 0.1;
      pafs[13 * plane + 9 * W + x] = 1;
    }
    const second = reference(defaults, pafs, W, H, 12, 13, xs[0]!, ys[0]!, xs[1]!, ys[1]!);
    expect(second).toBeGreaterThan(0);
    scorer.setMap(pafs, W, H);
    expect(scorer.scoreLimb(12, 13, xs, ys, 0, 1, 1, 1)).toBe(1);
    expect(scorer.pairScore[0]).toBe(second);
  });

  it('rejects most crowd pairs without reading the map beyond the two end vectors per peak', () => {
    const W = 164, H = 92;
    const maps = renderSyntheticMaps(coco, W, H, randomSkeletons(coco, 64, W, H, 71));
    const peaks = new PeakSet(coco.numParts);
    findPeaks(maps.heatmaps, 0, coco.numParts, W, H, defaults.nms_threshold, peaks);
    const scorer = new PafScorer(defaults);
    scorer.setMap(maps.pafs, W, H);
    let pairs = 0, kept = 0, ends = 0;
    for (let l = 0; l < coco.numLimbs; l++) {
      const nA = peaks.count[coco.limbA[l]!]!, nB = peaks.count[coco.limbB[l]!]!;
      kept += scorer.scoreLimb(coco.pafX[l]!, coco.pafY[l]!, peaks.x, peaks.y, peaks.start[coco.limbA[l]!]!, nA, peaks.start[coco.limbB[l]!]!, nB);
      pairs += nA * nB;
      ends += nA + nB;
    }
    expect(pairs).toBe(64 * 64 * coco.numLimbs);
    // The old cost: a rejected pair read 2 samples at least (2 failures reject 10 samples at 0.8).
    // Here the end vectors are read once per peak and a pair's inner samples only when its ends
    // agree with the field: well under 2 samples per rejected pair.
    const inner = scorer.samples - ends - 8 * kept;
    expect(inner).toBeLessThan(1.5 * (pairs - kept));
  });
});
