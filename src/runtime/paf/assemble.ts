// Stage 4: grouping connections into people, across all limbs by descending score.
//
// People are seeded from the best connection whose two peaks are still free, and each person then
// grows best-first over every limb (a max-heap of the connections touching its parts) until no
// connection can add a part; then the next seed. A connection is skipped when it would give a
// person a second peak of one part, or when its far peak already belongs to another person: people
// are never merged. Growing one person to completion before seeding the next is what lets
// "never merge" hold without splitting people: a global descending pass would start separate
// fragments of one body (say a forearm and a torso) that could only be joined by merging.
// Redundant limbs (manifest `redundant: true`) take no part in this. Once every person is built,
// they are applied best first, and only where one end belongs to a person that lacks the other
// part and the other end is free: they add a part, but never create, merge or grow people.
//
// In a tree skeleton (COCO-18, BODY_25 without their redundant limbs) a group of connected peaks
// holds at most one peak per part (per-limb matching gives a peak one connection per limb), so
// every group becomes exactly one person, whatever the order. Only skeletons with cycles
// (trt_pose: neck–hips, eyes, ear–shoulder) can meet a peak twice; there the person grown first
// may take a free peak over a weak link that a later person reaches over a strong one.
//
// Cost: each connection is pushed at most once per end, and the peak→person index (`owner`)
// answers "who has this peak" in O(1): O(C log C) for C connections, linear in the number of people.

import type { ModelLayout } from '../manifest.js';
import { growFloat64, growInt32 } from './buffers.js';
import type { ConnectionSet } from './match.js';
import type { PeakSet } from './peaks.js';
import { IndexHeap, sortByKeyDescending } from './sort.js';

export class PersonAssembler {
  readonly numParts: number;
  /** [people × numParts]: peak index of each part of each person, −1 where missing. */
  personPeak: Int32Array = new Int32Array(0);
  /** [people]: parts found, sum of their peak scores, connections used and the sum of their scores. */
  personParts: Int32Array = new Int32Array(0);
  personPeakSum: Float64Array = new Float64Array(0);
  personLimbs: Int32Array = new Int32Array(0);
  personLimbSum: Float64Array = new Float64Array(0);
  count = 0;
  /** Heap and sort steps of the last `assemble` (work counter). */
  steps = 0;

  /** [peaks]: person owning each peak, −1 while free. */
  private owner: Int32Array = new Int32Array(0);
  /** CSR adjacency: connections touching peak p are adjList[adjStart[p] .. adjStart[p+1]). */
  private adjStart: Int32Array = new Int32Array(0);
  private adjFill: Int32Array = new Int32Array(0);
  private adjList: Int32Array = new Int32Array(0);
  /** [connections]: heap key (the score), seeds (non-redundant) and redundant ones, each best first. */
  private key: Float64Array = new Float64Array(0);
  private seeds: Int32Array = new Int32Array(0);
  private extras: Int32Array = new Int32Array(0);
  private readonly frontier = new IndexHeap(64);

  constructor(numParts: number) {
    this.numParts = numParts;
  }

  /** Groups `conns` into people; results are in the person* arrays, `count` people. */
  assemble(layout: ModelLayout, peaks: PeakSet, conns: ConnectionSet): number {
    const P = peaks.total, C = conns.count, K = this.numParts;
    this.reserve(P, C);
    this.count = 0;
    this.steps = 0;
    const owner = this.owner, adjStart = this.adjStart, adjFill = this.adjFill, adjList = this.adjList;
    const key = this.key, seeds = this.seeds, extras = this.extras;
    const ca = conns.a, cb = conns.b, cl = conns.limb, cs = conns.score;
    const redundant = layout.redundant;

    owner.fill(-1, 0, P);
    adjStart.fill(0, 0, P + 1);
    let nSeeds = 0, nExtras = 0;
    for (let c = 0; c < C; c++) {
      key[c] = cs[c]!;
      if (redundant[cl[c]!]) {
        extras[nExtras++] = c;
        continue;
      }
      seeds[nSeeds++] = c;
      adjStart[ca[c]! + 1]++;
      adjStart[cb[c]! + 1]++;
    }
    for (let p = 0; p < P; p++) adjStart[p + 1] += adjStart[p]!;
    adjFill.set(adjStart.subarray(0, P), 0);
    for (let s = 0; s < nSeeds; s++) {
      const c = seeds[s]!;
      adjList[adjFill[ca[c]!]++] = c;
      adjList[adjFill[cb[c]!]++] = c;
    }
    this.steps += sortByKeyDescending(seeds, key, nSeeds);
    this.steps += sortByKeyDescending(extras, key, nExtras);

    const frontier = this.frontier;
    frontier.reset(2 * C);
    for (let s = 0; s < nSeeds; s++) {
      const c = seeds[s]!;
      const a = ca[c]!, b = cb[c]!;
      if (owner[a] !== -1 || owner[b] !== -1) continue;
      const person = this.newPerson();
      this.addPart(person, layout.limbA[cl[c]!]!, a, peaks, K);
      this.addPart(person, layout.limbB[cl[c]!]!, b, peaks, K);
      this.personLimbs[person]++;
      this.personLimbSum[person] += cs[c]!;
      this.pushEdges(a, c);
      this.pushEdges(b, c);
      while (frontier.size > 0) {
        const e = frontier.pop(key);
        const ea = ca[e]!, eb = cb[e]!;
        // Exactly one end is already this person's (that is how e got here) unless both are.
        const farIsB = owner[ea] === person;
        const far = farIsB ? eb : ea;
        if (owner[far] !== -1) continue; // ours already (a cycle) or someone else's: never merge
        const part = farIsB ? layout.limbB[cl[e]!]! : layout.limbA[cl[e]!]!;
        if (this.personPeak[person * K + part] !== -1) continue; // already has this part
        this.addPart(person, part, far, peaks, K);
        this.personLimbs[person]++;
        this.personLimbSum[person] += cs[e]!;
        this.pushEdges(far, e);
      }
    }
    this.steps += frontier.steps;

    for (let x = 0; x < nExtras; x++) {
      const c = extras[x]!;
      const a = ca[c]!, b = cb[c]!;
      const oa = owner[a]!, ob = owner[b]!;
      if ((oa === -1) === (ob === -1)) continue; // both free: never create; both taken: never merge
      const person = oa === -1 ? ob : oa;
      const far = oa === -1 ? a : b;
      const part = oa === -1 ? layout.limbA[cl[c]!]! : layout.limbB[cl[c]!]!;
      if (this.personPeak[person * K + part] !== -1) continue;
      this.addPart(person, part, far, peaks, K);
      this.personLimbs[person]++;
      this.personLimbSum[person] += cs[c]!;
    }
    return this.count;
  }

  private pushEdges(peak: number, except: number): void {
    const adj = this.adjList;
    for (let i = this.adjStart[peak]!, end = this.adjStart[peak + 1]!; i < end; i++) {
      const e = adj[i]!;
      if (e !== except) this.frontier.push(this.key, e);
    }
  }

  private addPart(person: number, part: number, peak: number, peaks: PeakSet, K: number): void {
    this.personPeak[person * K + part] = peak;
    this.owner[peak] = person;
    this.personParts[person]++;
    this.personPeakSum[person] += peaks.score[peak]!;
  }

  private newPerson(): number {
    const p = this.count++;
    const K = this.numParts;
    this.personPeak.fill(-1, p * K, (p + 1) * K);
    this.personParts[p] = 0;
    this.personPeakSum[p] = 0;
    this.personLimbs[p] = 0;
    this.personLimbSum[p] = 0;
    return p;
  }

  /** Sizes every buffer for P peaks and C connections (people ≤ C); reallocates only to grow. */
  private reserve(P: number, C: number): void {
    const K = this.numParts;
    this.owner = growInt32(this.owner, P);
    this.adjStart = growInt32(this.adjStart, P + 1);
    this.adjFill = growInt32(this.adjFill, P);
    this.adjList = growInt32(this.adjList, 2 * C);
    this.key = growFloat64(this.key, C);
    this.seeds = growInt32(this.seeds, C);
    this.extras = growInt32(this.extras, C);
    this.personPeak = growInt32(this.personPeak, C * K);
    this.personParts = growInt32(this.personParts, C);
    this.personPeakSum = growFloat64(this.personPeakSum, C);
    this.personLimbs = growInt32(this.personLimbs, C);
    this.personLimbSum = growFloat64(this.personLimbSum, C);
  }
}
