import { ladderSizes } from '../../src/runtime/engines/ladder.js';
import { describe, expect, it } from 'vitest';
import type { NetSize } from '../../src/runtime/backend.js';
import { StageMeters } from '../../src/telemetry/meters.js';
import { ScaleController } from '../../src/telemetry/scale-controller.js';
import { capacityFps, ScaleLoop } from '../../src/telemetry/scale-loop.js';

const LADDER = [368, 320, 256, 224, 160];

describe('ScaleLoop', () => {
  it('closes the loop: a simulated inference-bound pipeline too slow at 368 settles at the largest size that meets the target', () => {
    let t = 0;
    const now = () => t;
    const meters = new StageMeters({ now, fpsWindowMs: 2_000 });
    const controller = new ScaleController({
      ladder: LADDER, targetFps: 12, softLimitC: 80, hardLimitC: 90, hysteresisC: 5,
      downDwellMs: 3_000, upDwellMs: 30_000, fpsTolerance: 0.05, upHeadroom: 0.15, maxBackoffMs: 600_000,
    });
    const sizes = new Map(ladderSizes(LADDER, 16 / 9, 8).map((s) => [s.height, s]));
    const switches: Array<[number, string]> = [];
    // Stands in for the pipeline session: the one owner of the height, which tells the meters.
    const target = {
      height: 368,
      get size(): NetSize {
        return sizes.get(this.height)!;
      },
      setHeight(h: number, reason: string) {
        this.height = h;
        meters.setNetSize(this.size, reason);
      },
    };
    meters.setNetSize(target.size, 'start');
    const loop = new ScaleLoop({ controller, meters, target, hottestC: () => 55, now, onChange: (d) => switches.push([d.height, d.reason]) });
    // Inference takes 8 ms per 10k input pixels (368×656: 193 ms → 5 fps; 256×456: 93 ms → 10.7; 224×400: 72 ms → 14).
    const inferMs = (s: NetSize) => (s.width * s.height) / 10_000 * 8;
    let nextTick = 1_000;
    const fpsSeen: number[] = [];
    while (t < 120_000) {
      const ms = inferMs(target.size);
      meters.record('preprocess', 0);
      meters.record('inference', ms);
      t += ms;
      meters.frame();
      if (t >= nextTick) {
        loop.tick();
        nextTick += 1_000;
        fpsSeen.push(meters.snapshot().fps ?? 0);
      }
    }
    expect(switches[0]).toEqual([224, 'fps-shortfall']);
    expect(switches).toHaveLength(1);
    expect(target.size).toEqual({ height: 224, width: 400 });
    // Measured FPS rose from ~5 to the target.
    expect(fpsSeen[1]).toBeLessThan(6);
    expect(fpsSeen.at(-1)!).toBeGreaterThanOrEqual(12);
    expect(meters.snapshot().scaleChanges).toEqual({ 'fps-shortfall': 1 });
  });

  it('capacity is 1000 / the summed medians of the busy stages (capture excluded)', () => {
    const m = new StageMeters();
    expect(capacityFps(m.snapshot())).toBeNull();
    m.record('capture', 500);
    m.record('preprocess', 5);
    m.record('inference', 40);
    m.record('parse', 5);
    expect(capacityFps(m.snapshot())).toBe(20);
  });

  it('follows a height set elsewhere (live config) instead of fighting it', () => {
    let t = 0;
    const meters = new StageMeters({ now: () => t });
    const controller = new ScaleController({
      ladder: LADDER, targetFps: 12, softLimitC: 80, hardLimitC: 90, hysteresisC: 5,
      downDwellMs: 3_000, upDwellMs: 30_000, fpsTolerance: 0.05, upHeadroom: 0.15, maxBackoffMs: 600_000,
    });
    const set: Array<[number, string]> = [];
    const target = { height: 368, setHeight: (h: number, reason: string) => set.push([h, reason]) };
    const loop = new ScaleLoop({ controller, meters, target, hottestC: () => null, now: () => t });
    loop.tick();
    // inference.height changed live to 256: the controller continues from there and does not command anything.
    target.height = 256;
    t += 1_000;
    const d = loop.tick();
    expect(controller.height).toBe(256);
    expect(d).toMatchObject({ height: 256, changed: false });
    expect(set).toEqual([]);
  });
});
