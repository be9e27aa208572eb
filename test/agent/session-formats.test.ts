// Issue 13, acceptance 4: the net sizes are prepared for the frames capture really delivers, not
// for a guessed 16:9 source. A 4:3 test source and a live height change run on onnxruntime and on
// the stand-in TensorRT addon (per-size buffers; it refuses what was not prepared, as the real one).

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { preparedHeights, sessionOpener } from '../../src/agent/agent.js';
import { CaptureSource } from '../../src/agent/capture/capture-source.js';
import { defaultConfig } from '../../src/agent/config/load.js';
import { PosePipeline } from '../../src/agent/pipeline.js';
import type { NetHeightControl } from '../../src/agent/session.js';
import type { TopicName, TopicPayloads } from '../../src/agent/mqtt/topics.js';
import type { AgentConfig } from '../../src/agent/config/schema.js';
import { loadManifest } from '../../src/runtime/manifest.js';
import { PoseTracker } from '../../src/runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../../src/runtime/tracking/sigmas.js';
import { StageMeters } from '../../src/telemetry/meters.js';
import { tempDir, writeEngine } from '../runtime/engines/fixtures.js';
import { waitFor } from './helpers/agent-process.js';
import { fakeTrtAddon, type FakeAddon } from '../runtime/backends/fake-trt-addon.js';

const manifest = loadManifest('lightweight-openpose-coco18');
const log = pino({ level: 'silent' });
// 640×480 delivered at output_height 368: 490×368 frames (4:3). Widths per ladder height, as the preprocessor places them.
const WIDTHS_4_3: Record<number, number> = { 368: 496, 320: 432, 256: 344, 224: 304, 160: 216 };

function agentConfig(backend: AgentConfig['inference']['backend']): AgentConfig {
  const c = defaultConfig();
  c.source.uri = 'test://?size=640x480&rate=30';
  c.inference.backend = backend;
  c.inference.height = 256;
  c.inference.onnxruntime.threads = 2;
  c.telemetry.scale.ladder = [368, 320, 256, 224, 160];
  return c;
}

class Sink {
  readonly poses: Array<TopicPayloads['poses']> = [];
  publish<K extends TopicName>(name: K, payload: TopicPayloads[K]): void {
    if (name === 'poses') this.poses.push(structuredClone(payload as TopicPayloads['poses']));
  }
}

let running: Array<{ capture: CaptureSource; pipeline: PosePipeline }> = [];
afterEach(async () => {
  for (const r of running) {
    const done = r.pipeline.stop();
    await r.capture.stop();
    await done;
  }
  running = [];
});

/** The agent's own session opener and pipeline on a real ffmpeg test source. */
function start(config: AgentConfig, selection?: Parameters<typeof sessionOpener>[3]) {
  const meters = new StageMeters();
  const capture = new CaptureSource(config.source, log);
  const sink = new Sink();
  const errors: string[] = [];
  const sessions: NetHeightControl[] = [];
  const pipeline = new PosePipeline({
    source: capture,
    openSession: sessionOpener(config, manifest, { log, meters }, selection),
    tracker: new PoseTracker(config.tracking, manifest.keypoints.length, sigmasFor(manifest)),
    publisher: sink,
    options: { height: config.inference.height, skipEmptyFrames: false, decimals: 1, model: manifest.name },
    log,
  });
  pipeline.on({ onNetSize: (net, reason) => meters.setNetSize(net, reason), onError: (e) => errors.push(e.message), onSession: (s) => sessions.push(s) });
  running.push({ capture, pipeline });
  capture.start();
  void pipeline.start();
  return { meters, sink, pipeline, errors, sessions };
}


/** Runs until `n` more poses arrived, then changes the height live and checks the next frames use it. */
async function exerciseHeights(run: ReturnType<typeof start>) {
  await waitFor(() => run.sink.poses.length >= 3, 'three frames');
  const session = run.sessions[0]!;
  expect(session.heights).toEqual([368, 320, 256, 224, 160]);
  expect(run.sink.poses[0]!.source).toEqual({ width: 640, height: 480 });
  expect(run.sink.poses[0]!.net).toEqual({ width: WIDTHS_4_3[256], height: 256 });
  // The meters (and so `stats` and /metrics) show the session's size, not a 16:9 guess.
  expect(run.meters.snapshot().net).toEqual({ width: WIDTHS_4_3[256], height: 256 });

  expect(run.pipeline.setHeight(160)).toBe(true);
  const from = run.sink.poses.length;
  await waitFor(() => run.sink.poses.length >= from + 3, 'frames after the change');
  expect(run.sink.poses.at(-1)!.net).toEqual({ width: WIDTHS_4_3[160], height: 160 });
  expect(run.meters.snapshot().net).toEqual({ width: WIDTHS_4_3[160], height: 160 });
  // A height nobody prepared is refused (the agent restarts the pipeline to prepare it), never run half-way.
  expect(run.pipeline.setHeight(304)).toBe(false);
  expect(run.pipeline.current!.height).toBe(160);
  expect(run.errors).toEqual([]);
}

describe('sessions prepared for the real frame format', () => {
  it('prepares the ladder for 4:3 frames (checked against the heights the agent asks for)', () => {
    expect(preparedHeights(agentConfig('onnxruntime'), manifest)).toEqual([256, 368, 320, 224, 160]);
  });

  it('onnxruntime: a 4:3 source runs at 4:3 net sizes, and a live height change applies from the next frame', async () => {
    await exerciseHeights(start(agentConfig('onnxruntime')));
  }, 120_000);

  it('TensorRT stand-in: buffers for the 4:3 ladder allocated once, shapes switched live, nothing allocated per frame', async () => {
    const dir = await tempDir();
    const profile = { min: [1, 3, 160, WIDTHS_4_3[160]!], opt: [1, 3, 256, WIDTHS_4_3[256]!], max: [1, 3, 368, WIDTHS_4_3[368]!] };
    await writeEngine(dir, { profile, ladder: { heights: [160, 224, 256, 320, 368], aspect: '4:3' } });
    let addon!: FakeAddon;
    const run = start(agentConfig('tensorrt'), {
      addonLoader: () => (addon = fakeTrtAddon({ profile })),
      engineDirs: [dir],
    });
    await exerciseHeights(run);
    // One buffer per tensor, sized for 368×496, allocated at load; every run used a prepared shape.
    expect(addon.allocations).toEqual([3 * 368 * 496 * 4, 19 * 46 * 62 * 4, 38 * 46 * 62 * 4]);
    const shapes = new Set(addon.calls.filter((c) => c.startsWith('run(')));
    for (const s of shapes) expect([...Object.entries(WIDTHS_4_3)].map(([h, w]) => `run(1x3x${h}x${w})`)).toContain(s);
    expect(shapes).toContain(`run(1x3x160x${WIDTHS_4_3[160]})`);
  }, 120_000);

  it('TensorRT stand-in: an engine built for 16:9 cannot serve 4:3 frames, and the pipeline says why and keeps retrying', async () => {
    const dir = await tempDir();
    await writeEngine(dir); // 16:9 ladder profile, 288..656 wide: 4:3 at 160 needs 216
    const run = start(agentConfig('tensorrt'), { addonLoader: () => fakeTrtAddon(), engineDirs: [dir] });
    await waitFor(() => run.errors.length >= 1, 'the session failure');
    expect(run.errors[0]).toMatch(/build one with: pafcast engines build .* --aspect 4:3/);
    await waitFor(() => run.pipeline.stats().skipped >= 5, 'frames skipped while retrying');
    expect(run.sink.poses).toEqual([]);
  }, 60_000);
});
