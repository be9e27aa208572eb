// Every MQTT topic pafcast uses, with its payload type, QoS source and retain flag: the one place
// they are declared. The client (client.ts) only accepts names from this map and docs/mqtt.md is
// generated from it (docs.ts), so code, payloads and docs cannot drift apart.
// Topics are relative to `<prefix>/<device_id>/`.

import type { UpdateResult } from '../remote/config-updates.js';
import type { EventMessage, PersonDownMessage, ZoneMessage } from '../../runtime/events/messages.js';
import type { MqttConfig } from './config-schema.js';
import type { MqttCounters } from './client.js';

export type StatusPayload = 'online' | 'offline' | 'stopped';

export interface PosePerson {
  /**
   * Track id: stays with a person across frames, increases from 1 in order of confirmation and is never reused;
   * -1 for a person whose track is not confirmed yet (seen too briefly, or only as a fragment) or with tracking off.
   */
  id: number;
  score: number;
  /** K × (x, y, confidence) flattened, OpenPose part order, source pixels; a missing part is 0, 0, 0. */
  pose_keypoints_2d: number[];
}

export interface PosesPayload {
  /**
   * Source frame index. Video files: the frame's number in the file, 0-based, so poses line up with the video
   * (under `source.fps_cap` too); it starts again at 0 on each pass of a looping file. Cameras and streams: the
   * capture sequence number. Gaps are frames skipped because inference was busy (realtime mode) or by fps_cap.
   */
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
  /**
   * Confirmed people present. A person counts from confirmation until `tracking.count_hold_ms` after they were last
   * seen, so the count does not flap with a missed frame.
   */
  count: number;
  /** Source frame index (as in `poses`) and capture time at which the count changed. */
  frame: number;
  ts: number;
}

/** One pipeline stage over the meters' recent window (last 512 frames), ms. */
export interface StageStat {
  median_ms: number | null;
  p99_ms: number | null;
  /** Frames measured since start, and frames dropped at this stage. */
  count: number;
  drops: number;
}

export interface StatsPayload {
  ts: number;
  uptime_s: number;
  /** Frames processed since start, and the rate over the last few seconds (null before two frames). */
  frames: number;
  fps: number | null;
  /** Frames the capture source skipped because the pipeline was busy (newest frame wins), since start. */
  capture_dropped: number;
  net: { width: number; height: number } | null;
  /** Capture → publish over the meters' recent window, ms. */
  latency_ms: { median: number | null; p99: number | null };
  /** Inference backend actually running (from a real run). */
  backend: { backend: string; provider: string; precision?: string } | null;
  stages: Record<string, StageStat>;
  mqtt: MqttCounters;
  /** Sections added by other modules (telemetry, preview...). */
  [extension: string]: unknown;
}

/** The effective config, secrets redacted. */
export type ConfigPayload = Record<string, unknown>;

/**
 * A remote config change (docs/remote-config.md): signed, `payload` is the exact JSON text that was
 * signed; unsigned (only without a configured public key), the request itself.
 */
export type ConfigSetPayload =
  | { payload: string; signature: string }
  | { request_id: string; patch: Record<string, unknown> };

/** Exactly one answer per `config/set` request. */
export type ConfigResultPayload = UpdateResult;

export interface TopicPayloads {
  status: StatusPayload;
  poses: PosesPayload;
  people: PeoplePayload;
  events: EventMessage;
  'zones/{zone}': ZoneMessage;
  person_down: PersonDownMessage;
  stats: StatsPayload;
  config: ConfigPayload;
  'config/set': ConfigSetPayload;
  'config/result': ConfigResultPayload;
}

export type TopicName = keyof TopicPayloads;

export interface TopicSpec<T> {
  /** Who publishes: the agent, or others to the agent (the agent subscribes). */
  direction: 'out' | 'in';
  /** One topic per value of this placeholder (`zones/{zone}`): publish() takes the value. */
  param?: string;
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
    description:
      'One message per processed frame (optionally only frames with people: `mqtt.skip_empty_frames`). `frame` is the source frame index ' +
      '(video files: the frame number in the file, 0-based, again from 0 on each loop pass; live sources: the capture sequence number); ' +
      '`id` is the person\'s track id, -1 while their track is not confirmed.',
    example: {
      frame: 1042,
      ts: 1764190000123,
      source: { width: 1280, height: 720 },
      model: 'lightweight-openpose-coco18',
      net: { width: 456, height: 256 },
      latency_ms: 84.2,
      people: [{ id: 3, score: 0.72, pose_keypoints_2d: [612.5, 201, 0.912, 610, 240.5, 0.887, 0, 0, 0] }],
    },
  },
  people: {
    direction: 'out',
    retained: true,
    qos: 'people',
    description:
      'How many confirmed people are in view now, held for `tracking.count_hold_ms` after someone was last seen; published when it changes.',
    example: { count: 2, frame: 1042, ts: 1764190000123 },
  },
  events: {
    direction: 'out',
    retained: false,
    qos: 'events',
    description:
      'One message per pose event of a confirmed person (docs/events.md): `zone_enter`, `zone_leave`, `loitering` (with `zone`, `dwell_s`), ' +
      '`line_cross` (`line`, `direction` in/out), `fall` (`zone`, `since`), `hands_up`, `wave` (`hand`), with the person\'s keypoints at that moment. ' +
      '`ts` is on the clock of `poses`, `frame` the source frame index. Not retained: an event happened once.',
    example: {
      type: 'fall',
      id: 3,
      ts: 1764190003567,
      frame: 152,
      zone: 'hall',
      since: 1764190002033,
      keypoints: [612.5, 201, 0.912, 610, 240.5, 0.887, 0, 0, 0],
    },
  },
  'zones/{zone}': {
    direction: 'out',
    retained: true,
    qos: 'events',
    param: 'zone',
    description:
      'Occupancy of one configured zone (`events.zones[].name`): who is in it and for how long, with time hysteresis like `people`. ' +
      'Published for every zone at start and on change; removed when the zone is removed from the config.',
    example: { occupied: true, count: 1, ids: [3], people: [{ id: 3, dwell_s: 12.4 }], ts: 1764190003567, frame: 152 },
  },
  person_down: {
    direction: 'out',
    retained: true,
    qos: 'events',
    description:
      'Who is down now: set when a `fall` is confirmed, cleared when the person is upright again (or gone). `since` is when they first ' +
      'looked down (clock of `ts`). Published at start and on change.',
    example: { down: true, count: 1, people: [{ id: 3, since: 1764190002033, zone: 'hall' }], ts: 1764190003567, frame: 152 },
  },
  stats: {
    direction: 'out',
    retained: false,
    qos: 'stats',
    description:
      'Every `mqtt.stats_interval_s`: throughput, per-stage median/p99 ms, drops, the running backend and net size, MQTT queue counters; ' +
      '`telemetry` adds temperatures, loads, memory, power mode and the last scale decision, `preview` the viewer count.',
    example: {
      ts: 1764190010000,
      uptime_s: 3600.2,
      frames: 42118,
      fps: 11.8,
      capture_dropped: 2310,
      net: { width: 456, height: 256 },
      latency_ms: { median: 96.3, p99: 131.8 },
      backend: { backend: 'onnxruntime', provider: 'cpu', precision: 'fp32' },
      stages: {
        capture: { median_ms: 0.4, p99_ms: 2.1, count: 42118, drops: 2310 },
        preprocess: { median_ms: 3.1, p99_ms: 4, count: 42118, drops: 0 },
        inference: { median_ms: 71.5, p99_ms: 90.2, count: 42118, drops: 0 },
        parse: { median_ms: 0.21, p99_ms: 0.5, count: 42118, drops: 0 },
        track: { median_ms: 0.1, p99_ms: 0.3, count: 42118, drops: 0 },
        publish: { median_ms: 0.2, p99_ms: 0.9, count: 42118, drops: 0 },
      },
      mqtt: { connected: true, queued: 0, dropped: 0, published: 84236, reconnects: 0, auth_failures: 0, protocol: 5, last_error: null, reasserted: 0 },
      telemetry: {
        scale: { height: 256, reason: 'fps-shortfall', changes: { 'fps-shortfall': 1 } },
        thermal: { zones: [{ type: 'tj-thermal', temp_c: 61.3 }, { type: 'gpu-thermal', temp_c: 58.9 }], hottest: { type: 'tj-thermal', temp_c: 61.3 } },
        gpu_load_pct: 87.5,
        cpu_load_pct: 41.2,
        memory: { total_bytes: 7999999999, available_bytes: 5100000000, used_bytes: 2899999999 },
        power_mode: 'MAXN',
        power_mw: { VDD_IN: 9120 },
        device: { model: 'NVIDIA Jetson Orin Nano Developer Kit', l4t: '36.4.0', os: 'Ubuntu 22.04.4 LTS' },
      },
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
    description:
      'A JSON merge patch (RFC 7396) of the config with a `request_id`; signed with Ed25519 when `remote.public_key` is set (docs/remote-config.md).',
    example: {
      payload: '{"request_id":"3f0c9a","version":1764190000123,"device":"cam1","patch":{"telemetry":{"scale":{"target_fps":12}}}}',
      signature: 'base64 of the 64-byte Ed25519 signature',
    },
  },
  'config/result': {
    direction: 'out',
    retained: false,
    qos: 'config',
    description: 'Exactly one answer per `config/set` request: what was applied live and what needs a restart, or why it was rejected.',
    example: { request_id: '3f0c9a', ok: true, errors: [], applied: ['telemetry.scale.target_fps'], restarted: ['telemetry'], restart_required: [] },
  },
};

/** Raw payload bytes: status is plain text, everything else JSON. */
export function encodePayload<K extends TopicName>(topic: K, payload: TopicPayloads[K]): string {
  return topic === 'status' ? String(payload) : JSON.stringify(payload);
}
