import { describe, expect, it } from 'vitest';
import { StatsPublisher } from '../../../src/agent/mqtt/stats-publisher.js';
import { StageMeters } from '../../../src/telemetry/meters.js';
import type { StatsPayload, TopicName, TopicPayloads } from '../../../src/agent/mqtt/topics.js';

describe('StatsPublisher', () => {
  it('reports stage medians and p99 from the meters, frames, drops and extension sections', () => {
    const sent: StatsPayload[] = [];
    const publisher = {
      publish<N extends TopicName>(name: N, payload: TopicPayloads[N]) {
        if (name === 'stats') sent.push(payload as StatsPayload);
      },
    };
    let dropped = 3;
    let captureDropped = 0;
    let t = 0;
    const meters = new StageMeters({ now: () => t, fpsWindowMs: 1000 });
    meters.setNetSize({ width: 456, height: 256 });
    const stats = new StatsPublisher(
      publisher,
      {
        mqtt: () => ({ connected: false, queued: 4, dropped, published: 10, reconnects: 2, auth_failures: 1, protocol: 5, last_error: 'down', reasserted: 0 }),
        captureDropped: () => captureDropped,
      },
      meters,
    );
    stats.addSection('telemetry', () => ({ soc_c: 51.5 }));
    stats.addSection('broken', () => {
      throw new Error('sensor gone');
    });
    for (const ms of [10, 20, 60]) stats.events.onStage!('inference', ms);
    stats.events.onStage!('parse', 2);
    captureDropped = 7;
    stats.events.onProgress!(0);
    t += 100;
    stats.events.onProgress!(1);
    stats.publishNow();
    expect(sent).toHaveLength(1);
    const s = sent[0];
    expect(s.stages).toEqual({
      capture: { median_ms: null, p99_ms: null, count: 0, drops: 7 },
      inference: { median_ms: 20, p99_ms: 60, count: 3, drops: 0 },
      parse: { median_ms: 2, p99_ms: 2, count: 1, drops: 0 },
    });
    expect(s.frames).toBe(2);
    expect(s.fps).toBe(10);
    expect(s.net).toEqual({ width: 456, height: 256 });
    expect(s.capture_dropped).toBe(7);
    expect(s.mqtt).toEqual({ connected: false, queued: 4, dropped: 3, published: 10, reconnects: 2, auth_failures: 1, protocol: 5, last_error: 'down', reasserted: 0 });
    expect(s.telemetry).toEqual({ soc_c: 51.5 });
    expect(s.broken).toEqual({ error: 'sensor gone' });
    dropped = 9;
    const next = stats.collect();
    expect(next.frames).toBe(2); // cumulative since start
    expect(next.mqtt.dropped).toBe(9);
  });

  it('gives each section and metrics provider one owner, and removes exactly what was registered', () => {
    const stats = new StatsPublisher({ publish() {} }, { mqtt: () => ({ connected: true, queued: 0, dropped: 0, published: 0, reconnects: 0, auth_failures: 0, protocol: 5, last_error: null, reasserted: 0 }), captureDropped: () => 0 }, new StageMeters());
    const remove = stats.addSection('preview', () => ({ viewers: 1 }));
    expect(() => stats.addSection('preview', () => ({}))).toThrow(/already registered/);
    expect(stats.collect().preview).toEqual({ viewers: 1 });
    remove();
    expect(stats.collect().preview).toBeUndefined();
    // A stale remover (of a stopped module) must not take away the section of the module that replaced it.
    stats.addSection('preview', () => ({ viewers: 2 }));
    remove();
    expect(stats.collect().preview).toEqual({ viewers: 2 });
    const removeMetrics = stats.addMetrics('mqtt', () => [{ name: 'x_total', type: 'counter', help: 'x', samples: [{ value: 3 }] }]);
    expect(stats.metricSamples().map((f) => f.name)).toEqual(['x_total']);
    removeMetrics();
    expect(stats.metricSamples()).toEqual([]);
  });
});
