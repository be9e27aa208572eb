import { describe, expect, it } from 'vitest';
import { StageMeters } from '../../src/telemetry/meters.js';

function fakeClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('StageMeters', () => {
  it('median and p99 over the window, counts and sums since start', () => {
    const clock = fakeClock();
    const m = new StageMeters({ window: 100, now: clock.now });
    // 1..200 ms: the window keeps the last 100 (101..200).
    for (let ms = 1; ms <= 200; ms++) m.record('inference', ms);
    const s = m.snapshot().stages.inference;
    expect(s.count).toBe(200);
    expect(s.sumMs).toBe((200 * 201) / 2);
    expect(s.medianMs).toBe(150);
    expect(s.p99Ms).toBe(199);
    expect(s.lastMs).toBe(200);
    expect(m.snapshot().stages.parse).toMatchObject({ count: 0, medianMs: null, p99Ms: null, lastMs: null });
  });

  it('quantiles do not depend on arrival order', () => {
    const m = new StageMeters({ window: 64 });
    const values = Array.from({ length: 64 }, (_, i) => ((i * 37) % 64) + 1);
    for (const v of values) m.record('parse', v);
    expect(m.snapshot().stages.parse).toMatchObject({ medianMs: 32, p99Ms: 64 });
  });

  it('FPS from frame times on a fake clock, stall-aware', () => {
    const clock = fakeClock(1_000);
    const m = new StageMeters({ fpsWindowMs: 5_000, now: clock.now });
    expect(m.snapshot().fps).toBeNull();
    // 10 fps for 3 s: measured from the first frame while the window is not yet full.
    for (let i = 0; i < 31; i++) {
      m.frame();
      if (i < 30) clock.advance(100);
    }
    expect(m.snapshot().fps).toBeCloseTo(10, 9);
    // 20 fps for 10 s: the window holds only the new rate.
    for (let i = 0; i < 200; i++) {
      clock.advance(50);
      m.frame();
    }
    expect(m.snapshot().fps).toBeCloseTo(20, 9);
    // The pipeline stalls for 2.5 s: half the window is empty.
    clock.advance(2_500);
    expect(m.snapshot().fps).toBeCloseTo(10, 1);
    clock.advance(5_000);
    expect(m.snapshot().fps).toBe(0);
    expect(m.snapshot().frames).toBe(231);
  });

  it('drops per stage and in total', () => {
    const m = new StageMeters();
    m.drop();
    m.drop();
    m.drop('publish');
    const s = m.snapshot();
    expect(s.stages.capture.drops).toBe(2);
    expect(s.stages.publish.drops).toBe(1);
    expect(s.drops).toBe(3);
  });

  it('a net size change is counted by reason and restarts the FPS measurement', () => {
    const clock = fakeClock();
    const m = new StageMeters({ now: clock.now });
    m.setBackend({ backend: 'onnxruntime', provider: 'cpu', precision: 'fp32' });
    m.setNetSize({ width: 656, height: 368 }, 'start');
    for (let i = 0; i < 10; i++) {
      m.frame();
      clock.advance(200);
    }
    expect(m.snapshot().fps).not.toBeNull();
    m.setNetSize({ width: 656, height: 368 }, 'fps-shortfall');
    expect(m.snapshot().scaleChanges).toEqual({});
    m.setNetSize({ width: 456, height: 256 }, 'fps-shortfall');
    const s = m.snapshot();
    expect(s.scaleChanges).toEqual({ 'fps-shortfall': 1 });
    expect(s.net).toEqual({ width: 456, height: 256 });
    expect(s.fps).toBeNull();
    expect(s.backend).toEqual({ backend: 'onnxruntime', provider: 'cpu', precision: 'fp32' });
  });
});
