// The periodic `stats` message: throughput and per-stage timings over the last interval, the
// capture drop count and the MQTT queue counters. Other modules add sections (telemetry: sensors
// and scale) with addSection, so this file does not grow with every new measurement.

import type { MqttCounters } from './client.js';
import type { PosePublisher, PipelineEvents, PipelineStage } from '../pipeline.js';
import type { StageStat, StatsPayload } from './topics.js';

interface Accumulator {
  sum: number;
  max: number;
  n: number;
}

export interface StatsInputs {
  mqtt(): MqttCounters;
  /** Frames the capture source dropped since start (newest frame wins). */
  captureDropped(): number;
  net(): { width: number; height: number } | null;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export class StatsPublisher {
  private readonly stages = new Map<PipelineStage, Accumulator>();
  private readonly sections = new Map<string, () => unknown>();
  private frames = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private intervalStart = performance.now();

  constructor(
    private readonly publisher: PosePublisher,
    private readonly inputs: StatsInputs,
    private intervalS: number,
  ) {}

  /** Pipeline listener that feeds the interval accumulators. */
  readonly events: PipelineEvents = {
    onStage: (stage, ms) => {
      const acc = this.stages.get(stage) ?? { sum: 0, max: 0, n: 0 };
      acc.sum += ms;
      acc.max = Math.max(acc.max, ms);
      acc.n++;
      this.stages.set(stage, acc);
    },
    onProgress: () => {
      this.frames++;
    },
  };

  /** Adds `name: provider()` to every stats message (a provider that throws is reported, not fatal). */
  addSection(name: string, provider: () => unknown): void {
    this.sections.set(name, provider);
  }

  start(): void {
    this.schedule();
  }

  setInterval(seconds: number): void {
    this.intervalS = seconds;
    if (this.timer) this.schedule();
  }

  private schedule(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.publishNow(), this.intervalS * 1000);
    this.timer.unref();
  }

  /** Builds the message for the interval so far and starts a new interval. */
  collect(): StatsPayload {
    const now = performance.now();
    const interval = Math.max(1e-3, (now - this.intervalStart) / 1000);
    const stages: Record<string, StageStat> = {};
    for (const [stage, acc] of this.stages) stages[stage] = { mean_ms: r1(acc.sum / acc.n), max_ms: r1(acc.max) };
    const payload: StatsPayload = {
      ts: Date.now(),
      uptime_s: r1((Date.now() - this.startedAt) / 1000),
      interval_s: r1(interval),
      frames: this.frames,
      fps: r1(this.frames / interval),
      capture_dropped: this.inputs.captureDropped(),
      net: this.inputs.net(),
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
    this.stages.clear();
    this.frames = 0;
    this.intervalStart = now;
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
