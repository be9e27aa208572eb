import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { PoseTracker, resolveTrackerOptions } from '../../../src/runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../../../src/runtime/tracking/sigmas.js';
import type { Person } from '../../../src/runtime/types.js';
import { NUM_PARTS, poseAt, type Walker } from './synthetic.js';

const sigmas = sigmasFor(loadManifest('lightweight-openpose-coco18'));
const FRAME_MS = 40;
const tracker = (opts: Parameters<typeof resolveTrackerOptions>[0] = {}) => new PoseTracker(opts, NUM_PARTS, sigmas);

/** Runs `frames` frames; `people(f)` lists [walker index, pose] pairs present in frame f. Returns ids per walker per frame. */
function run(t: PoseTracker, frames: number, people: (f: number) => Array<[number, Person]>): Array<Map<number, number>> {
  const history: Array<Map<number, number>> = [];
  for (let f = 0; f < frames; f++) {
    const present = people(f);
    const tracked = t.update(present.map(([, p]) => p), f * FRAME_MS);
    expect(tracked).toHaveLength(present.length);
    history.push(new Map(present.map(([w], i) => [w, tracked[i].id])));
  }
  return history;
}

/** All ids a walker had over the run. */
const idsOf = (history: Array<Map<number, number>>, walker: number) =>
  new Set(history.filter((m) => m.has(walker)).map((m) => m.get(walker)!));

describe('PoseTracker', () => {
  it('keeps ids of people walking side by side, with jitter', () => {
    const walkers: Walker[] = [
      { x: 100, y: 300, height: 200, vx: 4, vy: 0 },
      { x: 260, y: 320, height: 220, vx: 3, vy: 0.5 },
      { x: 600, y: 280, height: 160, vx: -5, vy: 0 },
    ];
    const h = run(tracker(), 60, (f) => walkers.map((w, i) => [i, poseAt(w, f, { jitter: 3, seed: i + 1 })]));
    const ids = walkers.map((_, i) => idsOf(h, i));
    for (const s of ids) expect(s.size).toBe(1);
    expect(new Set(ids.map((s) => [...s][0])).size).toBe(3);
  });

  it('does not swap ids when two people cross', () => {
    // A walks right, B walks left a little further back (higher in the image, smaller); they overlap mid-run.
    const a: Walker = { x: 100, y: 400, height: 240, vx: 8, vy: 0 };
    const b: Walker = { x: 500, y: 370, height: 200, vx: -8, vy: 0 };
    const h = run(tracker(), 50, (f) => [
      [0, poseAt(a, f, { jitter: 2, seed: 1 })],
      [1, poseAt(b, f, { jitter: 2, seed: 2 })],
    ]);
    // Sanity check of the scenario: their centres do pass each other.
    expect(a.x + a.vx * 49).toBeGreaterThan(b.x + b.vx * 49);
    expect(idsOf(h, 0).size).toBe(1);
    expect(idsOf(h, 1).size).toBe(1);
    expect([...idsOf(h, 0)][0]).not.toBe([...idsOf(h, 1)][0]);
  });

  it('keeps the id of a person hidden for a few frames while crossing behind another', () => {
    const front: Walker = { x: 100, y: 400, height: 240, vx: 8, vy: 0 };
    const back: Walker = { x: 500, y: 380, height: 210, vx: -8, vy: 0 };
    // `back` is occluded (not detected) in frames 22..27, around where the two meet.
    const hidden = (f: number) => f >= 22 && f <= 27;
    const h = run(tracker(), 50, (f) => {
      const list: Array<[number, Person]> = [[0, poseAt(front, f, { jitter: 2, seed: 1 })]];
      if (!hidden(f)) list.push([1, poseAt(back, f, { jitter: 2, seed: 2, missing: f === 28 ? [3, 4, 9, 10] : [] })]);
      return list;
    });
    expect(idsOf(h, 0).size).toBe(1);
    expect(idsOf(h, 1).size).toBe(1);
    expect([...idsOf(h, 0)][0]).not.toBe([...idsOf(h, 1)][0]);
  });

  it('is not thrown by bursty timestamps (every-frame capture reads frames in bursts)', () => {
    const t = tracker();
    const walkers: Walker[] = [
      { x: 100, y: 300, height: 120, vx: 6, vy: 0 },
      { x: 200, y: 300, height: 120, vx: -6, vy: 0 },
    ];
    let ts = 0;
    const ids = new Set<string>();
    for (let f = 0; f < 40; f++) {
      ts += f % 3 === 0 ? 900 : f % 3 === 1 ? 1 : 0; // 0–900 ms between frames that are 1 video frame apart
      const out = t.update(walkers.map((w, i) => poseAt(w, f, { jitter: 1, seed: i + 1 })), ts);
      out.forEach((p, i) => ids.add(`${i}:${p.id}`));
    }
    expect(ids.size).toBe(2);
  });

  it('picks a briefly lost person up again only thanks to motion prediction when they moved far', () => {
    const fast: Walker = { x: 100, y: 300, height: 150, vx: 15, vy: 0 };
    const gap = (f: number) => f >= 10 && f < 16;
    const frames = (f: number): Array<[number, Person]> => (gap(f) ? [] : [[0, poseAt(fast, f)]]);
    expect(idsOf(run(tracker(), 30, frames), 0).size).toBe(1);
    // Without prediction, 6 frames × 15 px = 90 px is too far for the OKS of a 150 px person: a new id.
    expect(idsOf(run(tracker({ predict_motion: false }), 30, frames), 0).size).toBe(2);
  });

  it('gives people who enter new, increasing ids and forgets people who left after the memory', () => {
    const t = tracker({ memory_frames: 5, memory_ms: 10_000 });
    const a: Walker = { x: 100, y: 300, height: 200, vx: 0, vy: 0 };
    const b: Walker = { x: 500, y: 300, height: 200, vx: 0, vy: 0 };
    const h = run(t, 40, (f) => {
      const list: Array<[number, Person]> = [];
      if (f < 10 || f >= 30) list.push([0, poseAt(a, f)]); // a leaves at 10, someone stands at the same spot from 30
      if (f >= 5) list.push([1, poseAt(b, f)]); // b enters at 5
      return list;
    });
    const idA1 = h[0].get(0)!, idB = h[5].get(1)!, idA2 = h[30].get(0)!;
    expect(idB).toBeGreaterThan(idA1);
    expect(idA2).toBeGreaterThan(idB); // gone 20 frames > memory of 5: a new id, never a reused one
    expect(idsOf(h, 1).size).toBe(1);
    expect(t.trackCount).toBe(2);
  });

  it('also forgets by time (memory_ms)', () => {
    const t = tracker({ memory_frames: 100, memory_ms: 200 });
    const w: Walker = { x: 100, y: 300, height: 200, vx: 0, vy: 0 };
    const first = t.update([poseAt(w, 0)], 0)[0].id;
    t.update([], 100);
    expect(t.update([poseAt(w, 0)], 150)[0].id).toBe(first);
    t.update([], 200);
    expect(t.update([poseAt(w, 0)], 500)[0].id).not.toBe(first);
  });

  it('never reuses ids after reset()', () => {
    const t = tracker();
    const w: Walker = { x: 100, y: 300, height: 200, vx: 0, vy: 0 };
    const before = t.update([poseAt(w, 0)], 0)[0].id;
    t.reset();
    expect(t.update([poseAt(w, 0)], 40)[0].id).toBeGreaterThan(before);
  });

  it('smoothing is off by default and reduces jitter when on', () => {
    const still: Walker = { x: 300, y: 300, height: 200, vx: 0, vy: 0 };
    const raw = tracker();
    const p = poseAt(still, 0, { jitter: 4 });
    expect(raw.update([p], 0)[0].keypoints).toBe(p.keypoints);

    const smooth = tracker({ smoothing: { enabled: true, min_cutoff: 0.5, beta: 0.001, d_cutoff: 1 } });
    const truth = poseAt(still, 0).keypoints; // f = 0 template; jittered frames below use the same swing phase
    let rawErr = 0, smoothErr = 0;
    for (let f = 0; f < 60; f++) {
      const noisy = poseAt({ ...still }, 0, { jitter: 4, seed: f + 3 });
      const out = smooth.update([noisy], f * FRAME_MS)[0];
      if (f < 20) continue; // let the filter settle
      for (let i = 0; i < truth.length; i += 3) {
        rawErr += Math.hypot(noisy.keypoints[i] - truth[i], noisy.keypoints[i + 1] - truth[i + 1]);
        smoothErr += Math.hypot(out.keypoints[i] - truth[i], out.keypoints[i + 1] - truth[i + 1]);
      }
    }
    expect(smoothErr).toBeLessThan(0.6 * rawErr);
  });

  it('returns id -1 when disabled', () => {
    const t = tracker({ enabled: false });
    const ids = t.update([poseAt({ x: 0, y: 0, height: 100, vx: 0, vy: 0 }, 0)], 0).map((p) => p.id);
    expect(ids).toEqual([-1]);
  });

  it('rejects bad input with clear messages', () => {
    expect(() => new PoseTracker({}, 18, new Float32Array(17))).toThrow(/17 sigmas for 18 keypoints/);
    expect(() => tracker({ min_similarity: 2 })).toThrow(/min_similarity/);
    const bad: Person = { score: 1, parts: 1, keypoints: new Float32Array(3 * 17) };
    expect(() => tracker().update([bad], 0)).toThrow(/17 keypoints, expected 18/);
  });
});
