// Assigning detections to tracks from a similarity matrix.

/**
 * Greedy assignment: repeatedly takes the most similar free (track, detection) pair while it reaches `minSimilarity`.
 * With the few people a frame holds this matches the Hungarian optimum in practice and is deterministic
 * (ties go to the lower track, then detection index).
 * @param similarity T × D row-major (track t, detection d at t * D + d)
 * @returns per detection the matched track index, or -1 (Int32Array of length D)
 */
export function greedyAssign(similarity: Float32Array, tracks: number, detections: number, minSimilarity: number): Int32Array {
  const pairs: number[] = [];
  for (let p = 0; p < tracks * detections; p++) if (similarity[p] >= minSimilarity && similarity[p] > 0) pairs.push(p);
  pairs.sort((p, q) => similarity[q] - similarity[p] || p - q);
  const trackOf = new Int32Array(detections).fill(-1);
  const trackTaken = new Uint8Array(tracks);
  for (const p of pairs) {
    const t = Math.floor(p / detections), d = p % detections;
    if (trackTaken[t] || trackOf[d] !== -1) continue;
    trackTaken[t] = 1;
    trackOf[d] = t;
  }
  return trackOf;
}
