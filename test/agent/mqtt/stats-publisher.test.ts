import { describe, expect, it } from 'vitest';
import { StatsPublisher } from '../../../src/agent/mqtt/stats-publisher.js';
import type { StatsPayload, TopicName, TopicPayloads } from '../../../src/agent/mqtt/topics.js';

describe('StatsPublisher', () => {
  it('reports per-interval stage means and maxima, frames, drops and extension sections, then starts a new interval', () => {
    const sent: StatsPayload[] = [];
    const publisher = {
      publish<N extends TopicName>(name: N, payload: TopicPayloads[N]) {
        if (name === 'stats') sent.push(payload as StatsPayload);
      },
    };
    let dropped = 3;
    const stats = new StatsPublisher(
      publisher,
      {
        mqtt: () => ({ connected: false, queued: 4, dropped, published: 10, reconnects: 2 }),
        captureDropped: () => 7,
        net: () => ({ width: 456, height: 256 }),
      },
      10,
    );
    stats.addSection('telemetry', () => ({ soc_c: 51.5 }));
    stats.addSection('broken', () => {
      throw new Error('sensor gone');
    });
    for (const ms of [10, 20, 60]) stats.events.onStage!('inference', ms);
    stats.events.onStage!('parse', 2);
    stats.events.onProgress!(0);
    stats.events.onProgress!(1);
    stats.publishNow();
    expect(sent).toHaveLength(1);
    const s = sent[0];
    expect(s.stages).toEqual({ inference: { mean_ms: 30, max_ms: 60 }, parse: { mean_ms: 2, max_ms: 2 } });
    expect(s.frames).toBe(2);
    expect(s.capture_dropped).toBe(7);
    expect(s.mqtt).toEqual({ connected: false, queued: 4, dropped: 3, published: 10, reconnects: 2 });
    expect(s.telemetry).toEqual({ soc_c: 51.5 });
    expect(s.broken).toEqual({ error: 'sensor gone' });
    dropped = 9;
    const next = stats.collect();
    expect(next.stages).toEqual({});
    expect(next.frames).toBe(0);
    expect(next.mqtt.dropped).toBe(9);
  });
});
