import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/runtime/manifest.js';
import { TelemetryConfigSchema, type TelemetryConfig } from '../../src/telemetry/config-schema.js';
import {
  LadderError,
  resolveLadder,
  ScaleController,
  scaleOptionsFromConfig,
  type ScaleControllerOptions,
  type ScaleReason,
} from '../../src/telemetry/scale-controller.js';

const LADDER = [368, 320, 256, 224, 160];

function options(over: Partial<ScaleControllerOptions> = {}): ScaleControllerOptions {
  return {
    ladder: LADDER,
    targetFps: 15,
    softLimitC: 80,
    hardLimitC: 90,
    hysteresisC: 5,
    downDwellMs: 3_000,
    upDwellMs: 30_000,
    fpsTolerance: 0.05,
    upHeadroom: 0.15,
    maxBackoffMs: 600_000,
    ...over,
  };
}

interface Change {
  t: number;
  from: number;
  to: number;
  reason: ScaleReason;
}

/**
 * Drives the controller with a simulated plant on a fake clock: every `tickMs` the plant reports
 * the FPS and temperature it would have at the current height, and the controller answers.
 */
function simulate(
  ctrl: ScaleController,
  plant: (height: number, t: number) => { fps: number | null; tempC: number | null },
  durationMs: number,
  tickMs = 1_000,
): { changes: Change[]; heights: number[]; temps: Array<number | null> } {
  const changes: Change[] = [];
  const heights: number[] = [];
  const temps: Array<number | null> = [];
  for (let t = 0; t <= durationMs; t += tickMs) {
    const { fps, tempC } = plant(ctrl.height, t);
    const d = ctrl.update({ nowMs: t, fps, tempC });
    if (d.changed) changes.push({ t, from: d.from, to: d.height, reason: d.reason });
    else expect(d.height).toBe(d.from);
    heights.push(d.height);
    temps.push(tempC);
  }
  return { changes, heights, temps };
}

/** Inference-bound pipeline: FPS proportional to 1 / pixels, `fpsAt256` at height 256. */
const pixelBound = (fpsAt256: number) => (h: number): number => fpsAt256 * (256 / h) ** 2;

/** Deterministic noise in [-1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** Direction changes in a height trace (down then up or up then down). */
function reversals(changes: Change[]): number {
  let n = 0;
  for (let i = 1; i < changes.length; i++) if (Math.sign(changes[i].to - changes[i].from) !== Math.sign(changes[i - 1].to - changes[i - 1].from)) n++;
  return n;
}

describe('ScaleController: FPS', () => {
  it('an FPS shortfall at the top step jumps after the down dwell to the largest step predicted to meet the target, then stays', () => {
    const fps = pixelBound(16); // 368: 7.7, 320: 10.2, 256: 16, 224: 20.9, 160: 41
    const ctrl = new ScaleController(options());
    const { changes, heights } = simulate(ctrl, (h) => ({ fps: fps(h), tempC: 50 }), 600_000);
    expect(changes).toEqual([{ t: 3_000, from: 368, to: 256, reason: 'fps-shortfall' }]);
    expect(heights.at(-1)).toBe(256);
  });

  it('steps up one step per up dwell while the next step is predicted to hold the target with headroom', () => {
    const fps = pixelBound(20 * (368 / 256) ** 2); // 20 fps even at 368
    const ctrl = new ScaleController(options({ startHeight: 160 }));
    const { changes } = simulate(ctrl, (h) => ({ fps: fps(h), tempC: 50 }), 600_000);
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      [160, 224, 'headroom'],
      [224, 256, 'headroom'],
      [256, 320, 'headroom'],
      [320, 368, 'headroom'],
    ]);
    // Up is slow: every step waits at least the up dwell (the headroom must be seen again after each move).
    expect(changes.map((c) => c.t)).toEqual([30_000, 61_000, 92_000, 123_000]);
  });

  it('does not step up into a size that would miss the target (headroom hysteresis)', () => {
    // 256 runs 20 fps; 320 would run 12.8 (< 15 × 1.15).
    const fps = pixelBound(20);
    const ctrl = new ScaleController(options({ startHeight: 256 }));
    expect(simulate(ctrl, (h) => ({ fps: fps(h), tempC: 50 }), 3_600_000).changes).toEqual([]);
  });

  it('measurement noise and short stalls cause no change', () => {
    const noise = lcg(42);
    const fps = pixelBound(16);
    const ctrl = new ScaleController(options({ startHeight: 256 }));
    // ±8 % noise around 16 fps, and a 2 s stall (fps 3) every 47 s: never a sustained shortfall.
    const { changes } = simulate(ctrl, (h, t) => ({ fps: t % 47_000 < 2_000 ? 3 : fps(h) * (1 + 0.08 * noise()), tempC: 60 + 2 * noise() }), 3_600_000);
    expect(changes).toEqual([]);
  });

  it('a step that fails after stepping up is retried ever more rarely (no oscillation)', () => {
    // 256 runs 30 fps; 320 looks affordable (30 × 0.64 = 19.2 ≥ 17.25) but really runs 12 fps.
    const ctrl = new ScaleController(options({ startHeight: 256 }));
    const { changes } = simulate(ctrl, (h) => ({ fps: h === 320 ? 12 : pixelBound(30)(h), tempC: 50 }), 3_600_000);
    const ups = changes.filter((c) => c.reason === 'headroom');
    const downs = changes.filter((c) => c.reason === 'fps-shortfall');
    expect(ups.every((c) => c.from === 256 && c.to === 320)).toBe(true);
    expect(downs.every((c) => c.from === 320 && c.to === 256)).toBe(true);
    // Each failed probe is abandoned after the first reading at the new size (one tick) plus the down dwell.
    ups.forEach((u, i) => expect(downs[i].t - u.t).toBe(4_000));
    // Waits between probes: 2×, 4×, 8×, 16× the up dwell, then the 10-minute cap.
    const waits = ups.slice(1).map((u, i) => u.t - downs[i].t);
    expect(waits.slice(0, 5)).toEqual([60_000, 120_000, 240_000, 480_000, 600_000]);
    expect(waits.slice(4).every((w) => w === 600_000)).toBe(true);
    // A naive controller would probe every ~33 s (~100 times an hour).
    expect(ups.length).toBeLessThanOrEqual(9);
  });

  it('holds while FPS is unknown (no frames yet)', () => {
    const ctrl = new ScaleController(options());
    const { changes } = simulate(ctrl, () => ({ fps: null, tempC: null }), 120_000);
    expect(changes).toEqual([]);
  });
});

describe('ScaleController: temperature', () => {
  /**
   * First-order thermal plant: the die settles towards ambient + 35 °C × (pixels / pixels at 368)
   * with a 60 s time constant; the box ambient ramps from 40 to 65 °C over 20 minutes.
   */
  function thermalPlant() {
    let temp = 50;
    let last = 0;
    return (h: number, t: number) => {
      const ambient = 40 + 25 * Math.min(1, t / 1_200_000);
      const target = ambient + 35 * (h / 368) ** 2;
      temp += (target - temp) * (1 - Math.exp(-(t - last) / 60_000));
      last = t;
      return { fps: 60, tempC: temp };
    };
  }

  it('a thermal ramp steps down as the box heats, probes back up at most once, and never reaches the hard limit', () => {
    const ctrl = new ScaleController(options());
    const { changes, temps, heights } = simulate(ctrl, thermalPlant(), 2_400_000);
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      [368, 320, 'thermal'],
      [320, 256, 'thermal'],
      // 256 cooled the die under soft − hysteresis while the box was still heating: one probe,
      // which the heat ends; 320 is then barred for 2 × up dwell and the ramp makes it moot.
      [256, 320, 'headroom'],
      [320, 256, 'thermal'],
      [256, 224, 'thermal'],
    ]);
    for (let i = 1; i < changes.length; i++) expect(changes[i].t - changes[i - 1].t).toBeGreaterThanOrEqual(3_000);
    expect(Math.max(...temps.map((t) => t ?? 0))).toBeLessThan(90);
    // Box at 65 °C: 224 settles at 78 °C (< 80), 256 would settle at 82 °C.
    expect(heights.at(-1)).toBe(224);
    expect(temps.at(-1)!).toBeLessThan(80);
  });

  it('a step that overheats after a step up is retried after 2×, 4×, 8× the up dwell', () => {
    const ctrl = new ScaleController(options({ startHeight: 256 }));
    const { changes } = simulate(ctrl, (h) => ({ fps: 200, tempC: h === 320 ? 82 : 70 }), 600_000);
    const ups = changes.filter((c) => c.reason === 'headroom').map((c) => c.t);
    const downs = changes.filter((c) => c.reason === 'thermal').map((c) => c.t);
    expect(ups).toEqual([30_000, 94_000, 218_000, 462_000]);
    expect(downs).toEqual([34_000, 98_000, 222_000, 466_000]);
  });

  it('above the hard limit it drops to the bottom at once, ignoring dwell', () => {
    const ctrl = new ScaleController(options());
    ctrl.update({ nowMs: 0, fps: 30, tempC: 70 });
    const d = ctrl.update({ nowMs: 500, fps: 30, tempC: 91 });
    expect(d).toEqual({ height: 160, changed: true, reason: 'hard-limit', from: 368 });
    expect(ctrl.update({ nowMs: 1_000, fps: 30, tempC: 92 })).toMatchObject({ height: 160, changed: false, reason: 'hard-limit' });
  });

  it('climbs back only once the zone is hysteresis_c below the soft limit, slowly', () => {
    const ctrl = new ScaleController(options({ startHeight: 224 }));
    // 77 °C: under the soft limit but inside the 5 °C band: hold for an hour.
    const warm = simulate(ctrl, () => ({ fps: 200, tempC: 77 }), 3_600_000);
    expect(warm.changes).toEqual([]);
    const ctrl2 = new ScaleController(options({ startHeight: 224 }));
    const cool = simulate(ctrl2, () => ({ fps: 200, tempC: 74.9 }), 70_000);
    expect(cool.changes.map((c) => [c.t, c.to])).toEqual([
      [30_000, 256],
      [61_000, 320],
    ]);
  });

  it('at the soft limit it steps down even with FPS to spare, and heat blocks stepping up', () => {
    const ctrl = new ScaleController(options({ startHeight: 256 }));
    const { changes } = simulate(ctrl, () => ({ fps: 200, tempC: 81 }), 20_000);
    expect(changes.map((c) => [c.t, c.to, c.reason])).toEqual([
      [3_000, 224, 'thermal'],
      // The next step needs both: the heat seen again for the dwell, and the new step held for it.
      [7_000, 160, 'thermal'],
    ]);
  });
});

describe('ScaleController: configuration', () => {
  const config = (over: Record<string, unknown> = {}): TelemetryConfig => {
    const c = Value.Default(TelemetryConfigSchema, {}) as TelemetryConfig;
    Object.assign(c.scale, over);
    return c;
  };

  it('a pinned height never changes, whatever the FPS or heat', () => {
    const c = config({ pinned_height: 224 });
    const ctrl = new ScaleController(scaleOptionsFromConfig(c, resolveLadder(c.scale, loadManifest('lightweight-openpose-coco18'))));
    const { changes, heights } = simulate(ctrl, (h, t) => ({ fps: t % 2 ? 1 : 500, tempC: t > 60_000 ? 99 : 20 }), 300_000);
    expect(changes).toEqual([]);
    expect(new Set(heights)).toEqual(new Set([224]));
  });

  it('the default ladder fits every shipped stride-8 model; min/max bound it', () => {
    const light = loadManifest('lightweight-openpose-coco18');
    expect(resolveLadder(config().scale, light)).toEqual([368, 320, 256, 224, 160]);
    expect(resolveLadder(config({ min_height: 200, max_height: 330 }).scale, light)).toEqual([320, 256, 224]);
    expect(resolveLadder(config({ ladder: [160, 256, 256, 368] }).scale, light)).toEqual([368, 256, 160]);
  });

  it('rejects steps outside the model range (the engine profile) or off the stride, naming each', () => {
    const trtPose = loadManifest('trt-pose-resnet18-att-224'); // stride 4, fixed 224
    expect(() => resolveLadder(config().scale, trtPose)).toThrow(LadderError);
    try {
      resolveLadder(config({ ladder: [740, 250, 224] }).scale, loadManifest('lightweight-openpose-coco18'));
      expect.unreachable();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('/telemetry/scale/ladder/0: 740 is outside');
      expect(msg).toContain('/telemetry/scale/ladder/1: 250 is not a multiple of the model stride 8');
      expect(msg).not.toContain('ladder/2');
    }
    expect(() => resolveLadder(config({ pinned_height: 100 }).scale, loadManifest('lightweight-openpose-coco18'))).toThrow(/pinned_height: 100 is outside/);
    expect(() => resolveLadder(config({ min_height: 400 }).scale, loadManifest('lightweight-openpose-coco18'))).toThrow(/no ladder step/);
  });

  it('rejects a ladder that is not strictly decreasing or a start off the ladder', () => {
    expect(() => new ScaleController(options({ ladder: [256, 320] }))).toThrow(LadderError);
    expect(() => new ScaleController(options({ startHeight: 300 }))).toThrow(LadderError);
  });
});
