// The frame loop's own logic with scripted frames and detections (the real runtime and capture
// are exercised end to end in run.test.ts): scaling to source pixels, tracking ids, skipping
// empty frames, `people` on change, live height, errors that must not stop the loop.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { PosePipeline, toSourcePixels, type FrameSource, type PipelineFrame, type PoseEstimator } from '../../src/agent/pipeline.js';
import type { FrameFormat, SessionOpener } from '../../src/agent/session.js';
import type { TopicName, TopicPayloads } from '../../src/agent/mqtt/topics.js';
import { PoseTracker } from '../../src/runtime/tracking/pose-tracker.js';
import { loadManifest } from '../../src/runtime/manifest.js';
import { sigmasFor } from '../../src/runtime/tracking/sigmas.js';
import type { Person, PoseResult, RawFrame } from '../../src/runtime/types.js';

const manifest = loadManifest('lightweight-openpose-coco18');
const K = manifest.keypoints.length;
const log = pino({ level: 'silent' });

/** A person whose every part sits around (x, y) in frame pixels. */
function person(x: number, y: number, score = 10): Person {
  const kp = new Float32Array(K * 3);
  for (let k = 0; k < K; k++) kp.set([x + (k % 3) * 4, y + k * 6, 0.9], k * 3);
  return { score, parts: K, keypoints: kp };
}

function frames(count: number, width = 320, height = 180): FrameSource {
  let seq = 0;
  return {
    async next(): Promise<PipelineFrame | null> {
      if (seq >= count) return null;
      const s = seq++;
      return { data: new Uint8Array(width * height * 3), width, height, order: 'bgr', seq: s, ts: 1_000 + s * 40, sourceWidth: 1280, sourceHeight: 720 };
    },
  };
}

/** Detections per frame index, scripted; records the heights it was asked for. */
class ScriptedEstimator implements PoseEstimator {
  readonly manifest = manifest;
  readonly heights: number[] = [];
  private calls = 0;
  constructor(private readonly script: (i: number) => Person[] | Error) {}
  async estimate(frame: RawFrame, height: number): Promise<PoseResult> {
    this.heights.push(height);
    const out = this.script(this.calls++);
    if (out instanceof Error) throw out;
    return { people: out, width: frame.width, height: frame.height, net: { width: 456, height }, timing_ms: { preprocess_ms: 1, inference_ms: 2, parse_ms: 3 } };
  }
  setParserParams(): void {}
  netSize(w: number, h: number, height: number) {
    return { width: Math.round((height * w) / h / 8) * 8, height };
  }
}

class Recorder {
  readonly sent: Array<{ name: TopicName; payload: unknown }> = [];
  publish<N extends TopicName>(name: N, payload: TopicPayloads[N]): void {
    this.sent.push({ name, payload: structuredClone(payload) });
  }
  of<N extends TopicName>(name: N): TopicPayloads[N][] {
    return this.sent.filter((m) => m.name === name).map((m) => m.payload as TopicPayloads[N]);
  }
}

function pipeline(
  source: FrameSource,
  est: PoseEstimator,
  rec: Recorder,
  opts: Partial<{ skipEmptyFrames: boolean; tracking: boolean; heights: number[]; formats: FrameFormat[] }> = {},
) {
  // Confirmed at first sight and counted only while seen, so these tests see the pipeline, not the tracker's
  // hysteresis (the tracker's own tests cover that; 'publishes the tracker's stable count' below uses it).
  const tracker = new PoseTracker({ enabled: opts.tracking ?? true, confirm_hits: 1, confirm_ms: 0, count_hold_ms: 0 }, K, sigmasFor(manifest));
  const openSession: SessionOpener = async (format) => {
    opts.formats?.push(format);
    return { estimator: est, heights: opts.heights ?? [manifest.input_size.default_height] };
  };
  return new PosePipeline({
    source,
    openSession,
    tracker,
    publisher: rec,
    options: { height: 0, skipEmptyFrames: opts.skipEmptyFrames ?? false, decimals: 1, model: manifest.name },
    log,
  });
}

describe('toSourcePixels', () => {
  it('maps frame pixels to source pixels by pixel centres and leaves missing parts at zero', () => {
    const p = person(10, 20);
    p.keypoints.set([0, 0, 0], 3);
    const [s] = toSourcePixels([p], 4, 4);
    expect(s.keypoints[0]).toBeCloseTo((10 + 0.5) * 4 - 0.5);
    expect(s.keypoints[1]).toBeCloseTo((20 + 0.5) * 4 - 0.5);
    expect(s.keypoints[2]).toBeCloseTo(0.9);
    expect(Array.from(s.keypoints.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(p.keypoints[0]).toBe(10);
  });
});

describe('PosePipeline', () => {
  it('publishes every frame in source pixels with stable ids, and people only when the count changes', async () => {
    const rec = new Recorder();
    // Two people walking right; the second leaves in frame 3.
    const est = new ScriptedEstimator((i) => (i < 3 ? [person(40 + i * 2, 30), person(200 + i * 2, 40)] : [person(40 + i * 2, 30)]));
    const p = pipeline(frames(5), est, rec);
    expect(await p.start()).toBe('ended');
    const poses = rec.of('poses');
    expect(poses.map((m) => m.frame)).toEqual([0, 1, 2, 3, 4]);
    expect(poses[0].source).toEqual({ width: 1280, height: 720 });
    expect(poses[0].net).toEqual({ width: 456, height: manifest.input_size.default_height });
    // 320×180 frames from a 1280×720 source: ×4.
    expect(poses[0].people[0].pose_keypoints_2d.slice(0, 3)).toEqual([(40 + 0.5) * 4 - 0.5, (30 + 0.5) * 4 - 0.5, 0.9]);
    expect(poses[0].people[0].pose_keypoints_2d).toHaveLength(3 * K);
    const idsOf = (i: number) => poses[i].people.map((q) => q.id);
    expect(idsOf(1)).toEqual(idsOf(0));
    expect(idsOf(4)).toEqual([idsOf(0)[0]]);
    expect(new Set(idsOf(0)).size).toBe(2);
    expect(rec.of('people').map((m) => [m.count, m.frame])).toEqual([[2, 0], [1, 3]]);
  });

  it('publishes the tracker\'s stable count and the source frame index', async () => {
    const rec = new Recorder();
    // Default tracking: confirmed after 60 ms (frame 2 at 40 ms a frame), then counted until 2 s after last seen.
    const est = new ScriptedEstimator((i) => (i < 4 || i === 6 ? [person(40, 30)] : []));
    let seq = 0;
    const source: FrameSource = {
      async next() {
        if (seq >= 8) return null;
        const s = seq++;
        // Source frames 10, 12, 14…: the index, not the capture sequence, is what `frame` says.
        return { data: new Uint8Array(320 * 180 * 3), width: 320, height: 180, order: 'bgr', seq: s, ts: 5_000 + s * 40, index: 10 + 2 * s, mediaMs: (10 + 2 * s) * 20, sourceWidth: 1280, sourceHeight: 720 };
      },
    };
    const p = new PosePipeline({
      source,
      openSession: async () => ({ estimator: est, heights: [manifest.input_size.default_height] }),
      // Confirmed by confirm_hits / confirm_ms, not at first sight (instant_confirm_parts above the part count).
      tracker: new PoseTracker({ instant_confirm_parts: K + 1 }, K, sigmasFor(manifest)),
      publisher: rec,
      options: { height: 0, skipEmptyFrames: false, decimals: 1, model: manifest.name },
      log,
    });
    await p.start();
    expect(rec.of('poses').map((m) => m.frame)).toEqual([10, 12, 14, 16, 18, 20, 22, 24]);
    expect(rec.of('poses').map((m) => m.people.map((q) => q.id))).toEqual([[-1], [-1], [1], [1], [], [], [1], []]);
    // 0 until confirmed, then 1 throughout: the gaps are far shorter than count_hold_ms.
    expect(rec.of('people').map((m) => [m.count, m.frame])).toEqual([[0, 10], [1, 14]]);
  });

  it('skips frames with nobody when asked, but still reports the count', async () => {
    const rec = new Recorder();
    const est = new ScriptedEstimator((i) => (i % 2 ? [person(50, 50)] : []));
    await pipeline(frames(4), est, rec, { skipEmptyFrames: true }).start();
    expect(rec.of('poses').map((m) => m.frame)).toEqual([1, 3]);
    expect(rec.of('people').map((m) => m.count)).toEqual([0, 1, 0, 1]);
  });

  it('uses a new net height from the next frame and reports stages, progress and frames to listeners', async () => {
    const rec = new Recorder();
    const est = new ScriptedEstimator(() => [person(10, 10)]);
    const p = pipeline(frames(4), est, rec, { heights: [256, 224] });
    const stages = new Map<string, number>();
    const progress: number[] = [];
    p.on({
      onStage: (s, ms) => stages.set(s, (stages.get(s) ?? 0) + ms),
      onProgress: (seq) => {
        progress.push(seq);
        if (seq === 1) {
          expect(p.setHeight(224)).toBe(true);
          // Not prepared: the pipeline says so (the agent then restarts it) and keeps its height.
          expect(p.setHeight(160)).toBe(false);
        }
      },
    });
    const seen: Array<{ w: number; people: number; scale: number }> = [];
    p.on({ onFrame: (f, tracked, meta) => seen.push({ w: f.width, people: tracked.length, scale: meta.sourceToFrame.x }) });
    await p.start();
    expect(est.heights).toEqual([256, 256, 224, 224]);
    expect(progress).toEqual([0, 1, 2, 3]);
    expect(stages.get('inference')).toBe(8);
    expect([...stages.keys()].sort()).toEqual(['capture', 'inference', 'parse', 'preprocess', 'publish', 'track']);
    expect(seen).toEqual(Array(4).fill({ w: 320, people: 1, scale: 0.25 }));
  });

  it('carries on after a failing frame and a throwing listener', async () => {
    const rec = new Recorder();
    const est = new ScriptedEstimator((i) => (i === 1 ? new Error('inference exploded') : [person(10, 10)]));
    const p = pipeline(frames(3), est, rec);
    const errors: string[] = [];
    p.on({ onError: (e) => errors.push(e.message), onProgress: () => { throw new Error('bad listener'); } });
    expect(await p.start()).toBe('ended');
    expect(errors).toEqual(['inference exploded']);
    expect(rec.of('poses').map((m) => m.frame)).toEqual([0, 2]);
    expect(p.stats()).toMatchObject({ frames: 2, errors: 1 });
  });

  it('stops between frames when asked', async () => {
    const rec = new Recorder();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const source: FrameSource = {
      next: async () => {
        await gate;
        return null;
      },
    };
    const p = pipeline(source, new ScriptedEstimator(() => []), rec);
    const end = p.start();
    const stopped = p.stop();
    release();
    await stopped;
    expect(await end).toBe('stopped');
    expect(rec.sent).toEqual([]);
  });

  it('opens a session for the first frame\'s real format, and a new one when the source changes size', async () => {
    const rec = new Recorder();
    const disposed: number[] = [];
    const formats: FrameFormat[] = [];
    let opened = 0;
    const sizes = [320, 320, 640, 640];
    let i = 0;
    const source: FrameSource = {
      async next() {
        if (i >= sizes.length) return null;
        const w = sizes[i];
        const h = (w * 3) / 4; // 4:3 frames, not the 16:9 anybody would have guessed before the source was known
        return { data: new Uint8Array(w * h * 3), width: w, height: h, order: 'bgr', seq: i++, ts: 0, sourceWidth: 640, sourceHeight: 480 };
      },
    };
    const tracker = new PoseTracker({}, K, sigmasFor(manifest));
    const nets: Array<[number, number, string]> = [];
    const p = new PosePipeline({
      source,
      openSession: async (format) => {
        formats.push(format);
        const n = ++opened;
        const est = new ScriptedEstimator(() => []);
        return { estimator: Object.assign(est, { dispose: async () => void disposed.push(n) }), heights: [256, 224] };
      },
      tracker,
      publisher: rec,
      options: { height: 224, skipEmptyFrames: false, decimals: 1, model: manifest.name },
      log,
    });
    p.on({ onNetSize: (net, reason) => nets.push([net.width, net.height, reason]) });
    expect(await p.start()).toBe('ended');
    expect(formats).toEqual([
      { width: 320, height: 240, sourceWidth: 640, sourceHeight: 480 },
      { width: 640, height: 480, sourceWidth: 640, sourceHeight: 480 },
    ]);
    // The second session starts at the height the first one ran; both are released (the last when the loop ends).
    expect(nets).toEqual([[296, 224, 'start'], [296, 224, 'start']]);
    expect(disposed).toEqual([1, 2]);
    expect(rec.of('poses')).toHaveLength(4);
  });

  it('keeps reading frames while the runtime cannot be prepared, and retries with backoff', async () => {
    const rec = new Recorder();
    let attempts = 0;
    const p = new PosePipeline({
      source: frames(6),
      openSession: async () => {
        attempts++;
        throw new Error('engine does not load');
      },
      tracker: new PoseTracker({}, K, sigmasFor(manifest)),
      publisher: rec,
      options: { height: 0, skipEmptyFrames: false, decimals: 1, model: manifest.name },
      log,
    });
    const errors: string[] = [];
    p.on({ onError: (e) => errors.push(e.message) });
    expect(await p.start()).toBe('ended');
    // One attempt, then the frames within the backoff are skipped without another attempt.
    expect(attempts).toBe(1);
    expect(errors).toEqual(['engine does not load']);
    expect(p.stats()).toMatchObject({ frames: 0, skipped: 6 });
    expect(rec.sent).toEqual([]);
  });
});
