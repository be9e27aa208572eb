// Stage 1: part candidates. Non-maximum suppression on the raw stride-s heatmaps (3×3 local maxima
// above the threshold), each peak refined to sub-cell precision from its 3×3 neighbourhood.
//
// Refinement: a parabola through the logarithms of the three values along each axis (a Gaussian
// fit). Heatmaps are trained on Gaussians, and for a Gaussian this fit is exact, while a weighted
// centroid of the 3×3 window is pulled towards the cell centre (the window truncates the tail on
// the far side) and a parabola on raw values is biased by up to ~0.05 cell. Where a value is not
// positive (network output can be ≤ 0) the fit falls back to a parabola on the raw values.

import { growFloat32 } from './buffers.js';

/** Peaks of every part, grouped by part: part k owns indices [start[k], start[k] + count[k]). */
export class PeakSet {
  /** [capacity]: sub-cell position in map cells (integer = cell centre) and fitted peak height. */
  x: Float32Array;
  y: Float32Array;
  score: Float32Array;
  /** [numParts] */
  readonly start: Int32Array;
  readonly count: Int32Array;
  total = 0;

  constructor(numParts: number, capacity = 256) {
    this.x = new Float32Array(capacity);
    this.y = new Float32Array(capacity);
    this.score = new Float32Array(capacity);
    this.start = new Int32Array(numParts);
    this.count = new Int32Array(numParts);
  }

  /** Appends a peak of the part currently being filled, growing the buffers if they are full. */
  push(x: number, y: number, score: number): void {
    const n = this.total;
    if (n >= this.x.length) {
      this.x = growFloat32(this.x, n + 1, n);
      this.y = growFloat32(this.y, n + 1, n);
      this.score = growFloat32(this.score, n + 1, n);
    }
    this.x[n] = x;
    this.y[n] = y;
    this.score[n] = score;
    this.total = n + 1;
  }
}

/** Vertex offset in [−0.5, 0.5] of the parabola through (−1, l), (0, c), (1, r); 0 if it has no maximum. */
export function parabolaOffset(l: number, c: number, r: number): number {
  const d = l - 2 * c + r;
  if (!(d < 0)) return 0;
  const off = (l - r) / (2 * d);
  return off > 0.5 ? 0.5 : off < -0.5 ? -0.5 : off;
}

/** Height gained over c by that parabola at offset t. */
function parabolaGain(l: number, c: number, r: number, t: number): number {
  return 0.5 * (r - l) * t + 0.5 * (l - 2 * c + r) * t * t;
}

/** Refined peak of the last `refinePeak` call (module scratch, so refining allocates nothing). */
const refined = { dx: 0, dy: 0, value: 0 };

/**
 * Sub-cell position and height of the peak at centre value c with horizontal neighbours l, r and
 * vertical neighbours u, d (pass c for a neighbour outside the map: no refinement on that axis).
 * The confidence is the fitted height rather than the value at the cell, so it does not depend on
 * where the true peak falls inside its cell (OpenPose reads it from maps upsampled to full size).
 */
export function refinePeak(l: number, c: number, r: number, u: number, d: number): typeof refined {
  if (l > 0 && r > 0 && u > 0 && d > 0 && c > 0) {
    const ll = Math.log(l), lc = Math.log(c), lr = Math.log(r), lu = Math.log(u), ld = Math.log(d);
    const dx = parabolaOffset(ll, lc, lr), dy = parabolaOffset(lu, lc, ld);
    refined.dx = dx;
    refined.dy = dy;
    refined.value = c * Math.exp(parabolaGain(ll, lc, lr, dx) + parabolaGain(lu, lc, ld, dy));
  } else {
    const dx = parabolaOffset(l, c, r), dy = parabolaOffset(u, c, d);
    refined.dx = dx;
    refined.dy = dy;
    refined.value = c + parabolaGain(l, c, r, dx) + parabolaGain(u, c, d, dy);
  }
  return refined;
}

/**
 * Finds the peaks of parts 0..numParts-1 whose heatmaps start at channel `firstChannel` of `maps`
 * (NCHW, N = 1, width × height cells). The background channel is not a part and is never read.
 * A peak is a cell above `threshold` that is ≥ its later neighbours and > its earlier ones in
 * raster order, so a plateau of equal values yields exactly one peak.
 */
export function findPeaks(
  maps: Float32Array, // [channels × height × width]
  firstChannel: number,
  numParts: number,
  width: number,
  height: number,
  threshold: number,
  out: PeakSet,
): void {
  const plane = width * height;
  out.total = 0;
  for (let k = 0; k < numParts; k++) {
    const base = (firstChannel + k) * plane;
    out.start[k] = out.total;
    // One flat pass: almost every cell is below the threshold, so only those above pay for
    // their coordinates and neighbour tests.
    for (let c = 0; c < plane; c++) {
      const i = base + c;
      const v = maps[i]!;
      if (!(v > threshold)) continue;
      const y = (c / width) | 0;
      const x = c - y * width;
      const hasUp = y > 0, hasDown = y < height - 1, hasLeft = x > 0, hasRight = x < width - 1;
      // Earlier neighbours (row above, left) must be strictly lower; later ones not higher.
      if (hasUp) {
        const u = i - width;
        if (maps[u]! >= v || (hasLeft && maps[u - 1]! >= v) || (hasRight && maps[u + 1]! >= v)) continue;
      }
      if (hasLeft && maps[i - 1]! >= v) continue;
      if (hasRight && maps[i + 1]! > v) continue;
      if (hasDown) {
        const d = i + width;
        if (maps[d]! > v || (hasLeft && maps[d - 1]! > v) || (hasRight && maps[d + 1]! > v)) continue;
      }
      const horizontal = hasLeft && hasRight, vertical = hasUp && hasDown;
      const p = refinePeak(
        horizontal ? maps[i - 1]! : v, v, horizontal ? maps[i + 1]! : v,
        vertical ? maps[i - width]! : v, vertical ? maps[i + width]! : v,
      );
      out.push(x + p.dx, y + p.dy, p.value);
    }
    out.count[k] = out.total - out.start[k]!;
  }
}
