// The `telemetry` section of the MQTT `stats` message: sensors and the scale controller, built from
// the same snapshot /metrics renders so both always agree. Times in ms, loads in percent, sizes in
// bytes. Throughput and stage timings sit in the message's base (src/agent/mqtt/stats-publisher.ts).

import type { DeviceInfo } from './device-info.js';
import type { MetersSnapshot } from './meters.js';
import type { SensorSample } from './sampler.js';
import type { ScaleDecision } from './scale-controller.js';

export interface TelemetrySection {
  /** Last controller decision and how often the size changed, by reason (null when the scale is fixed). */
  scale: { height: number; reason: string; changes: Record<string, number> } | null;
  thermal: { zones: Array<{ type: string; temp_c: number | null }>; hottest: { type: string; temp_c: number } | null } | null;
  gpu_load_pct: number | null;
  cpu_load_pct: number | null;
  memory: { total_bytes: number; available_bytes: number; used_bytes: number } | null;
  power_mode: string | null;
  power_mw: Record<string, number> | null;
  device?: { model: string | null; l4t: string | null; os: string | null };
}

const round = (v: number | null, digits = 2): number | null => (v === null ? null : Number(v.toFixed(digits)));

export function buildTelemetrySection(input: {
  meters: MetersSnapshot;
  sensors: SensorSample | null;
  lastScale?: ScaleDecision | null;
  device?: DeviceInfo | null;
}): TelemetrySection {
  const { meters: m, sensors: s } = input;
  return {
    scale: input.lastScale ? { height: input.lastScale.height, reason: input.lastScale.reason, changes: m.scaleChanges } : null,
    thermal: s
      ? {
          zones: s.thermal.map((z) => ({ type: z.type, temp_c: z.tempC })),
          hottest: s.hottest ? { type: s.hottest.type, temp_c: s.hottest.tempC! } : null,
        }
      : null,
    gpu_load_pct: s?.gpu ? s.gpu.loadPct : null,
    cpu_load_pct: s?.cpu ? round(s.cpu.totalPct, 1) : null,
    memory: s?.memory ? { total_bytes: s.memory.totalBytes, available_bytes: s.memory.availableBytes, used_bytes: s.memory.usedBytes } : null,
    power_mode: s?.powerMode?.name ?? null,
    power_mw: s?.rails ? Object.fromEntries(Object.entries(s.rails).map(([k, r]) => [k, r.currentMw])) : null,
    ...(input.device ? { device: { model: input.device.model, l4t: input.device.l4t, os: input.device.os } } : {}),
  };
}
