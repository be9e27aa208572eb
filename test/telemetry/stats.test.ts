import { describe, expect, it } from 'vitest';
import { StageMeters } from '../../src/telemetry/meters.js';
import { buildTelemetrySection } from '../../src/telemetry/stats.js';
import type { SensorSample } from '../../src/telemetry/sampler.js';

describe('buildTelemetrySection', () => {
  it('carries sensors and the last scale decision in one JSON-safe object', () => {
    let t = 0;
    const m = new StageMeters({ now: () => t });
    m.setNetSize({ width: 456, height: 256 }, 'start');
    for (let i = 0; i < 5; i++) {
      m.record('inference', 40.123456);
      m.frame();
      t += 50;
    }
    t -= 50;
    const sensors: SensorSample = {
      atMs: 1,
      thermal: [{ index: 0, type: 'cpu-thermal', tempC: 47.5 }, { index: 2, type: 'cv0-thermal', tempC: null }],
      hottest: { index: 0, type: 'cpu-thermal', tempC: 47.5 },
      gpu: { loadPct: 39, source: 'sysfs' },
      cpu: { totalPct: 12.345, perCorePct: {} },
      memory: { totalBytes: 100, availableBytes: 60, usedBytes: 40, swapTotalBytes: 0, swapFreeBytes: 0 },
      powerMode: { name: 'MAXN', id: 0 },
      rails: null,
      network: [],
    };
    const msg = buildTelemetrySection({ meters: m.snapshot(), sensors, lastScale: { height: 256, from: 320, changed: true, reason: 'thermal' }, device: { model: 'NVIDIA Jetson TX2', l4t: '32.7.1', os: null } as never });
    expect(JSON.parse(JSON.stringify(msg))).toEqual({
      scale: { height: 256, reason: 'thermal', changes: {} },
      thermal: { zones: [{ type: 'cpu-thermal', temp_c: 47.5 }, { type: 'cv0-thermal', temp_c: null }], hottest: { type: 'cpu-thermal', temp_c: 47.5 } },
      gpu_load_pct: 39,
      cpu_load_pct: 12.3,
      memory: { total_bytes: 100, available_bytes: 60, used_bytes: 40 },
      power_mode: 'MAXN',
      power_mw: null,
      device: { model: 'NVIDIA Jetson TX2', l4t: '32.7.1', os: null },
    });
  });
});
