// Assigning detections to tracks from scored candidate pairs, without allocating.

/**
 * Scored candidate pairs of one association stage in preallocated storage. Greedy assignment takes the most
 * similar free (track, detection) pair first: with the few people of a frame this matches the Hungarian optimum
 * in practice, is deterministic (ties go to the pair added first) and costs O(P log P) in candidate pairs, which
 * gating keeps near-linear in people.
 */
export class PairList {
  private keys: Float64Array;
  private tracks: Int32Array;
  private dets: Int32Array;
  private sims: Float32Array;
  length = 0;

  constructor(capacity = 64) {
    this.keys = new Float64Array(capacity);
    this.tracks = new Int32Array(capacity);
    this.dets = new Int32Array(capacity);
    this.sims = new Float32Array(capacity);
  }

  clear(): void {
    this.length = 0;
  }

  add(track: number, det: number, similarity: number): void {
    if (this.length === this.keys.length) this.grow();
    const n = this.length++;
    this.tracks[n] = track;
    this.dets[n] = det;
    this.sims[n] = similarity;
    // Sort key: higher similarity first, then insertion order; exact in a double (24 + 29 bits).
    this.keys[n] = Math.round((1 - Math.min(1, Math.max(0, similarity))) * 0xffffff) * 0x20000000 + n;
  }

  /**
   * Greedy one-to-one assignment. For each chosen pair, `trackOfDet[det] = track` and `detOfTrack[track] = det`;
   * entries already >= 0 are taken (earlier stages) and skipped.
   */
  assign(trackOfDet: Int32Array, detOfTrack: Int32Array): void {
    this.sortKeys();
    for (let i = 0; i < this.length; i++) {
      const n = this.keys[i] % 0x20000000;
      const t = this.tracks[n], d = this.dets[n];
      if (detOfTrack[t] >= 0 || trackOfDet[d] >= 0) continue;
      detOfTrack[t] = d;
      trackOfDet[d] = t;
    }
  }

  /** Similarity of the pair added as number `n` (for callers that keep it). */
  similarityOf(n: number): number {
    return this.sims[n];
  }

  /** In-place Shell sort of the used keys (no allocation; P is a few per person). */
  private sortKeys(): void {
    const a = this.keys, n = this.length;
    let gap = 1;
    while (gap < n / 3) gap = 3 * gap + 1;
    for (; gap >= 1; gap = (gap - 1) / 3) {
      for (let i = gap; i < n; i++) {
        const v = a[i];
        let j = i;
        while (j >= gap && a[j - gap] > v) {
          a[j] = a[j - gap];
          j -= gap;
        }
        a[j] = v;
      }
    }
  }

  private grow(): void {
    const cap = this.keys.length * 2;
    const keys = new Float64Array(cap), tracks = new Int32Array(cap), dets = new Int32Array(cap), sims = new Float32Array(cap);
    keys.set(this.keys);
    tracks.set(this.tracks);
    dets.set(this.dets);
    sims.set(this.sims);
    this.keys = keys;
    this.tracks = tracks;
    this.dets = dets;
    this.sims = sims;
  }
}
