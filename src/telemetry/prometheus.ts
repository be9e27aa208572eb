// Prometheus text exposition format 0.0.4 for /metrics. Every family gets # HELP and # TYPE; label
// values escape \\, " and newline, HELP text escapes \\ and newline (per the format's spec).
// Stage timings are summaries in seconds with quantile labels, as Prometheus naming prefers base units.

import type { DeviceInfo } from './device-info.js';
import type { MetersSnapshot } from './meters.js';
import type { SensorSample } from './sampler.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;
export interface Sample {
  suffix?: string;
  labels?: Labels;
  value: number;
}

/** A metric family contributed by a module (MQTT connection, broker, live view). */
export interface MetricFamily {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: Sample[];
}

export interface TelemetrySnapshot {
  meters?: MetersSnapshot | null;
  sensors?: SensorSample | null;
  device?: DeviceInfo | null;
  extra?: readonly MetricFamily[];
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter' | 'summary', help: string, samples: Sample[]): void {
    if (!samples.length) return;
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const s of samples) this.lines.push(`${name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }

  text(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }
}

function renderMeters(out: Exposition, m: MetersSnapshot): void {
  const timings: Sample[] = [];
  const drops: Sample[] = [];
  for (const [stage, s] of Object.entries(m.stages)) {
    if (s.count > 0) {
      if (s.medianMs !== null) timings.push({ labels: { stage, quantile: '0.5' }, value: s.medianMs / 1000 });
      if (s.p99Ms !== null) timings.push({ labels: { stage, quantile: '0.99' }, value: s.p99Ms / 1000 });
      timings.push({ suffix: '_sum', labels: { stage }, value: s.sumMs / 1000 }, { suffix: '_count', labels: { stage }, value: s.count });
    }
    drops.push({ labels: { stage }, value: s.drops });
  }
  out.family('pafcast_stage_duration_seconds', 'summary', 'Time per frame spent in each pipeline stage (quantiles over the recent window).', timings);
  out.family('pafcast_frames_total', 'counter', 'Frames fully processed since start.', [{ value: m.frames }]);
  const lat = m.latency;
  if (lat && lat.count > 0)
    out.family('pafcast_latency_seconds', 'summary', 'Capture to publish latency per frame (quantiles over the recent window).', [
      ...(lat.medianMs !== null ? [{ labels: { quantile: '0.5' }, value: lat.medianMs / 1000 }] : []),
      ...(lat.p99Ms !== null ? [{ labels: { quantile: '0.99' }, value: lat.p99Ms / 1000 }] : []),
      { suffix: '_sum', value: lat.sumMs / 1000 },
      { suffix: '_count', value: lat.count },
    ]);
  if (m.fps !== null) out.family('pafcast_fps', 'gauge', 'Frames processed per second at the current net size.', [{ value: m.fps }]);
  out.family('pafcast_frames_dropped_total', 'counter', 'Frames dropped, by the stage that dropped them.', drops);
  if (m.net) {
    out.family('pafcast_net_input_height_pixels', 'gauge', 'Current network input height.', [{ value: m.net.height }]);
    out.family('pafcast_net_input_width_pixels', 'gauge', 'Current network input width.', [{ value: m.net.width }]);
  }
  out.family(
    'pafcast_scale_changes_total',
    'counter',
    'Network input size changes, by reason.',
    Object.entries(m.scaleChanges).map(([reason, n]) => ({ labels: { reason }, value: n })),
  );
  if (m.backend) {
    const labels: Labels = { backend: m.backend.backend, provider: m.backend.provider };
    if (m.backend.precision) labels.precision = m.backend.precision;
    out.family('pafcast_backend_info', 'gauge', 'Inference backend and execution provider in use (value is always 1).', [{ labels, value: 1 }]);
  }
}

function renderSensors(out: Exposition, s: SensorSample): void {
  out.family(
    'pafcast_thermal_zone_celsius',
    'gauge',
    'Temperature of each online thermal zone.',
    s.thermal.filter((z) => z.tempC !== null).map((z) => ({ labels: { zone: String(z.index), type: z.type }, value: z.tempC! })),
  );
  if (s.hottest)
    out.family('pafcast_thermal_hottest_celsius', 'gauge', 'Hottest relevant thermal zone, the one the scale controller watches.', [
      { labels: { type: s.hottest.type }, value: s.hottest.tempC! },
    ]);
  if (s.gpu) out.family('pafcast_gpu_load_ratio', 'gauge', 'Integrated GPU load, 0..1.', [{ labels: { source: s.gpu.source }, value: s.gpu.loadPct / 100 }]);
  if (s.cpu) {
    const cores = Object.entries(s.cpu.perCorePct).map(([cpu, p]) => ({ labels: { cpu }, value: p / 100 }));
    out.family('pafcast_cpu_load_ratio', 'gauge', 'CPU load since the previous sample, 0..1; cpu="all" over every online core.', [
      { labels: { cpu: 'all' }, value: s.cpu.totalPct / 100 },
      ...cores,
    ]);
  }
  if (s.memory) {
    const m = s.memory;
    out.family('pafcast_memory_bytes', 'gauge', 'System memory (shared by CPU and iGPU on Jetson).', [
      { labels: { kind: 'total' }, value: m.totalBytes },
      { labels: { kind: 'available' }, value: m.availableBytes },
      { labels: { kind: 'used' }, value: m.usedBytes },
    ]);
    out.family('pafcast_swap_bytes', 'gauge', 'Swap space.', [
      { labels: { kind: 'total' }, value: m.swapTotalBytes },
      { labels: { kind: 'used' }, value: m.swapTotalBytes - m.swapFreeBytes },
    ]);
  }
  if (s.powerMode) {
    const labels: Labels = { mode: s.powerMode.name };
    if (s.powerMode.id !== null) labels.id = String(s.powerMode.id);
    out.family('pafcast_power_mode_info', 'gauge', 'nvpmodel power mode (value is always 1).', [{ labels, value: 1 }]);
  }
  if (s.rails)
    out.family(
      'pafcast_power_rail_watts',
      'gauge',
      'Instantaneous power per rail as tegrastats reports it.',
      Object.entries(s.rails).map(([rail, r]) => ({ labels: { rail }, value: r.currentMw / 1000 })),
    );
  const net = s.network.flatMap((n) => [
    ...(n.rxPerSec === null ? [] : [{ labels: { iface: n.iface, direction: 'rx' }, value: n.rxPerSec }]),
    ...(n.txPerSec === null ? [] : [{ labels: { iface: n.iface, direction: 'tx' }, value: n.txPerSec }]),
  ]);
  out.family('pafcast_network_bytes_per_second', 'gauge', 'Network throughput per interface.', net);
  out.family('pafcast_telemetry_sample_timestamp_seconds', 'gauge', 'When the sensors were last read.', [{ value: s.atMs / 1000 }]);
}

function renderDevice(out: Exposition, d: DeviceInfo): void {
  const labels: Labels = { model: d.model ?? 'unknown', l4t: d.l4t ?? 'none', os: d.os ?? 'unknown', kernel: d.kernel, arch: d.arch };
  out.family('pafcast_device_info', 'gauge', 'Board and OS identity (value is always 1).', [{ labels, value: 1 }]);
}

/** Renders whatever parts of the snapshot are present as one exposition document. */
export function renderPrometheus(snapshot: TelemetrySnapshot): string {
  const out = new Exposition();
  if (snapshot.meters) renderMeters(out, snapshot.meters);
  if (snapshot.sensors) renderSensors(out, snapshot.sensors);
  if (snapshot.device) renderDevice(out, snapshot.device);
  for (const f of snapshot.extra ?? []) out.family(f.name, f.type, f.help, f.samples);
  return out.text();
}
