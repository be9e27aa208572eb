import { describe, expect, it } from 'vitest';
import { PeakSet, findPeaks, parabolaOffset, refinePeak } from '../../../src/runtime/paf/peaks.js';

const gauss = (d: number, sigma = 1) => Math.exp(-(d * d) / (2 * sigma * sigma));

describe('refinePeak', () => {
  it('recovers the exact position and height of a Gaussian peak from its 3×3 samples', () => {
    for (const [ox, oy, sigma, amp] of [[0.3, -0.2, 1, 1], [-0.45, 0.1, 0.8, 0.6], [0, 0, 1.5, 0.3]] as const) {
      const v = (x: number, y: number) => amp * gauss(x - ox, sigma) * gauss(y - oy, sigma);
      const p = refinePeak(v(-1, 0), v(0, 0), v(1, 0), v(0, -1), v(0, 1));
      expect(p.dx).toBeCloseTo(ox, 9);
      expect(p.dy).toBeCloseTo(oy, 9);
      expect(p.value).toBeCloseTo(amp, 9);
    }
  });

  it('falls back to a parabola on raw values when a neighbour is not positive', () => {
    const p = refinePeak(0, 1, 0.5, 1, 1);
    expect(p.dx).toBeCloseTo(parabolaOffset(0, 1, 0.5), 12);
    expect(p.dx).toBeGreaterThan(0);
    expect(p.dy).toBe(0);
    expect(p.value).toBeGreaterThan(1);
  });

  it('does not move a flat or symmetric peak and clamps to half a cell', () => {
    expect(parabolaOffset(1, 1, 1)).toBe(0);
    expect(parabolaOffset(0.5, 1, 0.5)).toBeCloseTo(0, 12);
    expect(parabolaOffset(0, 1, 1)).toBe(0.5);
  });
});

describe('findPeaks', () => {
  const W = 9, H = 7, plane = W * H;
  /** Three channels: 2 parts and a background channel after them. */
  function maps(): Float32Array {
    return new Float32Array(3 * plane);
  }

  it('finds local maxima above the threshold, per part, with sub-cell positions', () => {
    const m = maps();
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        m[y * W + x] = Math.max(gauss(Math.hypot(x - 2.2, y - 3)), 0.5 * gauss(Math.hypot(x - 6.7, y - 2.6)));
        m[plane + y * W + x] = 0.05 * gauss(Math.hypot(x - 4, y - 4)); // below the threshold
      }
    m.fill(5, 2 * plane); // the background channel is never read
    const out = new PeakSet(2, 1);
    findPeaks(m, 0, 2, W, H, 0.1, out);
    expect(out.count[0]).toBe(2);
    expect(out.count[1]).toBe(0);
    expect(out.total).toBe(2);
    // Raster order: both peaks lie in row 3.
    expect(out.x[0]).toBeCloseTo(2.2, 5);
    expect(out.y[0]).toBeCloseTo(3, 5);
    expect(out.score[0]).toBeCloseTo(1, 5);
    expect(out.x[1]).toBeCloseTo(6.7, 5);
    expect(out.y[1]).toBeCloseTo(2.6, 5);
    expect(out.score[1]).toBeCloseTo(0.5, 5);
  });

  it('reports a plateau of equal values once', () => {
    const m = maps();
    for (const i of [3 * W + 3, 3 * W + 4, 4 * W + 3, 4 * W + 4]) m[i] = 0.7;
    const out = new PeakSet(2);
    findPeaks(m, 0, 2, W, H, 0.1, out);
    expect(out.count[0]).toBe(1);
  });

  it('finds peaks on the border without refining across it', () => {
    const m = maps();
    m[0] = 0.9;
    m[1] = 0.4;
    m[W] = 0.2;
    m[plane + (H - 1) * W + 4] = 0.8;
    m[plane + (H - 1) * W + 3] = 0.4;
    m[plane + (H - 1) * W + 5] = 0.6;
    const out = new PeakSet(2);
    findPeaks(m, 0, 2, W, H, 0.1, out);
    expect([out.x[0], out.y[0]]).toEqual([0, 0]);
    expect(out.y[1]).toBe(H - 1);
    expect(out.x[1]).toBeGreaterThan(4);
  });

  it('reads parts from a channel offset (heatmaps inside a shared tensor)', () => {
    const m = new Float32Array(5 * plane);
    m[3 * plane + 2 * W + 5] = 0.5; // part 1 when parts start at channel 2
    const out = new PeakSet(2);
    findPeaks(m, 2, 2, W, H, 0.1, out);
    expect(out.count[0]).toBe(0);
    expect(out.count[1]).toBe(1);
    expect([out.x[out.start[1]!], out.y[out.start[1]!]]).toEqual([5, 2]);
  });

  it('ignores NaN cells and grows its buffers when a frame has more peaks', () => {
    const m = maps();
    m.fill(NaN, 0, 10);
    for (let y = 1; y < H; y += 2) for (let x = 1; x < W; x += 2) m[y * W + x] = 0.5;
    const out = new PeakSet(2, 2);
    findPeaks(m, 0, 2, W, H, 0.1, out);
    expect(out.total).toBe(12);
    expect(out.x.length).toBeGreaterThanOrEqual(12);
  });
});
