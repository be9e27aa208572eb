import { describe, expect, it } from 'vitest';
import { PairList } from '../../../src/runtime/tracking/assignment.js';
import { boxIoU, keypointBox, oks, personArea } from '../../../src/runtime/tracking/similarity.js';

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

  it('personArea is the box area, but at least half the longer side squared (a side-on or half-hidden person)', () => {
    const box = new Float32Array(4);
    expect(personArea(kp(0, 0, 80, 100), box)).toBe(8000);
    expect(personArea(kp(0, 0, 4, 100), box)).toBe(5000);
  });

  it('PairList assigns greedily, best pairs first, ties to the pair added first, skipping taken ones', () => {
    // 2 tracks × 3 detections
    const sims = [[0.9, 0.8, 0.1], [0.85, 0.2, 0.05]];
    const run = (min: number, takenDet = -1) => {
      const pairs = new PairList(2); // grows past its capacity
      sims.forEach((row, t) => row.forEach((s, d) => s >= min && pairs.add(t, d, s)));
      const trackOfDet = new Int32Array(3).fill(-1), detOfTrack = new Int32Array(2).fill(-1);
      if (takenDet >= 0) trackOfDet[takenDet] = 99;
      pairs.assign(trackOfDet, detOfTrack);
      return [...detOfTrack];
    };
    expect(run(0.3)).toEqual([0, -1]);
    expect(run(0.15)).toEqual([0, 1]);
    expect(run(0.15, 0)).toEqual([1, -1]); // detection 0 was taken by an earlier stage
    const tie = new PairList();
    tie.add(0, 0, 0.5);
    tie.add(1, 0, 0.5);
    const trackOfDet = new Int32Array(1).fill(-1), detOfTrack = new Int32Array(2).fill(-1);
    tie.assign(trackOfDet, detOfTrack);
    expect([...detOfTrack]).toEqual([0, -1]);
  });
});
