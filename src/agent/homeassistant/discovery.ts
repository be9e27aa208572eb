// Home Assistant MQTT discovery: the one device-based discovery message of an agent
// (`<prefix>/device/<object id>/config`, retained), built from a list of read-only components.
// The core components (people, occupancy, connectivity, diagnostics) are defined here; other modules
// (the pose events' zones, person down and events) add theirs through HomeAssistantComponents.
//
// Conventions, from Home Assistant's MQTT discovery documentation (docs/homeassistant.md has the list
// of entities and why each option is what it is):
// - the payload uses the full option names (abbreviations are optional, and the message is a few KiB);
// - every component has its platform, a unique_id stable per device (`pafcast_<object id>_<key>`) and
//   its own availability entry: the device's `status` is online / stopped / offline, and Home Assistant
//   ignores availability payloads other than its two values, so a template maps everything that is not
//   `online` to `offline` (a clean stop makes the entities unavailable, not stale);
// - the connectivity sensor has no availability: it must read Disconnected when the agent is stopped or
//   dead, not Unavailable;
// - only read-only platforms (sensor, binary_sensor, event): Home Assistant cannot sign requests, so
//   nothing in it may change the device. The builder copies known read-only options only.

import os from 'node:os';
import type { DeviceInfo } from '../../telemetry/device-info.js';

/** Platforms a component may have: all read-only. */
export const READ_ONLY_PLATFORMS = ['sensor', 'binary_sensor', 'event'] as const;
export type HaPlatform = (typeof READ_ONLY_PLATFORMS)[number];

/** One entity of the device, in terms of the device's own topics. */
export interface HaComponent {
  /** Key under `components` and suffix of the unique_id: letters, digits, `_`, `-`; unique within the device. */
  key: string;
  platform: HaPlatform;
  /** Entity name; Home Assistant shows it after the device name. */
  name: string;
  /** State topic relative to `<mqtt.prefix>/<device_id>/` (`people`, `stats`, `zones/door`, `events`). */
  topic: string;
  /** Jinja template over the message (`value`, `value_json`), in the forms docs/homeassistant.md lists. */
  value_template: string;
  device_class?: string;
  unit_of_measurement?: string;
  state_class?: 'measurement' | 'total' | 'total_increasing';
  entity_category?: 'diagnostic';
  icon?: string;
  suggested_display_precision?: number;
  /** binary_sensor: what the template renders for on / off (Home Assistant's defaults: ON / OFF). */
  payload_on?: string;
  payload_off?: string;
  /** event: the event types the template may render. */
  event_types?: string[];
  /** Attributes: a template rendering a JSON object, over `attributes_topic` (default: the state topic). */
  json_attributes_template?: string;
  attributes_topic?: string;
  /** QoS Home Assistant subscribes with: 1 for topics sent only on change, where a lost message would leave a stale state. */
  qos?: 0 | 1;
  /** false: no availability (the connectivity sensor); default true. */
  availability?: boolean;
}

/** What the `device` block says about this agent. */
export interface DiscoveryDevice {
  identifiers: string[];
  name: string;
  model: string;
  manufacturer: string;
  sw_version: string;
  suggested_area?: string;
}

export interface DiscoveryOrigin {
  name: string;
  sw_version: string;
  support_url?: string;
}

export interface DiscoveryInput {
  /** `<mqtt.prefix>/<device_id>`: every state topic is under it. */
  base: string;
  objectId: string;
  device: DiscoveryDevice;
  origin: DiscoveryOrigin;
}

const KEY = /^[A-Za-z0-9_-]+$/;

/** Home Assistant's node and object ids allow only [a-zA-Z0-9_-]; anything else in the device id becomes `_`. */
export function discoveryObjectId(deviceId: string): string {
  return deviceId.replace(/[^A-Za-z0-9_-]/g, '_') || 'pafcast';
}

export function discoveryTopic(prefix: string, objectId: string): string {
  return `${prefix}/device/${objectId}/config`;
}

/** Anything but `online` (stopped after a clean exit, offline as the last will) is offline to Home Assistant. */
export const AVAILABILITY_TEMPLATE = "{{ 'online' if value == 'online' else 'offline' }}";

/** The entities every agent has. Templates render `None` (Home Assistant: unknown) where stats has no value yet. */
export function coreComponents(): HaComponent[] {
  return [
    {
      key: 'people',
      platform: 'sensor',
      name: 'People',
      topic: 'people',
      value_template: '{{ value_json.count }}',
      state_class: 'measurement',
      suggested_display_precision: 0,
      icon: 'mdi:account-group',
      qos: 1,
    },
    {
      key: 'occupancy',
      platform: 'binary_sensor',
      name: 'Occupancy',
      topic: 'people',
      value_template: "{{ 'ON' if value_json.count > 0 else 'OFF' }}",
      device_class: 'occupancy',
      qos: 1,
    },
    {
      key: 'connectivity',
      platform: 'binary_sensor',
      name: 'Connection',
      topic: 'status',
      value_template: "{{ 'ON' if value == 'online' else 'OFF' }}",
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      qos: 1,
      availability: false,
    },
    {
      key: 'fps',
      platform: 'sensor',
      name: 'Frame rate',
      topic: 'stats',
      value_template: '{{ value_json.fps }}',
      unit_of_measurement: 'fps',
      state_class: 'measurement',
      suggested_display_precision: 1,
      entity_category: 'diagnostic',
      icon: 'mdi:speedometer',
    },
    {
      key: 'inference_ms',
      platform: 'sensor',
      name: 'Inference time',
      topic: 'stats',
      value_template: '{{ value_json.stages.inference.median_ms if value_json.stages.inference is defined else None }}',
      device_class: 'duration',
      unit_of_measurement: 'ms',
      state_class: 'measurement',
      suggested_display_precision: 1,
      entity_category: 'diagnostic',
    },
    {
      key: 'latency_ms',
      platform: 'sensor',
      name: 'Latency',
      topic: 'stats',
      value_template: '{{ value_json.latency_ms.median }}',
      device_class: 'duration',
      unit_of_measurement: 'ms',
      state_class: 'measurement',
      suggested_display_precision: 0,
      entity_category: 'diagnostic',
    },
    {
      key: 'net_height',
      platform: 'sensor',
      name: 'Net height',
      topic: 'stats',
      value_template: '{{ value_json.net.height if value_json.net else None }}',
      unit_of_measurement: 'px',
      state_class: 'measurement',
      suggested_display_precision: 0,
      entity_category: 'diagnostic',
      icon: 'mdi:image-size-select-large',
    },
    {
      key: 'hottest_temperature',
      platform: 'sensor',
      name: 'Hottest temperature',
      topic: 'stats',
      value_template:
        '{{ value_json.telemetry.thermal.hottest.temp_c if value_json.telemetry is defined and value_json.telemetry.thermal and value_json.telemetry.thermal.hottest else None }}',
      device_class: 'temperature',
      unit_of_measurement: '°C',
      state_class: 'measurement',
      suggested_display_precision: 1,
      entity_category: 'diagnostic',
    },
    {
      key: 'backend',
      platform: 'sensor',
      name: 'Inference backend',
      topic: 'stats',
      // A text sensor takes the rendered text as it is: `unknown` is Home Assistant's own word for "no value yet".
      value_template:
        "{{ value_json.backend.backend ~ ' ' ~ value_json.backend.provider ~ (' ' ~ value_json.backend.precision if value_json.backend.precision else '') if value_json.backend else 'unknown' }}",
      entity_category: 'diagnostic',
      icon: 'mdi:chip',
    },
  ];
}

/** The options of a component, in Home Assistant's names, with topics made absolute. */
function componentConfig(c: HaComponent, input: DiscoveryInput): Record<string, unknown> {
  const topic = (t: string) => `${input.base}/${t}`;
  const out: Record<string, unknown> = {
    platform: c.platform,
    unique_id: `pafcast_${input.objectId}_${c.key}`,
    name: c.name,
    state_topic: topic(c.topic),
    value_template: c.value_template,
  };
  const copy = ['device_class', 'unit_of_measurement', 'state_class', 'entity_category', 'icon', 'suggested_display_precision', 'payload_on', 'payload_off', 'qos'] as const;
  for (const k of copy) if (c[k] !== undefined) out[k] = c[k];
  if (c.platform === 'event') {
    if (!c.event_types?.length) throw new Error(`Home Assistant component "${c.key}": an event needs event_types`);
    out.event_types = [...c.event_types];
  }
  if (c.json_attributes_template) {
    out.json_attributes_topic = topic(c.attributes_topic ?? c.topic);
    out.json_attributes_template = c.json_attributes_template;
  }
  if (c.availability !== false)
    out.availability = [{ topic: topic('status'), value_template: AVAILABILITY_TEMPLATE, payload_available: 'online', payload_not_available: 'offline' }];
  return out;
}

/** Checks one component; throws with the reason. */
export function checkComponent(c: HaComponent): void {
  if (!KEY.test(c.key)) throw new Error(`Home Assistant component key "${c.key}" must be letters, digits, _ or -`);
  if (!(READ_ONLY_PLATFORMS as readonly string[]).includes(c.platform))
    throw new Error(`Home Assistant component "${c.key}": platform "${c.platform}" is not one of ${READ_ONLY_PLATFORMS.join(', ')} (nothing in Home Assistant may control the device)`);
  if (!c.topic || /[#+]/.test(c.topic) || c.topic.split('/').some((l) => l === '')) throw new Error(`Home Assistant component "${c.key}": bad state topic "${c.topic}"`);
  if (c.attributes_topic !== undefined && (/[#+]/.test(c.attributes_topic) || c.attributes_topic.split('/').some((l) => l === '')))
    throw new Error(`Home Assistant component "${c.key}": bad attributes topic "${c.attributes_topic}"`);
}

/** The discovery message: device, origin and one component per entity (core first, then `extra`). */
export function discoveryMessage(input: DiscoveryInput, extra: readonly HaComponent[] = []): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  for (const c of [...coreComponents(), ...extra]) {
    checkComponent(c);
    if (c.key in components) throw new Error(`Home Assistant component key "${c.key}" is used twice`);
    components[c.key] = componentConfig(c, input);
  }
  const device: Record<string, unknown> = { ...input.device, identifiers: [...input.device.identifiers] };
  if (!device.suggested_area) delete device.suggested_area;
  const origin: Record<string, unknown> = { ...input.origin };
  if (!origin.support_url) delete origin.support_url;
  return { device, origin, components };
}

const ARCH_NAMES: Record<string, string> = { x64: 'x86-64', arm64: 'arm64 (aarch64)', arm: 'arm (32-bit)' };

/** The device block: the board's model where the device tree names it (Jetson), else the machine's architecture. */
export function discoveryDevice(opts: {
  objectId: string;
  deviceId: string;
  name: string;
  suggestedArea: string;
  info: DeviceInfo | null;
  version: string;
}): DiscoveryDevice {
  const arch = opts.info?.arch ?? os.arch();
  const model = opts.info?.model ?? `${ARCH_NAMES[arch] ?? arch} computer`;
  return {
    identifiers: [`pafcast_${opts.objectId}`],
    name: opts.name || `pafcast ${opts.deviceId}`,
    model,
    manufacturer: /^NVIDIA\b/.test(model) ? 'NVIDIA' : 'pafcast',
    sw_version: opts.version,
    ...(opts.suggestedArea ? { suggested_area: opts.suggestedArea } : {}),
  };
}
