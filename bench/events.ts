// Event engine benchmark: time per frame of PoseEvents.update with N tracked people walking through a scene
// with 4 zones (one with loitering, one excluded from person_down) and 2 lines, every detector on. People
// cross zone edges and lines, so the rows include frames that raise events. Target: ≤ 0.1 ms per frame with
// 20 people (issue 16).

import { getHeapSpaceStatistics } from 'node:v8';
import { layoutOf, loadManifest } from '../src/runtime/manifest.js';
import { PoseEvents } from '../src/runtime/events/engine.js';
import type { EventsConfigInput } from '../src/runtime/events/config-schema.js';
import { randomSkeletons, seededRandom } from '../src/runtime/synthetic.js';
import { fmt, median, type Row } from './table.js';

const W = 1280, H = 720, FPS = 30;

const config: EventsConfigInput = {
  zones: [
    { name: 'door', polygon: [[0.05, 0.5], [0.3, 0.5], [0.3, 1], [0.05, 1]] },
    { name: 'desk', polygon: [[0.35, 0.55], [0.55, 0.5], [0.65, 0.7], [0.5, 0.95], [0.35, 0.85]], loiter_s: 5 },
    { name: 'bed', polygon: [[0.7, 0.6], [0.98, 0.6], [0.98, 0.98], [0.7, 0.98]], exclude_from: ['person_down'] },
    { name: 'all', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] },
  ],
  lines: [
    { name: 'entry', a: [0.33, 0.3], b: [0.33, 0.99], in: 'right' },
    { name: 'hall', a: [0, 0.75], b: [1, 0.8], in: 'below' },
  ],
};

interface Walker {
  base: Float32Array;
  x: Float32Array;
  vx: number;
  vy: number;
}

/** `count` people walking back and forth (bouncing at the edges), with 1 % keypoint jitter per frame. */
function walkers(count: number, seed: number): Walker[] {
  const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
  const random = seededRandom(seed);
  // Sized as if 20 fit the frame, whatever the count, so bodies stay realistic.
  return randomSkeletons(layout, Math.max(count, 20), W, H, seed).slice(0, count).map((s) => ({
    base: s,
    x: Float32Array.from(s),
    vx: (random() - 0.5) * 12,
    vy: (random() - 0.5) * 3,
  }));
}

/** Reflects v into [lo, hi] (walking to an edge and back). */
const bounce = (v: number, lo: number, hi: number) => {
  const span = hi - lo, m = (((v - lo) % (2 * span)) + 2 * span) % (2 * span);
  return lo + (m > span ? 2 * span - m : m);
};

/** ±1 px of deterministic jitter (no PRNG state: mulberry32's captured state allocates, which would be counted). */
const jitter = (frame: number, i: number) => Math.sin(frame * 12.9898 + i * 78.233);

function step(people: Walker[], frame: number): void {
  for (const p of people) {
    // The whole body moves together (its first keypoint as the reference), each part with ±1 px of jitter.
    const ox = bounce(p.base[0] + p.vx * frame, 40, W - 40) - p.base[0];
    const oy = bounce(p.base[1] + p.vy * frame, 0, 0.3 * H) - p.base[1];
    for (let i = 0; i < p.x.length; i += 3) {
      p.x[i] = p.base[i] + ox + jitter(frame, i);
      p.x[i + 1] = p.base[i + 1] + oy + jitter(frame, i + 1);
    }
  }
}

const newSpaceUsed = () => getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_used_size ?? 0;

export async function benchEvents(): Promise<Row[]> {
  const names = loadManifest('lightweight-openpose-coco18').keypoints;
  const rows: Row[] = [];
  const frames = 3000, warmup = 300;
  // Let the JIT settle on the whole engine first, or the first row measures compilation (~80 KiB, 3× the time).
  for (const count of [1, 5, 20, 50]) {
    const engine = new PoseEvents(config, names, { width: W, height: H });
    const people = walkers(count, 3);
    const tracked = people.map((p, i) => ({ id: i + 1, keypoints: p.x }));
    for (let f = 0; f < 1000; f++) {
      step(people, f);
      engine.update(tracked, (f * 1000) / FPS, f);
    }
  }
  for (const count of [1, 5, 20, 50]) {
    const engine = new PoseEvents(config, names, { width: W, height: H });
    const people = walkers(count, 11 + count);
    const tracked = people.map((p, i) => ({ id: i + 1, keypoints: p.x }));
    let events = 0;
    const run = (from: number, n: number, times?: Float64Array) => {
      for (let f = from; f < from + n; f++) {
        step(people, f);
        const t0 = performance.now();
        events += engine.update(tracked, (f * 1000) / FPS, f).length;
        if (times) times[f - from] = performance.now() - t0;
      }
    };
    run(0, warmup);
    events = 0;
    const times = new Float64Array(frames);
    run(warmup, frames, times);
    const eventsPerKFrames = Math.round((1000 * events) / frames);
    // Bytes allocated per frame: young-generation growth over a stretch short enough to hold no GC (tried again
    // when one ran). No forced GC first: a full GC here left the engine's code slower and allocating for thousands
    // of frames afterwards, which is not what a running agent sees.
    const stretch = 400;
    let perFrame = '—';
    for (let attempt = 0, at = warmup + frames; attempt < 5; attempt++, at += stretch) {
      const before = newSpaceUsed();
      run(at, stretch);
      const grown = newSpaceUsed() - before;
      if (grown < 0) continue;
      perFrame = `${Math.round(grown / stretch)} B`;
      break;
    }
    const m = median(times);
    rows.push({
      people: count,
      'update ms (median)': fmt(m, 4),
      'µs per person': fmt((1000 * m) / count, 2),
      'p99 ms': fmt([...times].sort((a, b) => a - b)[Math.floor(0.99 * frames)], 4),
      'events per 1000 frames': eventsPerKFrames,
      'allocated per frame': perFrame,
    });
  }
  return rows;
}
