// Every MQTT topic pafcast uses, with its payload type, QoS source and retain flag: the one place
// they are declared. The client (client.ts) only accepts names from this map and docs/mqtt.md is
// generated from it (docs.ts), so code, payloads and docs cannot drift apart.
// Topics are relative to `<prefix>/<device_id>/`.

import type { MqttConfig } from './config-schema.js';

export type StatusPayload = 'online' | 'offline' | 'stopped';

export interface PosePerson {
  /** Track id, stable across frames; -1 when tracking is off. */
  id: number;
  score: number;
  /** K × (x, y, confidence) flattened, OpenPose part order, source pixels; a missing part is 0, 0, 0. */
  pose_keypoints_2d: number[];
}

export interface PosesPayload {
  /** Capture sequence number of the frame (gaps = frames dropped because inference was busy). */
  frame: number;
  /** Capture time, ms since the Unix epoch. */
  ts: number;
  source: { width: number; height: number };
  model: string;
  net: { width: number; height: number };
  /** Capture → publish, ms. */
  latency_ms: number;
  people: PosePerson[];
}

export interface PeoplePayload {
  count: number;
  /** Frame and capture time at which the count changed. */
  frame: number;
  ts: number;
}

/** Mean and maximum of one stage over the stats interval, ms. */
export interface StageStat {
  mean_ms: number;
  max_ms: number;
}

export interface StatsPayload {
  ts: number;
  uptime_s: number;
  interval_s: number;
  /** Frames processed and their rate over the interval. */
  frames: number;
  fps: number;
  /** Frames the capture source skipped because the pipeline was busy (newest frame wins), since start. */
  capture_dropped: number;
  net: { width: number; height: number } | null;
  stages: Record<string, StageStat>;
  mqtt: { connected: boolean; queued: number; dropped: number; published: number; reconnects: number };
  /** Sections added by other modules (telemetry, preview...). */
  [extension: string]: unknown;
}

/** The effective config, secrets redacted. */
export type ConfigPayload = Record<string, unknown>;

/** A remote config change request; the remote-config module defines and checks its fields. */
export type ConfigSetPayload = Record<string, unknown>;

/** Exactly one answer per `config/set` request. */
export interface ConfigResultPayload {
  id: string;
  status: 'ok' | 'error';
  data?: unknown;
  error?: string;
}

export interface TopicPayloads {
  status: StatusPayload;
  poses: PosesPayload;
  people: PeoplePayload;
  stats: StatsPayload;
  config: ConfigPayload;
  'config/set': ConfigSetPayload;
  'config/result': ConfigResultPayload;
}

export type TopicName = keyof TopicPayloads;

export interface TopicSpec<T> {
  /** Who publishes: the agent, or others to the agent (the agent subscribes). */
  direction: 'out' | 'in';
  retained: boolean;
  /** Key of `mqtt.qos` that sets this topic's QoS. */
  qos: keyof MqttConfig['qos'];
  description: string;
  example: T;
}

export const TOPICS: { [K in TopicName]: TopicSpec<TopicPayloads[K]> } = {
  status: {
    direction: 'out',
    retained: true,
    qos: 'status',
    description: '`online` while running; `stopped` after a clean shutdown; `offline` (the last will) when the agent died or lost its connection. Plain text, not JSON.',
    example: 'online',
  },
  poses: {
    direction: 'out',
    retained: false,
    qos: 'poses',
    description: 'One message per processed frame (optionally only frames with people: `mqtt.skip_empty_frames`).',
    example: {
      frame: 1042,
      ts: 1764190000123,
      source: { width: 1280, height: 720 },
      model: 'lightweight-openpose-coco18',
      net: { width: 456, height: 256 },
      latency_ms: 84.2,
      people: [{ id: 3, score: 21.7, pose_keypoints_2d: [612.5, 201, 0.912, 610, 240.5, 0.887, 0, 0, 0] }],
    },
  },
  people: {
    direction: 'out',
    retained: true,
    qos: 'people',
    description: 'How many people are in view now; published when the count changes.',
    example: { count: 2, frame: 1042, ts: 1764190000123 },
  },
  stats: {
    direction: 'out',
    retained: false,
    qos: 'stats',
    description: 'Every `mqtt.stats_interval_s`: throughput, per-stage timings, MQTT queue and drops (other modules add sections).',
    example: {
      ts: 1764190010000,
      uptime_s: 3600.2,
      interval_s: 10,
      frames: 118,
      fps: 11.8,
      capture_dropped: 2310,
      net: { width: 456, height: 256 },
      stages: {
        capture: { mean_ms: 0.4, max_ms: 2.1 },
        preprocess: { mean_ms: 3.1, max_ms: 4 },
        inference: { mean_ms: 71.5, max_ms: 90.2 },
        parse: { mean_ms: 1.2, max_ms: 2.5 },
        track: { mean_ms: 0.1, max_ms: 0.3 },
        publish: { mean_ms: 0.2, max_ms: 0.9 },
      },
      mqtt: { connected: true, queued: 0, dropped: 0, published: 1320, reconnects: 0 },
    },
  },
  config: {
    direction: 'out',
    retained: true,
    qos: 'config',
    description: 'The effective config with secrets replaced by `***`; republished after every change.',
    example: { inference: { model: 'lightweight-openpose-coco18', height: 256 }, mqtt: { prefix: 'pafcast', password: '***' } },
  },
  'config/set': {
    direction: 'in',
    retained: false,
    qos: 'config',
    description: 'Reserved for remote configuration: a change request (the remote-config module documents its fields).',
    example: { id: 'req-1', set: { inference: { height: 224 } } },
  },
  'config/result': {
    direction: 'out',
    retained: false,
    qos: 'config',
    description: 'Exactly one answer per `config/set` request, with the request id.',
    example: { id: 'req-1', status: 'ok', data: { restarted: [] } },
  },
};

/** Raw payload bytes: status is plain text, everything else JSON. */
export function encodePayload<K extends TopicName>(topic: K, payload: TopicPayloads[K]): string {
  return topic === 'status' ? String(payload) : JSON.stringify(payload);
}
