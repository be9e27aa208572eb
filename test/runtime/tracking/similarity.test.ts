import { describe, expect, it } from 'vitest';
import { greedyAssign } from '../../../src/runtime/tracking/assignment.js';
import { boxIoU, keypointBox, oks } from '../../../src/runtime/tracking/similarity.js';

const kp = (...xy: number[]) => {
  const a = new Float32Array((xy.length / 2) * 3);
  for (let i = 0; i < xy.length / 2; i++) a.set([xy[2 * i], xy[2 * i + 1], xy[2 * i] < 0 ? 0 : 1], 3 * i);
  return a;
};

describe('similarity', () => {
  it('keypointBox ignores missing parts', () => {
    const box = new Float32Array(4);
    expect(keypointBox(kp(10, 20, -1, -1, 30, 5), box)).toBe(2);
    expect([...box]).toEqual([10, 5, 30, 20]);
    expect(keypointBox(kp(-1, -1), box)).toBe(0);
  });

  it('boxIoU of identical, disjoint and half-overlapping boxes', () => {
    const a = Float32Array.of(0, 0, 10, 10);
    expect(boxIoU(a, a)).toBeCloseTo(1);
    expect(boxIoU(a, Float32Array.of(20, 20, 30, 30))).toBe(0);
    expect(boxIoU(a, Float32Array.of(5, 0, 15, 10))).toBeCloseTo(50 / 150);
  });

  it('oks is 1 for equal poses, falls with distance, uses only shared parts', () => {
    const sig = Float32Array.of(0.05, 0.05);
    const a = kp(10, 10, 50, 50);
    expect(oks(a, a, sig, 1600)).toBeCloseTo(1);
    const near = oks(a, kp(12, 10, 52, 50), sig, 1600);
    const far = oks(a, kp(20, 10, 60, 50), sig, 1600);
    expect(near).toBeLessThan(1);
    expect(far).toBeLessThan(near);
    expect(oks(a, kp(10, 10, -1, -1), sig, 1600)).toBeCloseTo(1);
    expect(oks(kp(-1, -1, 50, 50), kp(10, 10, -1, -1), sig, 1600)).toBe(0);
  });

  it('greedyAssign takes the best pairs first and respects the threshold', () => {
    // 2 tracks × 3 detections
    const s = Float32Array.of(0.9, 0.8, 0.1, 0.85, 0.2, 0.05);
    expect([...greedyAssign(s, 2, 3, 0.3)]).toEqual([0, -1, -1]);
    expect([...greedyAssign(s, 2, 3, 0.15)]).toEqual([0, 1, -1]);
  });
});
