import { describe, expect, it } from 'vitest';
import type { ParserParams } from '../../../src/runtime/manifest.js';
import { PafScorer, REJECTED, middleOutOrder } from '../../../src/runtime/paf/paf-score.js';

const W = 16, H = 10, plane = W * H;
const base: ParserParams = {
  nms_threshold: 0.1, inter_threshold: 0.05, inter_min_above_threshold: 0.8, min_subset_cnt: 3, min_subset_score: 0.2,
  number_people_max: 0, paf_samples: { min: 10, max: 10, per_cells: 1 }, max_limb_ratio: 2,
};

/** A 2-channel PAF (x in channel 0, y in channel 1) that is (fx, fy) everywhere. */
function field(fx: number, fy: number): Float32Array {
  const f = new Float32Array(2 * plane);
  f.fill(fx, 0, plane);
  f.fill(fy, plane);
  return f;
}

function scorer(paf: Float32Array, over: Partial<ParserParams> = {}): PafScorer {
  const s = new PafScorer({ ...base, ...over });
  s.setMap(paf, W, H);
  return s;
}

describe('PafScorer', () => {
  it('scores a field that agrees everywhere as 1, reading n samples', () => {
    const s = scorer(field(0.6, 0.8));
    expect(s.score(0, 1, 2, 1, 5, 5)).toBeCloseTo(1, 6);
    expect(s.samples).toBe(10);
  });

  it('rejects opposite, perpendicular and absent fields, and coincident parts', () => {
    expect(scorer(field(-1, 0)).score(0, 1, 2, 5, 9, 5)).toBe(REJECTED);
    expect(scorer(field(0, 1)).score(0, 1, 2, 5, 9, 5)).toBe(REJECTED);
    expect(scorer(field(0, 0)).score(0, 1, 2, 5, 9, 5)).toBe(REJECTED);
    expect(scorer(field(1, 0)).score(0, 1, 4, 4, 4, 4)).toBe(REJECTED);
  });

  it('reads the x and y components from the channels it is given', () => {
    const f = field(0, 1); // channel 0 = 0, channel 1 = 1: pointing down when channel 1 is y
    expect(scorer(f).score(0, 1, 5, 1, 5, 8)).toBeCloseTo(1, 6);
    expect(scorer(f).score(1, 0, 5, 1, 5, 8)).toBe(REJECTED); // read as x-first it points right
  });

  it('needs more than inter_min_above_threshold of the samples to agree', () => {
    // A horizontal limb from x = 2 to 11 samples exactly the cells x = 2..11 of row 5.
    const one = field(1, 0);
    one[5 * W + 6] = 0;
    expect(scorer(one).score(0, 1, 2, 5, 11, 5)).toBeCloseTo(0.9, 6); // 9 of 10 agree
    const two = new Float32Array(one);
    two[5 * W + 7] = 0;
    expect(scorer(two).score(0, 1, 2, 5, 11, 5)).toBe(REJECTED); // 8 of 10 is not more than 0.8
    expect(scorer(two, { inter_min_above_threshold: 0.75 }).score(0, 1, 2, 5, 11, 5)).toBeCloseTo(0.8, 6);
    const weak = field(0.04, 0); // agrees in direction but not above inter_threshold
    expect(scorer(weak).score(0, 1, 2, 5, 11, 5)).toBe(REJECTED);
    expect(scorer(weak, { inter_threshold: 0.03 }).score(0, 1, 2, 5, 11, 5)).toBeCloseTo(0.04, 6);
  });

  it('interpolates the field between cells', () => {
    const f = new Float32Array(2 * plane);
    for (let x = 0; x < W; x++) { f[4 * W + x] = 1; f[5 * W + x] = 0.5; } // rows 4 and 5
    expect(scorer(f).score(0, 1, 1, 4.5, 12, 4.5)).toBeCloseTo(0.75, 6);
  });

  it('penalises pairs longer than max_limb_ratio × map height', () => {
    const f = field(1, 0);
    // Limit 0.5 × 10 = 5 cells; a 9-cell limb scores 1 + (5/9 − 1).
    expect(scorer(f, { max_limb_ratio: 0.5 }).score(0, 1, 2, 5, 11, 5)).toBeCloseTo(5 / 9, 6);
    expect(scorer(f, { max_limb_ratio: 0.5 }).score(0, 1, 2, 5, 6, 5)).toBeCloseTo(1, 6);
  });

  it('takes more samples for longer limbs within paf_samples min and max', () => {
    const f = field(1, 0);
    const s = scorer(f, { paf_samples: { min: 3, max: 8, per_cells: 2 } });
    const read = (bx: number) => {
      s.setMap(f, W, H);
      expect(s.score(0, 1, 1, 5, bx, 5)).toBeCloseTo(1, 6);
      return s.samples;
    };
    expect(read(3)).toBe(3); // 2 cells: 1 sample by length, raised to the minimum
    expect(read(11)).toBe(5); // 10 cells
    expect(read(15)).toBe(7); // 14 cells
    expect(read(15.9) <= 8).toBe(true);
  });

  it('stops at the first failure past the allowed share', () => {
    const s = scorer(field(0, 0));
    expect(s.score(0, 1, 2, 5, 11, 5)).toBe(REJECTED);
    expect(s.samples).toBe(2); // 10 samples, 1 failure allowed
    const lax = scorer(field(0, 0), { inter_min_above_threshold: 0.5 });
    lax.score(0, 1, 2, 5, 11, 5);
    expect(lax.samples).toBe(5);
  });

  it('visits samples from the middle outwards', () => {
    expect(Array.from(middleOutOrder(10))).toEqual([4, 5, 3, 6, 2, 7, 1, 8, 0, 9]);
    expect(Array.from(middleOutOrder(5))).toEqual([2, 1, 3, 0, 4]);
  });
});
