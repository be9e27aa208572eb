// The periodic `stats` message: throughput, per-stage medians and p99 from the telemetry meters,
// capture drops and the MQTT queue counters. Other modules add sections (telemetry: sensors and
// scale; preview: viewers) with addSection, so this file does not grow with every measurement.

import type { MqttCounters } from './client.js';
import type { PosePublisher, PipelineEvents } from '../pipeline.js';
import type { StageStat, StatsPayload } from './topics.js';
import type { StageMeters } from '../../telemetry/meters.js';
import type { MetricFamily } from '../../telemetry/prometheus.js';

export interface StatsInputs {
  mqtt(): MqttCounters;
  /** Frames the capture source dropped since start (newest frame wins). */
  captureDropped(): number;
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const r1n = (v: number | null) => (v === null ? null : r1(v));
const r2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

export class StatsPublisher {
  private readonly sections = new Map<string, () => unknown>();
  private readonly metricProviders = new Map<string, () => MetricFamily[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private lastDropped = 0;

  constructor(
    private readonly publisher: PosePublisher,
    private readonly inputs: StatsInputs,
    /** Shared with /metrics and the scale controller, so every consumer sees the same numbers. */
    readonly meters: StageMeters,
  ) {}

  /** Pipeline listener that feeds the meters. */
  readonly events: PipelineEvents = {
    onStage: (stage, ms) => this.meters.record(stage, ms),
    onLatency: (ms) => this.meters.recordLatency(ms),
    onProgress: () => {
      this.meters.frame();
      // Capture counts its drops itself; mirror new ones into the meters' capture stage.
      const dropped = this.inputs.captureDropped();
      for (; this.lastDropped < dropped; this.lastDropped++) this.meters.drop('capture');
    },
  };

  /**
   * Adds `name: provider()` to every stats message (a provider that throws is reported, not fatal).
   * Returns the function that removes it; a name has one owner at a time.
   */
  addSection(name: string, provider: () => unknown): () => void {
    if (this.sections.has(name)) throw new Error(`stats: section "${name}" is already registered`);
    this.sections.set(name, provider);
    return () => {
      if (this.sections.get(name) === provider) this.sections.delete(name);
    };
  }

  /**
   * Adds Prometheus families for /metrics under `owner` (the same numbers a stats section shows);
   * returns the function that removes them.
   */
  addMetrics(owner: string, provider: () => MetricFamily[]): () => void {
    if (this.metricProviders.has(owner)) throw new Error(`stats: metrics of "${owner}" are already registered`);
    this.metricProviders.set(owner, provider);
    return () => {
      if (this.metricProviders.get(owner) === provider) this.metricProviders.delete(owner);
    };
  }

  /** Every registered module's families, for /metrics. */
  metricSamples(): MetricFamily[] {
    const out: MetricFamily[] = [];
    for (const provider of this.metricProviders.values()) {
      try {
        out.push(...provider());
      } catch {
        // A broken provider loses its own families, not the whole page.
      }
    }
    return out;
  }

  /** Publishes every `intervalS` seconds until stop(). */
  start(intervalS: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.publishNow(), intervalS * 1000);
    this.timer.unref();
  }

  /** Builds the message from the meters' current window. */
  collect(): StatsPayload {
    const snap = this.meters.snapshot();
    const stages: Record<string, StageStat> = {};
    for (const [name, st] of Object.entries(snap.stages))
      if (st.count > 0 || st.drops > 0) stages[name] = { median_ms: r2(st.medianMs), p99_ms: r2(st.p99Ms), count: st.count, drops: st.drops };
    const payload: StatsPayload = {
      ts: Date.now(),
      uptime_s: r1((Date.now() - this.startedAt) / 1000),
      frames: snap.frames,
      fps: snap.fps === null ? null : r1(snap.fps),
      capture_dropped: this.inputs.captureDropped(),
      net: snap.net,
      latency_ms: { median: r1n(snap.latency.medianMs), p99: r1n(snap.latency.p99Ms) },
      backend: snap.backend,
      stages,
      mqtt: this.inputs.mqtt(),
    };
    for (const [name, provider] of this.sections) {
      try {
        payload[name] = provider();
      } catch (e) {
        payload[name] = { error: (e as Error).message };
      }
    }
    return payload;
  }

  publishNow(): void {
    this.publisher.publish('stats', this.collect());
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
