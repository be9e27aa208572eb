// Tracking benchmark. Accuracy: the recorded real detections of street.avi (every frame, test/fixtures/tracking)
// replayed at 50, 25, 12.5 and 6.25 fps (every 1st, 2nd, 4th, 8th frame; phase 0 and the mean over every phase)
// and on six realtime-like schedules, scored against the eye-checked identity chains, for each motion model (and
// the default one without tracking.camera_motion).
// Cost: ms per update() against the number of people (synthetic walkers), and the heap once warm.

import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { loadManifest } from '../src/runtime/manifest.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { everyNth, fixtureChains, realtimeSchedule, replay, scoreTracking, type ChainFixture, type IdentityChain } from '../src/runtime/tracking/evaluation.js';
import { PoseTracker, type TrackerOptions } from '../src/runtime/tracking/pose-tracker.js';
import { decodeRecording } from '../src/runtime/tracking/recording.js';
import { sigmasFor } from '../src/runtime/tracking/sigmas.js';
import type { Person } from '../src/runtime/types.js';
import { fmt, median, table, type Row } from './table.js';

const fixtures = resolve(packageRoot, 'test', 'fixtures', 'tracking');
const gc = (globalThis as { gc?: () => void }).gc;

export async function benchTracking(): Promise<Row[]> {
  const manifest = loadManifest('lightweight-openpose-coco18');
  const sigmas = sigmasFor(manifest);
  const K = manifest.keypoints.length;
  const recording = decodeRecording(JSON.parse(readFileSync(resolve(fixtures, 'street-detections.json'), 'utf8')), K);
  const fixture = JSON.parse(readFileSync(resolve(fixtures, 'street-chains.json'), 'utf8')) as ChainFixture;
  const { people } = fixtureChains(fixture, recording.frames, sigmas);
  const n = recording.frames.length;

  const rows: Row[] = [];
  const variants: Array<[string, Partial<TrackerOptions>]> = [
    ['velocity', { motion: 'velocity' }],
    ['kalman', { motion: 'kalman' }],
    ['none', { motion: 'none' }],
    ['velocity, camera_motion off', { motion: 'velocity', camera_motion: false }],
  ];
  for (const [motion, opts] of variants) {
    const run = (schedule: number[]) => {
      const r = replay(new PoseTracker(opts, K, sigmas), recording.frames, schedule, recording.frameMs);
      return { score: scoreTracking(people, r.published), countChanges: r.countChanges };
    };
    for (const step of [1, 2, 4, 8]) {
      const first = run(everyNth(n, step));
      const phases = Array.from({ length: step }, (_, p) => run(everyNth(n, step, p)));
      rows.push(accuracyRow(motion, `${50 / step} fps`, first, phases, people));
    }
    const realtime = [1, 2, 3, 4, 5, 6].map((seed) => run(realtimeSchedule(n, seed)));
    rows.push(accuracyRow(motion, 'realtime (6 schedules)', realtime[0], realtime, people));
  }

  process.stdout.write(table('Tracking cost against people (synthetic walkers, default config, median of 400 updates once warm)', await benchCost(sigmas, K)));
  return rows;
}

interface Run {
  score: ReturnType<typeof scoreTracking>;
  countChanges: number;
}

function accuracyRow(motion: string, rate: string, first: Run, all: Run[], people: IdentityChain[]): Row {
  const mean = (f: (r: Run) => number) => all.reduce((s, r) => s + f(r), 0) / all.length;
  return {
    motion,
    rate,
    'share (phase 0)': fmt(first.score.share, 3),
    'share (mean of phases)': fmt(mean((r) => r.score.share), 3),
    'lowest person': fmt(Math.min(...all.map((r) => r.score.minShare)), 3),
    'id switches (mean)': fmt(mean((r) => r.score.switches), 1),
    'distinct ids (max)': Math.max(...all.map((r) => r.score.distinctIds)),
    'count changes (max)': Math.max(...all.map((r) => r.countChanges)),
    people: people.length,
  };
}

/** A stick figure in the COCO-18 layout, `height` px tall, hips at (x, y), with a little deterministic jitter. */
function walker(x: number, y: number, height: number, t: number, seed: number): Person {
  const template = [
    [0, -0.45], [0, -0.35], [-0.1, -0.35], [-0.12, -0.2], [-0.13, -0.05], [0.1, -0.35], [0.12, -0.2], [0.13, -0.05],
    [-0.06, 0], [-0.06, 0.22], [-0.06, 0.45], [0.06, 0], [0.06, 0.22], [0.06, 0.45],
    [-0.02, -0.47], [0.02, -0.47], [-0.04, -0.46], [0.04, -0.46],
  ];
  const kp = new Float32Array(3 * template.length);
  let s = seed * 7919 + t * 104729;
  const jitter = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 3;
  template.forEach(([tx, ty], k) => {
    kp[3 * k] = x + tx * height + jitter();
    kp[3 * k + 1] = y + ty * height + jitter();
    kp[3 * k + 2] = 0.8;
  });
  return { score: 0.6, parts: template.length, keypoints: kp };
}

/**
 * Bytes allocated inside PoseTracker.update over `calls` calls, from V8's sampling heap profiler (every 64 bytes
 * allocated are attributed to the stack that allocated them). Unlike heapUsed deltas, it does not count what the
 * compiler and the profiler themselves put on the heap meanwhile.
 */
async function allocatedInUpdate(step: () => void, calls: number): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.startSampling', { samplingInterval: 64 });
    for (let i = 0; i < calls; i++) step();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let bytes = 0;
    const walk = (node: typeof profile.head, inUpdate: boolean) => {
      const inside = inUpdate || node.callFrame.functionName === 'update';
      if (inside) bytes += node.selfSize;
      for (const child of node.children) walk(child, inside);
    };
    walk(profile.head, false);
    return bytes;
  } finally {
    session.disconnect();
  }
}

async function benchCost(sigmas: Float32Array, K: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const count of [1, 2, 4, 8, 16, 32, 64]) {
    // People on a grid, 150 px apart, walking right and back at 1 px per frame: every one matched every frame.
    const FRAMES = 50;
    const frames: Person[][] = Array.from({ length: FRAMES }, (_, f) =>
      Array.from({ length: count }, (_, i) => walker(100 + 150 * (i % 8) + (f < 25 ? f : 50 - f), 200 + 150 * Math.floor(i / 8), 120, f, i + 1)),
    );
    const tracker = new PoseTracker({}, K, sigmas);
    let t = 0;
    const step = () => {
      tracker.update(frames[t % FRAMES], t * 20);
      t++;
    };
    for (let i = 0; i < 3000; i++) step(); // warm: tracks confirmed, pool and scratch at full size, code optimised
    const ms = new Float64Array(400);
    for (let i = 0; i < ms.length; i++) {
      const t0 = performance.now();
      step();
      ms[i] = performance.now() - t0;
    }
    // Three rounds: an allocation in update() itself shows in every one; V8 re-optimising the tracker's functions
    // now and then puts ~1-6 KiB at a function's entry in one round (seen at 4 people, after 3000 or 20000 warm
    // updates alike), which the smallest round leaves out and the largest shows.
    const rounds: number[] = [];
    for (let r = 0; r < 3; r++) rounds.push(await allocatedInUpdate(step, 2000));
    const allocated = Math.min(...rounds), allocatedMax = Math.max(...rounds);
    // Retained: after a collection, the heap must not grow with the updates run.
    gc?.();
    const retainedBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2000; i++) step();
    gc?.();
    const retained = process.memoryUsage().heapUsed - retainedBefore;
    const m = median(ms);
    rows.push({
      people: count,
      'ms per update': fmt(m, 4),
      'µs per person': fmt((1000 * m) / count, 2),
      'tracks held': tracker.trackCount,
      'allocated per update': `${fmt(allocated / 2000, 1)} B`,
      'largest of 3 rounds': `${fmt(allocatedMax / 2000, 1)} B`,
      'heap growth over 2000 more updates': gc ? `${fmt(retained / 1024, 1)} KiB` : 'run with --expose-gc',
    });
  }
  return rows;
}
