// Stage 3: per-limb bipartite matching. Every (A peak, B peak) pair of a limb is scored; pairs are
// taken greedily by descending score, each peak used at most once per limb (OpenPose's
// approximation of the maximum-weight matching; it is exact when limbs do not compete).

import type { ModelLayout } from '../manifest.js';
import { growFloat64, growInt32 } from './buffers.js';
import type { PafScorer } from './paf-score.js';
import type { PeakSet } from './peaks.js';
import { sortByKeyDescending } from './sort.js';

/** Connections kept by the matching, over all limbs: peak indices refer to the frame's PeakSet. */
export class ConnectionSet {
  /** [capacity]: peak index of end A and end B, limb index, and score (mean PAF agreement + distance prior). */
  a: Int32Array = new Int32Array(64);
  b: Int32Array = new Int32Array(64);
  limb: Int32Array = new Int32Array(64);
  score: Float64Array = new Float64Array(64);
  count = 0;

  push(a: number, b: number, limb: number, score: number): void {
    const n = this.count;
    if (n >= this.a.length) {
      this.a = growInt32(this.a, n + 1, n);
      this.b = growInt32(this.b, n + 1, n);
      this.limb = growInt32(this.limb, n + 1, n);
      this.score = growFloat64(this.score, n + 1, n);
    }
    this.a[n] = a;
    this.b[n] = b;
    this.limb[n] = limb;
    this.score[n] = score;
    this.count = n + 1;
  }
}

export class LimbMatcher {
  /** [capacity]: the accepted candidate pairs of the limb being matched (indices into the scorer's
   *  pairA, pairB, pairScore), best first. */
  private candOrder: Int32Array = new Int32Array(64);
  /** [peaks]: `stamp` of the limb that last used each peak, so nothing needs clearing per limb. */
  private usedBy: Int32Array = new Int32Array(256);
  private stamp = 0;
  /** Pairs considered and sort steps since the last `matchAll` (work counter). */
  pairs = 0;
  sortSteps = 0;

  /** Scores and matches every limb of `layout`, appending the kept connections to `out`. */
  matchAll(layout: ModelLayout, peaks: PeakSet, scorer: PafScorer, pafOffset: number, out: ConnectionSet): void {
    out.count = 0;
    this.pairs = 0;
    this.sortSteps = 0;
    if (this.usedBy.length < peaks.total || this.stamp > 0x3fffffff) {
      this.usedBy = growInt32(this.usedBy, peaks.total);
      this.usedBy.fill(0);
      this.stamp = 0;
    }
    for (let l = 0; l < layout.numLimbs; l++) this.matchLimb(layout, l, peaks, scorer, pafOffset, out);
  }

  private matchLimb(layout: ModelLayout, l: number, peaks: PeakSet, scorer: PafScorer, pafOffset: number, out: ConnectionSet): void {
    const partA = layout.limbA[l]!, partB = layout.limbB[l]!;
    const startA = peaks.start[partA]!, nA = peaks.count[partA]!;
    const startB = peaks.start[partB]!, nB = peaks.count[partB]!;
    if (nA === 0 || nB === 0) return;
    const chX = pafOffset + layout.pafX[l]!, chY = pafOffset + layout.pafY[l]!;
    // The scorer keeps the accepted pairs in its own buffers; only their order is ours.
    const n = scorer.scoreLimb(chX, chY, peaks.x, peaks.y, startA, nA, startB, nB);
    if (n > this.candOrder.length) this.candOrder = growInt32(this.candOrder, n);
    for (let c = 0; c < n; c++) this.candOrder[c] = c;
    this.pairs += nA * nB;
    if (n === 0) return;
    const candA = scorer.pairA, candB = scorer.pairB, candScore = scorer.pairScore;
    this.sortSteps += sortByKeyDescending(this.candOrder, candScore, n);
    const stamp = ++this.stamp;
    const used = this.usedBy;
    const maxConnections = nA < nB ? nA : nB;
    let kept = 0;
    for (let r = 0; r < n && kept < maxConnections; r++) {
      const c = this.candOrder[r]!;
      const a = candA[c]!, b = candB[c]!;
      if (used[a] === stamp || used[b] === stamp) continue;
      used[a] = stamp;
      used[b] = stamp;
      out.push(a, b, l, candScore[c]!);
      kept++;
    }
  }
}
