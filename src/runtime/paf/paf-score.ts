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
//
// `scoreLimb` is the matcher's fast path: for every pair of a limb, bit for bit what `score`
// returns. Nearly every pair of a crowded limb joins two different people and is rejected, so what
// matters is how cheaply a rejection is proven. The end samples (t = 0 at A, t = 1 at B) depend on
// one peak only, so they are read once per peak and limb (`endVectors`) instead of once per pair.
// A pair that points against the field at both of its ends (the sign of e·(B − A), no square root
// or division) is rejected with no map read at all when two failures reject (the default 10
// samples and 0.8); otherwise the exact end dots are counted first and the inner samples are read
// middle-out until the failures exceed the allowed share. Which samples fail does not depend on the
// order they are read in, so the decision is `score`'s; an accepted pair's dots are kept by sample
// index and summed in `score`'s order, so its score is the same double. Pairs are still all
// visited (Σ nA·nB per limb): no bound on |B − A| follows from the parameters (a field of unit
// vectors along a long straight band accepts pairs up to any length ≤ max_limb_ratio·H, and
// beyond it while the mean stays above the prior's penalty), so skipping far pairs would change
// results; rejecting one costs a few arithmetic operations instead.

import type { ParserParams } from '../manifest.js';
import { growFloat64, growInt32 } from './buffers.js';

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
  /** For `scoreLimb`, per n: t of sample index i (the same doubles as `positions`), the middle-out
   *  index order (to sum as `score` does) and that order without the two ends. */
  private tOf: Float64Array[] = [];
  private middleOut: Int32Array[] = [];
  private inner: Int32Array[] = [];
  /** [samplesMax]: dot product of each sample of the pair being scored, by sample index. */
  private dots: Float64Array = new Float64Array(0);
  /** [peaks of a part]: the limb's field vector at each A and each B peak (see `endVectors`). */
  private endAX: Float64Array = new Float64Array(64);
  private endAY: Float64Array = new Float64Array(64);
  private endBX: Float64Array = new Float64Array(64);
  private endBY: Float64Array = new Float64Array(64);
  /** [peaks of a part]: 1 where the end sample may be judged by the sign of e·(B − A) alone. */
  private signA: Int32Array = new Int32Array(64);
  private signB: Int32Array = new Int32Array(64);
  /** The most failures any sample count n in paf_samples allows. */
  private maxAllowedFailures = 0;
  /** [capacity]: the pairs the last `scoreLimb` kept: peak indices and score. */
  pairA: Int32Array = new Int32Array(64);
  pairB: Int32Array = new Int32Array(64);
  pairScore: Float64Array = new Float64Array(64);

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
    this.tOf = [];
    this.middleOut = [];
    this.inner = [];
    this.dots = new Float64Array(this.samplesMax);
    this.maxAllowedFailures = -1;
    this.allowedFailures = new Int32Array(this.samplesMax + 1);
    for (let n = 0; n <= this.samplesMax; n++) {
      const order = n >= this.samplesMin ? middleOutOrder(n) : new Int32Array(0);
      this.positions.push(Float64Array.from(order, (i) => i / (n - 1)));
      this.middleOut.push(order);
      this.tOf.push(Float64Array.from(order, (_, i) => i / (n - 1)));
      this.inner.push(order.filter((i) => i !== 0 && i !== n - 1));
      // "More than minAbove·n samples agree" ⇔ at most n − (⌊minAbove·n⌋ + 1) may disagree.
      this.allowedFailures[n] = n - (Math.floor(this.minAbove * n) + 1);
      if (n >= this.samplesMin) this.maxAllowedFailures = Math.max(this.maxAllowedFailures, this.allowedFailures[n]!);
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

  /**
   * Writes the field vector read at each of the peaks start..start+count−1 of `xs`, `ys` into
   * `outX`, `outY`: exactly the vector `score` reads for the end sample of a limb at that peak.
   * Counts one sample read per peak.
   */
  endVectors(chX: number, chY: number, xs: Float32Array, ys: Float32Array, start: number, count: number, outX: Float64Array, outY: Float64Array): void {
    const paf = this.paf, w = this.width, h = this.height;
    const plane = w * h;
    const baseX = chX * plane, baseY = chY * plane;
    for (let k = 0; k < count; k++) {
      let sx: number = xs[start + k]!, sy: number = ys[start + k]!;
      sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
      let x0 = sx | 0, y0 = sy | 0;
      if (x0 > w - 2) x0 = w - 2;
      if (y0 > h - 2) y0 = h - 2;
      const fx = sx - x0, fy = sy - y0;
      const i00 = y0 * w + x0;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      outX[k] = w00 * paf[baseX + i00]! + w01 * paf[baseX + i00 + 1]! + w10 * paf[baseX + i00 + w]! + w11 * paf[baseX + i00 + w + 1]!;
      outY[k] = w00 * paf[baseY + i00]! + w01 * paf[baseY + i00 + 1]! + w10 * paf[baseY + i00 + w]! + w11 * paf[baseY + i00 + w + 1]!;
    }
    this.samples += count;
  }

  /**
   * Scores every pair (A, B) of one limb, A among the peaks startA..startA+nA−1 and B among
   * startB..startB+nB−1 of `xs`, `ys`: for each pair `score` would not reject, in the order A-major
   * then B, its peak indices and the very double `score` returns go to pairA, pairB and pairScore;
   * returns how many. The whole limb is one call so that no coordinate crosses a call boundary per
   * pair (V8 boxes doubles passed to a call it does not inline: that was most of a rejection's cost).
   */
  scoreLimb(chX: number, chY: number, xs: Float32Array, ys: Float32Array, startA: number, nA: number, startB: number, nB: number): number {
    if (this.endAX.length < nA) {
      this.endAX = growFloat64(this.endAX, nA);
      this.endAY = growFloat64(this.endAY, nA);
    }
    if (this.endBX.length < nB) {
      this.endBX = growFloat64(this.endBX, nB);
      this.endBY = growFloat64(this.endBY, nB);
    }
    if (this.signA.length < nA) this.signA = growInt32(this.signA, nA);
    if (this.signB.length < nB) this.signB = growInt32(this.signB, nB);
    const vax = this.endAX, vay = this.endAY, vbx = this.endBX, vby = this.endBY;
    this.endVectors(chX, chY, xs, ys, startA, nA, vax, vay);
    this.endVectors(chX, chY, xs, ys, startB, nB, vbx, vby);
    // A field vector e fails every direction u with e·u ≤ 0 when thr > 0: the rounding of the
    // computed dot (≤ 7ε(|ex| + |ey|), ε = 2⁻⁵³, both for u = d/|d| and for testing e·d in place of
    // e·u) stays far below thr. Such a peak's end sample can be judged from the sign of e·(B − A):
    // no square root, no division. Peaks whose field is huge or NaN take the exact path.
    const thr0 = this.interThreshold;
    for (let k = 0; k < nA; k++) this.signA[k] = thr0 > 1e-14 * (Math.abs(vax[k]!) + Math.abs(vay[k]!)) ? 1 : 0;
    for (let k = 0; k < nB; k++) this.signB[k] = thr0 > 1e-14 * (Math.abs(vbx[k]!) + Math.abs(vby[k]!)) ? 1 : 0;
    const signA = this.signA, signB = this.signB, maxAllowed = this.maxAllowedFailures;
    const paf = this.paf, w = this.width, h = this.height;
    const plane = w * h;
    const baseX = chX * plane, baseY = chY * plane;
    const thr = this.interThreshold, perCells = this.perCells, samplesMin = this.samplesMin, samplesMax = this.samplesMax;
    const allowed = this.allowedFailures, dots = this.dots, distanceLimit = this.distanceLimit;
    let found = 0, read = 0;
    for (let i = 0; i < nA; i++) {
      const ax: number = xs[startA + i]!, ay: number = ys[startA + i]!;
      const ex = vax[i]!, ey = vay[i]!, sureA = signA[i]!;
      for (let j = 0; j < nB; j++) {
        const bx: number = xs[startB + j]!, by: number = ys[startB + j]!;
        const dx = bx - ax, dy = by - ay;
        // Both ends fail for sure (the usual wrong pair, pointing against the field at both of
        // its ends): more failures than any n allows with the default share.
        const sure = (sureA === 1 && ex * dx + ey * dy <= 0 ? 1 : 0) +
          (signB[j] === 1 && vbx[j]! * dx + vby[j]! * dy <= 0 && ax + dx === bx && ay + dy === by ? 1 : 0);
        if (sure > maxAllowed) continue;
        const len = Math.sqrt(dx * dx + dy * dy);
        if (!(len > 1e-6)) continue; // coincident parts: no direction to test
        const ux = dx / len, uy = dy / len;
        let n = samplesMin;
        if (samplesMax !== samplesMin) {
          n = Math.round(len / perCells);
          n = n < samplesMin ? samplesMin : n > samplesMax ? samplesMax : n;
        }
        const maxFailures = allowed[n]!;
        if (maxFailures < 0) continue;
        // t = 0 samples A itself (ax + dx·0 = ax). t = 1 samples ax + dx, which is bx unless the
        // subtraction rounded (coordinates of wildly different scales): then read it here.
        const dotA = ex * ux + ey * uy;
        const dotB = ax + dx === bx && ay + dy === by ? vbx[j]! * ux + vby[j]! * uy : this.dotAt(baseX, baseY, ax + dx, ay + dy, ux, uy);
        let failures = (dotA > thr ? 0 : 1) + (dotB > thr ? 0 : 1);
        if (failures > maxFailures) continue;
        dots[0] = dotA;
        dots[n - 1] = dotB;
        const inner = this.inner[n]!, tOf = this.tOf[n]!;
        let rejected = false;
        // dotAt() inlined: a call per sample boxes its six number arguments in V8 and costs ~2× here.
        for (let k = 0; k < n - 2; k++) {
          const s = inner[k]!;
          const t = tOf[s]!;
          let sx = ax + dx * t, sy = ay + dy * t;
          sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
          sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
          let x0 = sx | 0, y0 = sy | 0;
          if (x0 > w - 2) x0 = w - 2;
          if (y0 > h - 2) y0 = h - 2;
          const fx = sx - x0, fy = sy - y0;
          const i00 = y0 * w + x0;
          const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
          const px = w00 * paf[baseX + i00]! + w01 * paf[baseX + i00 + 1]! + w10 * paf[baseX + i00 + w]! + w11 * paf[baseX + i00 + w + 1]!;
          const py = w00 * paf[baseY + i00]! + w01 * paf[baseY + i00 + 1]! + w10 * paf[baseY + i00 + w]! + w11 * paf[baseY + i00 + w + 1]!;
          const dot = px * ux + py * uy;
          read++;
          dots[s] = dot;
          if (!(dot > thr) && ++failures > maxFailures) {
            rejected = true;
            break;
          }
        }
        if (rejected) continue;
        // Accepted by the share: sum in score's middle-out order so that the mean is the same double.
        const order = this.middleOut[n]!;
        let sum = 0;
        for (let k = 0; k < n; k++) sum += dots[order[k]!]!;
        const prior = distanceLimit / len - 1;
        const score = sum / n + (prior < 0 ? prior : 0);
        if (!(score > 0)) continue;
        if (found >= this.pairA.length) this.growPairs(found + 1);
        this.pairA[found] = startA + i;
        this.pairB[found] = startB + j;
        this.pairScore[found] = score;
        found++;
      }
    }
    this.samples += read;
    return found;
  }

  private growPairs(needed: number): void {
    const n = this.pairA.length;
    this.pairA = growInt32(this.pairA, needed, n);
    this.pairB = growInt32(this.pairB, needed, n);
    this.pairScore = growFloat64(this.pairScore, needed, n);
  }

  /** The dot product of unit (ux, uy) with the field read at (sx, sy), as `score` reads a sample. */
  private dotAt(baseX: number, baseY: number, sx: number, sy: number, ux: number, uy: number): number {
    const paf = this.paf, w = this.width, h = this.height;
    sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
    sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
    let x0 = sx | 0, y0 = sy | 0;
    if (x0 > w - 2) x0 = w - 2;
    if (y0 > h - 2) y0 = h - 2;
    const fx = sx - x0, fy = sy - y0;
    const i00 = y0 * w + x0;
    const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
    const px = w00 * paf[baseX + i00]! + w01 * paf[baseX + i00 + 1]! + w10 * paf[baseX + i00 + w]! + w11 * paf[baseX + i00 + w + 1]!;
    const py = w00 * paf[baseY + i00]! + w01 * paf[baseY + i00 + 1]! + w10 * paf[baseY + i00 + w]! + w11 * paf[baseY + i00 + w + 1]!;
    this.samples++;
    return px * ux + py * uy;
  }
}
