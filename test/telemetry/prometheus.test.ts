import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { TelemetryConfigSchema, type TelemetryConfig } from '../../src/telemetry/config-schema.js';
import { StageMeters } from '../../src/telemetry/meters.js';
import { escapeLabelValue, renderPrometheus, type TelemetrySnapshot } from '../../src/telemetry/prometheus.js';
import { TelemetrySampler } from '../../src/telemetry/sampler.js';
import { parseTegrastatsLine } from '../../src/telemetry/tegrastats.js';
import { boardRoot, jetsonDir } from './paths.js';

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; quantiles?: Record<string, string>; count?: string; sum?: string }>;
}

/**
 * Checks what the lenient parser lets through, per the 0.0.4 text format: every sample line is
 * `name{labels} value`, names and label names are valid, each family has one HELP and one TYPE
 * before its samples, and no series appears twice.
 */
function checkStrict(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const declared = new Map<string, { help: number; type: string | null }>();
  const seen = new Set<string>();
  const values = new Map<string, number>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const labelValue = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
  const sample = new RegExp(`^(${name})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${labelValue})(?:,[a-zA-Z_][a-zA-Z0-9_]*=${labelValue})*\\})? (\\S+)$`);
  for (const line of text.trimEnd().split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const d = declared.get(meta[2]) ?? { help: 0, type: null };
      if (meta[1] === 'HELP') d.help++;
      else {
        expect(d.type, `second TYPE for ${meta[2]}`).toBeNull();
        expect(['gauge', 'counter', 'summary', 'histogram', 'untyped']).toContain(meta[3]);
        d.type = meta[3];
      }
      declared.set(meta[2], d);
      continue;
    }
    const m = sample.exec(line);
    expect(m, `not a valid sample line: ${line}`).not.toBeNull();
    const family = m![1].replace(/_(sum|count)$/, '');
    const d = declared.get(m![1]) ?? declared.get(family);
    expect(d, `sample before its TYPE: ${line}`).toBeDefined();
    expect(d!.help).toBe(1);
    expect(Number.isNaN(Number(m![3])) && m![3] !== 'NaN').toBe(false);
    const key = `${m![1]}${m![2] ?? ''}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    values.set(key, Number(m![3]));
  }
  return values;
}

async function fullSnapshot(): Promise<TelemetrySnapshot> {
  let t = 0;
  const meters = new StageMeters({ now: () => t });
  meters.setBackend({ backend: 'onnxruntime', provider: 'cpu', precision: 'fp32' });
  meters.setNetSize({ width: 656, height: 368 }, 'start');
  for (let i = 0; i < 50; i++) {
    meters.record('capture', 2);
    meters.record('preprocess', 4 + (i % 3));
    meters.record('inference', 60 + i);
    meters.record('parse', 3);
    meters.frame();
    t += 100;
  }
  meters.drop();
  meters.setNetSize({ width: 456, height: 256 }, 'fps-shortfall');
  meters.frame();
  t += 100;
  meters.frame();
  const config: TelemetryConfig = { ...(Value.Default(TelemetryConfigSchema, {}) as TelemetryConfig), root: boardRoot('agx-orin-jp6') };
  const sampler = new TelemetrySampler({
    config,
    powerMode: { read: async () => ({ name: 'MAXN', id: 0 }) },
    readNetwork: async () => [{ iface: 'eth0', rxBytes: 10, txBytes: 20, rxPerSec: 1500, txPerSec: null }],
    now: () => 1_700_000_000_000,
  });
  const sensors = await sampler.sampleOnce();
  const line = readFileSync(join(jetsonDir, 'tegrastats/agx-orin-jp7.2-sudo.jetson_stats.txt'), 'utf8').split('\n')[0];
  sensors.rails = parseTegrastatsLine(line).rails;
  return {
    meters: meters.snapshot(),
    sensors,
    device: { model: 'NVIDIA "Jetson" AGX\\Orin\nDev Kit', l4t: '36.4.3', os: 'Ubuntu 22.04.5 LTS', kernel: '5.15.148-tegra', arch: 'arm64' , hostname: 'x' },
  };
}

describe('renderPrometheus', () => {
  it('parses with a Prometheus text-format parser and passes the strict line checks', async () => {
    const text = renderPrometheus(await fullSnapshot());
    checkStrict(text);
    const families = parsePrometheusTextFormat(text) as Family[];
    const byName = new Map(families.map((f) => [f.name, f]));
    const get = (n: string): Family => {
      const f = byName.get(n);
      expect(f, n).toBeDefined();
      return f!;
    };

    // The library keeps only the quantile label of a summary (its flattening drops other labels),
    // so per-stage values are read from the strict line parse; the library still checks the family.
    const stage = get('pafcast_stage_duration_seconds');
    expect(stage.type).toBe('SUMMARY');
    const series = checkStrict(text);
    expect(series.get('pafcast_stage_duration_seconds{stage="inference",quantile="0.5"}')).toBeCloseTo(0.084, 9); // nearest-rank median of 60..109 ms
    expect(series.get('pafcast_stage_duration_seconds{stage="inference",quantile="0.99"}')).toBeCloseTo(0.109, 9);
    expect(series.get('pafcast_stage_duration_seconds_count{stage="inference"}')).toBe(50);
    expect(series.get('pafcast_stage_duration_seconds_sum{stage="inference"}')).toBeCloseTo((50 * 60 + (49 * 50) / 2) / 1000, 9);
    expect([...series.keys()].filter((k) => k.startsWith('pafcast_stage_duration_seconds_count')).sort()).toEqual(
      ['capture', 'inference', 'parse', 'preprocess'].map((st) => `pafcast_stage_duration_seconds_count{stage="${st}"}`),
    );

    expect(get('pafcast_frames_total').metrics[0].value).toBe('52');
    expect(Number(get('pafcast_fps').metrics[0].value)).toBeCloseTo(10, 9);
    const drops = get('pafcast_frames_dropped_total');
    expect(drops.type).toBe('COUNTER');
    expect(drops.metrics.find((m) => m.labels?.stage === 'capture')!.value).toBe('1');
    expect(get('pafcast_net_input_height_pixels').metrics[0].value).toBe('256');
    expect(get('pafcast_scale_changes_total').metrics).toEqual([{ labels: { reason: 'fps-shortfall' }, value: '1' }]);
    expect(get('pafcast_backend_info').metrics[0]).toEqual({ labels: { backend: 'onnxruntime', provider: 'cpu', precision: 'fp32' }, value: '1' });

    // Offline cv zones are left out rather than exported as a fake value.
    const zones = get('pafcast_thermal_zone_celsius').metrics;
    expect(zones).toHaveLength(8);
    expect(zones.find((m) => m.labels?.type === 'tj-thermal')).toEqual({ labels: { zone: '8', type: 'tj-thermal' }, value: '47.5' });
    expect(get('pafcast_thermal_hottest_celsius').metrics[0]).toEqual({ labels: { type: 'cpu-thermal' }, value: '47.5' });
    expect(get('pafcast_gpu_load_ratio').metrics[0]).toEqual({ labels: { source: 'sysfs' }, value: '0.39' });
    const mem = get('pafcast_memory_bytes').metrics;
    expect(mem.find((m) => m.labels?.kind === 'total')!.value).toBe(String(62841 * 1024 * 1024));
    expect(get('pafcast_power_mode_info').metrics[0].labels).toEqual({ mode: 'MAXN', id: '0' });
    expect(get('pafcast_power_rail_watts').metrics.find((m) => m.labels?.rail === 'VDD_GPU_SOC')!.value).toBe('5.139');
    expect(get('pafcast_network_bytes_per_second').metrics).toEqual([{ labels: { iface: 'eth0', direction: 'rx' }, value: '1500' }]);
    // Quotes, a backslash and a newline in a label value survive the round trip.
    expect(get('pafcast_device_info').metrics[0].labels!.model).toBe('NVIDIA "Jetson" AGX\\Orin\nDev Kit');
  });

  it('renders only what it is given; an empty snapshot is an empty document', () => {
    expect(renderPrometheus({})).toBe('');
    const m = new StageMeters();
    const text = renderPrometheus({ meters: m.snapshot() });
    checkStrict(text);
    expect(text).toContain('pafcast_frames_total 0');
    expect(text).not.toContain('pafcast_fps ');
    expect(text).not.toContain('pafcast_stage_duration_seconds{');
  });

  it('escapes label values as the format requires', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
