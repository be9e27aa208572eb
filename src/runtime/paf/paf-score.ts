// Stage 2: how well the part affinity field supports a candidate limb A→B (Cao et al., eq. 10).
// The line integral is approximated by n uniform samples t = i/(n−1) from A to B, the field read
// by bilinear interpolation (peaks are sub-cell, and on stride-8 maps a limb spans only a few
// cells, so nearest-cell reads would snap samples onto neighbouring cells). As in OpenPose's
// getScoreAB: a sample agrees when dot(PAF, unit(B−A)) > inter_threshold; more than
// inter_min_above_threshold of the samples must agree; the score is the mean dot product plus a
// distance prior min(0, max_limb_ratio·H/|B−A| − 1) and must stay positive.
//
// Samples are visited from the middle outwards: a pair that joins two different people fails in
// the gap between them, usually around its middle, while its ends sit on real parts whose own
// fields often agree a little. It is rejected as soon as more samples have failed than the share
// allows (after 2 of 10 samples with the default 0.8), instead of after all n samples. The
// accepted score is the same in any order.

import type { ParserParams } from '../manifest.js';

/** Returned for a pair that fails any criterion. */
export const REJECTED = -Infinity;

/** Sample indices 0..n-1 from the middle outwards (middle, its neighbours, ..., the two ends). */
export function middleOutOrder(n: number): Int32Array {
  const order = new Int32Array(n);
  const mid = (n - 1) / 2;
  for (let i = 0; i < n; i++) order[i] = i;
  // Stable by distance from the middle; n ≤ 64, computed once per parameter change.
  order.sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid) || a - b);
  return order;
}

export class PafScorer {
  private interThreshold = 0;
  private minAbove = 0;
  private samplesMin = 2;
  private samplesMax = 2;
  private perCells = 1;
  private maxLimbRatio = 0.5;
  /** positions[n]: the n sample positions t ∈ [0, 1] along the limb, in visiting order. */
  private positions: Float64Array[] = [];
  /** [samplesMax + 1]: how many of n samples may disagree (−1: none can pass). */
  private allowedFailures: Int32Array = new Int32Array(0);

  private paf: Float32Array = new Float32Array(0);
  private width = 0;
  private height = 0;
  private distanceLimit = 0;

  /** PAF samples read since the last `setMap` (work counter). */
  samples = 0;

  constructor(params: ParserParams) {
    this.setParams(params);
  }

  setParams(p: ParserParams): void {
    this.interThreshold = p.inter_threshold;
    this.minAbove = p.inter_min_above_threshold;
    this.samplesMin = Math.max(2, Math.floor(p.paf_samples.min));
    this.samplesMax = Math.max(this.samplesMin, Math.floor(p.paf_samples.max));
    this.perCells = p.paf_samples.per_cells > 0 ? p.paf_samples.per_cells : 1;
    this.maxLimbRatio = p.max_limb_ratio;
    this.positions = [];
    this.allowedFailures = new Int32Array(this.samplesMax + 1);
    for (let n = 0; n <= this.samplesMax; n++) {
      const order = n >= this.samplesMin ? middleOutOrder(n) : new Int32Array(0);
      this.positions.push(Float64Array.from(order, (i) => i / (n - 1)));
      // "More than minAbove·n samples agree" ⇔ at most n − (⌊minAbove·n⌋ + 1) may disagree.
      this.allowedFailures[n] = n - (Math.floor(this.minAbove * n) + 1);
    }
  }

  /** Points the scorer at this frame's PAF tensor (NCHW, N = 1, width × height cells). */
  setMap(paf: Float32Array, width: number, height: number): void {
    this.paf = paf;
    this.width = width;
    this.height = height;
    this.distanceLimit = this.maxLimbRatio * height;
    this.samples = 0;
  }

  /**
   * Score of the limb from (ax, ay) to (bx, by) (map cells) whose field components are the absolute
   * channels `chX` and `chY` of the PAF tensor, or REJECTED.
   */
  score(chX: number, chY: number, ax: number, ay: number, bx: number, by: number): number {
    const dx = bx - ax, dy = by - ay;
    const len = Math.sqrt(dx * dx + dy * dy);
    if (!(len > 1e-6)) return REJECTED; // coincident parts: no direction to test
    const ux = dx / len, uy = dy / len;
    let n = Math.round(len / this.perCells);
    n = n < this.samplesMin ? this.samplesMin : n > this.samplesMax ? this.samplesMax : n;
    const maxFailures = this.allowedFailures[n]!;
    if (maxFailures < 0) return REJECTED;
    const positions = this.positions[n]!;
    const paf = this.paf, w = this.width, h = this.height;
    const plane = w * h;
    const baseX = chX * plane, baseY = chY * plane;
    const thr = this.interThreshold;
    let failures = 0, sum = 0, read = 0;
    for (let j = 0; j < n; j++) {
      const t = positions[j]!;
      let sx = ax + dx * t, sy = ay + dy * t;
      sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
      let x0 = sx | 0, y0 = sy | 0; // floor: both are ≥ 0 here
      if (x0 > w - 2) x0 = w - 2;
      if (y0 > h - 2) y0 = h - 2;
      const fx = sx - x0, fy = sy - y0;
      const i00 = y0 * w + x0;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const px = w00 * paf[baseX + i00]! + w01 * paf[baseX + i00 + 1]! + w10 * paf[baseX + i00 + w]! + w11 * paf[baseX + i00 + w + 1]!;
      const py = w00 * paf[baseY + i00]! + w01 * paf[baseY + i00 + 1]! + w10 * paf[baseY + i00 + w]! + w11 * paf[baseY + i00 + w + 1]!;
      const dot = px * ux + py * uy;
      read++;
      sum += dot;
      if (!(dot > thr) && ++failures > maxFailures) {
        this.samples += read;
        return REJECTED;
      }
    }
    this.samples += read;
    const prior = this.distanceLimit / len - 1;
    const s = sum / n + (prior < 0 ? prior : 0);
    return s > 0 ? s : REJECTED;
  }
}
