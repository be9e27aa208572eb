// The discovery message builder: valid against the documented option names (abbreviations included),
// stable unique ids, availability that maps stopped/offline to not-available, no controls, and every
// template checked on real payloads (the stats publisher's own messages, the pose events' messages)
// through Home Assistant's entity rules (support/ha-sim.ts). Also the extension point other modules use.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HomeAssistantComponents } from '../../../src/agent/homeassistant/components.js';
import {
  coreComponents,
  discoveryDevice,
  discoveryMessage,
  discoveryObjectId,
  discoveryTopic,
  type DiscoveryInput,
  type HaComponent,
} from '../../../src/agent/homeassistant/discovery.js';
import { personDownComponent, poseEventComponent, zoneComponents } from '../../../src/agent/homeassistant/event-components.js';
import type { MqttCounters } from '../../../src/agent/mqtt/client.js';
import { StatsPublisher } from '../../../src/agent/mqtt/stats-publisher.js';
import { TOPICS, type StatsPayload } from '../../../src/agent/mqtt/topics.js';
import { eventMessage, personDownMessage, zoneMessage } from '../../../src/runtime/events/messages.js';
import type { PoseEvent } from '../../../src/runtime/events/types.js';
import { readDeviceInfo } from '../../../src/telemetry/device-info.js';
import { StageMeters } from '../../../src/telemetry/meters.js';
import { repoRoot } from '../../support/shared.js';
import { HomeAssistantModel, validateDeviceDiscovery } from './support/ha-sim.js';

const BASE = 'pafcast/cam1';
const TOPIC = discoveryTopic('homeassistant', 'cam1');

function input(): DiscoveryInput {
  return {
    base: BASE,
    objectId: 'cam1',
    device: discoveryDevice({ objectId: 'cam1', deviceId: 'cam1', name: '', suggestedArea: 'Hallway', info: null, version: '0.1.0' }),
    origin: { name: 'pafcast', sw_version: '0.1.0' },
  };
}

/** A Home Assistant model that has processed `message` (retained, as the broker replays it). */
function discovered(message: unknown): HomeAssistantModel {
  const ha = new HomeAssistantModel();
  ha.feed(TOPIC, JSON.stringify(message), true);
  return ha;
}

const counters: MqttCounters = { connected: true, queued: 0, dropped: 0, published: 0, reconnects: 0, auth_failures: 0, protocol: 5, last_error: null, reasserted: 0 };

/** A stats message as the publisher builds it before the first frame: most values null. */
function coldStats(): StatsPayload {
  return new StatsPublisher({ publish: () => undefined }, { mqtt: () => counters, captureDropped: () => 0 }, new StageMeters()).collect();
}

function keysDeep(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => keysDeep(x, out));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      keysDeep(x, out);
    }
  return out;
}

describe('discovery ids', () => {
  it('makes the object id from the device id with only [a-zA-Z0-9_-]', () => {
    expect(discoveryObjectId('cam1')).toBe('cam1');
    expect(discoveryObjectId('Hall-Cam_2')).toBe('Hall-Cam_2');
    expect(discoveryObjectId('jetson.local')).toBe('jetson_local');
    expect(discoveryObjectId('caméra 1')).toBe('cam_ra_1');
    expect(discoveryTopic('homeassistant', 'cam1')).toBe('homeassistant/device/cam1/config');
  });
});

describe('discoveryMessage', () => {
  it('is one valid device-based discovery message: documented keys only, unique stable ids, absolute topics', () => {
    const msg = discoveryMessage(input());
    const { discovery, problems } = validateDeviceDiscovery(msg);
    expect(problems).toEqual([]);
    expect(discovery.components.map((c) => c.config.unique_id)).toEqual([
      'pafcast_cam1_people',
      'pafcast_cam1_occupancy',
      'pafcast_cam1_connectivity',
      'pafcast_cam1_fps',
      'pafcast_cam1_inference_ms',
      'pafcast_cam1_latency_ms',
      'pafcast_cam1_net_height',
      'pafcast_cam1_hottest_temperature',
      'pafcast_cam1_backend',
    ]);
    expect(discovery.device).toEqual({
      identifiers: ['pafcast_cam1'],
      name: 'pafcast cam1',
      model: expect.any(String),
      manufacturer: 'pafcast',
      sw_version: '0.1.0',
      suggested_area: 'Hallway',
    });
    // Every state topic is a topic the agent declares and publishes.
    for (const c of coreComponents()) {
      expect(Object.keys(TOPICS)).toContain(c.topic);
      expect(TOPICS[c.topic as keyof typeof TOPICS].direction).toBe('out');
    }
    for (const c of discovery.components) expect(String(c.config.state_topic)).toMatch(/^pafcast\/cam1\/(people|status|stats)$/);
    // The same input gives the same message: nothing random or time-dependent in it.
    expect(JSON.stringify(discoveryMessage(input()))).toBe(JSON.stringify(msg));
  });

  it('gives every entity but the connectivity sensor an availability that only `online` makes available', () => {
    const ha = discovered(discoveryMessage(input()));
    expect(ha.problems).toEqual([]);
    const withAvailability = [...ha.entities.values()].filter((e) => e.availability.length);
    expect(withAvailability.map((e) => e.component)).not.toContain('connectivity');
    expect(withAvailability).toHaveLength(8);
    const status = `${BASE}/status`;
    ha.feed(status, 'online', true);
    expect(withAvailability.every((e) => e.available)).toBe(true);
    expect(ha.entity('connectivity')!.state).toBe('on');
    for (const down of ['stopped', 'offline']) {
      ha.feed(status, 'online', true);
      ha.feed(status, down, true);
      expect(withAvailability.every((e) => !e.available)).toBe(true);
      // Still available, and saying the device is disconnected: this is the one entity that can.
      expect(ha.entity('connectivity')!.available).toBe(true);
      expect(ha.entity('connectivity')!.state).toBe('off');
    }
    expect(ha.problems).toEqual([]);
  });

  it('has no control: read-only platforms only, no command topic anywhere, unknown options dropped', () => {
    expect(keysDeep(discoveryMessage(input())).filter((k) => /command|cmd/.test(k))).toEqual([]);
    const sneaky = { key: 'x', platform: 'sensor', name: 'X', topic: 'stats', value_template: '{{ value }}', command_topic: 'pafcast/cam1/config/set' } as unknown as HaComponent;
    expect(keysDeep(discoveryMessage(input(), [sneaky]))).not.toContain('command_topic');
    const sw = { key: 'sw', platform: 'switch', name: 'S', topic: 'stats', value_template: '{{ value }}' } as unknown as HaComponent;
    expect(() => discoveryMessage(input(), [sw])).toThrow(/platform "switch" is not one of sensor, binary_sensor, event/);
    expect(() => discoveryMessage(input(), [{ ...coreComponents()[0] }])).toThrow(/key "people" is used twice/);
    expect(() => discoveryMessage(input(), [{ ...sneaky, key: 'a/b' }])).toThrow(/letters, digits/);
    expect(() => discoveryMessage(input(), [{ ...sneaky, topic: 'zones/#' }])).toThrow(/bad state topic/);
  });

  it('renders every entity from the documented example messages', () => {
    const ha = discovered(discoveryMessage(input()));
    ha.feed(`${BASE}/status`, 'online', true);
    ha.feed(`${BASE}/people`, JSON.stringify(TOPICS.people.example), true);
    ha.feed(`${BASE}/stats`, JSON.stringify(TOPICS.stats.example));
    const state = (k: string) => ha.entity(k)!.state;
    expect(ha.problems).toEqual([]);
    expect(state('people')).toBe('2');
    expect(state('occupancy')).toBe('on');
    expect(state('fps')).toBe('11.8');
    expect(state('inference_ms')).toBe('71.5');
    expect(state('latency_ms')).toBe('96.3');
    expect(state('net_height')).toBe('256');
    expect(state('hottest_temperature')).toBe('61.3');
    expect(state('backend')).toBe('onnxruntime cpu fp32');
    ha.feed(`${BASE}/people`, JSON.stringify({ count: 0, frame: 9, ts: 1 }), true);
    expect(state('people')).toBe('0');
    expect(state('occupancy')).toBe('off');
  });

  it('renders a stats message from before the first frame as unknown, not as template errors', () => {
    const ha = discovered(discoveryMessage(input()));
    const cold = coldStats();
    expect(cold.fps).toBeNull();
    expect(cold.net).toBeNull();
    expect(cold.stages).toEqual({});
    ha.feed(`${BASE}/stats`, JSON.stringify(cold));
    expect(ha.problems).toEqual([]);
    for (const k of ['fps', 'inference_ms', 'latency_ms', 'net_height', 'hottest_temperature']) {
      expect(ha.entity(k)!.state, k).toBeNull();
      expect(ha.entity(k)!.updates, k).toBe(1);
    }
    expect(ha.entity('backend')!.state).toBe('unknown');
    // Telemetry present but without a thermal zone (a PC without sensors), or a failed telemetry provider.
    ha.feed(`${BASE}/stats`, JSON.stringify({ ...cold, telemetry: { thermal: null } }));
    ha.feed(`${BASE}/stats`, JSON.stringify({ ...cold, telemetry: { error: 'sensor read failed' } }));
    expect(ha.problems).toEqual([]);
    expect(ha.entity('hottest_temperature')!.state).toBeNull();
  });

  it('names the board from the device tree, else the machine', async () => {
    const info = await readDeviceInfo(join(repoRoot, 'test/fixtures/boards/orin-nano-jp6'));
    const jetson = discoveryDevice({ objectId: 'cam1', deviceId: 'cam1', name: 'Hall camera', suggestedArea: '', info, version: '1.2.3' });
    expect(jetson).toEqual({ identifiers: ['pafcast_cam1'], name: 'Hall camera', model: info.model, manufacturer: 'NVIDIA', sw_version: '1.2.3' });
    expect(jetson.model).toMatch(/^NVIDIA Jetson Orin Nano/);
    const pc = discoveryDevice({ objectId: 'cam1', deviceId: 'cam1', name: '', suggestedArea: '', info: { ...info, model: null, arch: 'x64' }, version: '1.2.3' });
    expect(pc.model).toBe('x86-64 computer');
    expect(pc.manufacturer).toBe('pafcast');
  });
});

describe('extension point: the pose events entities', () => {
  const extra = () => [...zoneComponents('door'), ...zoneComponents('bed'), personDownComponent(), poseEventComponent()];
  const kp = new Float32Array([100, 50, 0.9, 0, 0, 0]);
  const event = (e: Partial<PoseEvent> & { type: PoseEvent['type'] }): PoseEvent => ({ id: 7, ts: 5070, frame: 152, keypoints: kp, zone: null, ...e }) as PoseEvent;
  const clock = { mediaMs: 5070, ts: 1764190005070 };

  it('adds zone, person-down and event components that validate like the core ones', () => {
    const msg = discoveryMessage(input(), extra());
    const { discovery, problems } = validateDeviceDiscovery(msg);
    expect(problems).toEqual([]);
    expect(discovery.components.slice(9).map((c) => [c.id, c.config.platform, c.config.state_topic])).toEqual([
      ['zone_door_occupancy', 'binary_sensor', 'pafcast/cam1/zones/door'],
      ['zone_door_people', 'sensor', 'pafcast/cam1/zones/door'],
      ['zone_bed_occupancy', 'binary_sensor', 'pafcast/cam1/zones/bed'],
      ['zone_bed_people', 'sensor', 'pafcast/cam1/zones/bed'],
      ['person_down', 'binary_sensor', 'pafcast/cam1/person_down'],
      ['pose_event', 'event', 'pafcast/cam1/events'],
    ]);
    expect(discovery.components.find((c) => c.id === 'pose_event')!.config.event_types).toEqual(['fall', 'hands_up', 'wave', 'line_cross', 'loitering']);
  });

  it("renders the events engine's own messages: zone state, person down with attributes, events", () => {
    const ha = discovered(discoveryMessage(input(), extra()));
    ha.feed(`${BASE}/status`, 'online', true);
    ha.feed(`${BASE}/zones/door`, JSON.stringify(zoneMessage({ name: 'door', occupied: true, count: 2, people: [{ id: 3, dwell_s: 4.2 }, { id: 7, dwell_s: 0.4 }] }, 150, 1)), true);
    ha.feed(`${BASE}/zones/bed`, JSON.stringify(zoneMessage({ name: 'bed', occupied: false, count: 0, people: [] }, 150, 1)), true);
    ha.feed(`${BASE}/person_down`, JSON.stringify(personDownMessage({ down: true, people: [{ id: 7, since: 3640, frame: 109, zone: 'door' }] } as never, 152, clock)), true);
    expect(ha.entity('zone_door_occupancy')!.state).toBe('on');
    expect(ha.entity('zone_door_people')!.state).toBe('2');
    expect(ha.entity('zone_bed_occupancy')!.state).toBe('off');
    expect(ha.entity('zone_bed_people')!.state).toBe('0');
    expect(ha.entity('person_down')!.state).toBe('on');
    expect(ha.entity('person_down')!.attributes).toEqual({ count: 1, people: [{ id: 7, since: 1764190003640, zone: 'door' }] });

    const events = `${BASE}/events`;
    ha.feed(events, JSON.stringify(eventMessage(event({ type: 'fall', zone: 'door', since: 3640 }), 1, clock)));
    ha.feed(events, JSON.stringify(eventMessage(event({ type: 'line_cross', line: 'hall', direction: 'in' } as Partial<PoseEvent> & { type: 'line_cross' }), 1, clock)));
    ha.feed(events, JSON.stringify(eventMessage(event({ type: 'wave', hand: 'left' } as Partial<PoseEvent> & { type: 'wave' }), 1, clock)));
    // Not an event type of the entity (the zones' sensors show it): rendered empty, ignored without a warning.
    ha.feed(events, JSON.stringify(eventMessage(event({ type: 'zone_enter', zone: 'door' }), 1, clock)));
    // Home Assistant discards replayed retained events.
    ha.feed(events, JSON.stringify(eventMessage(event({ type: 'hands_up' }), 1, clock)), true);
    expect(ha.problems).toEqual([]);
    expect(ha.entity('pose_event')!.events).toEqual([
      { event_type: 'fall', attributes: { person_id: 7, zone: 'door', line: null, direction: null, hand: null, dwell_s: null } },
      { event_type: 'line_cross', attributes: { person_id: 7, zone: null, line: 'hall', direction: 'in', hand: null, dwell_s: null } },
      { event_type: 'wave', attributes: { person_id: 7, zone: null, line: null, direction: null, hand: 'left', dwell_s: null } },
    ]);
  });
});

describe('HomeAssistantComponents', () => {
  it('keeps each owner’s components until its remover runs, and tells listeners', () => {
    const reg = new HomeAssistantComponents();
    let changes = 0;
    reg.onChange(() => changes++);
    const removeEvents = reg.add('events', zoneComponents('door'));
    expect(reg.list().map((c) => c.key)).toEqual(['zone_door_occupancy', 'zone_door_people']);
    expect(() => reg.add('events', [])).toThrow(/already registered/);
    expect(() => reg.add('other', zoneComponents('door'))).toThrow(/"zone_door_occupancy" of "other" is already taken/);
    expect(() => reg.add('other', [{ ...personDownComponent(), key: 'people' }])).toThrow(/"people" of "other" is already taken/);
    expect(() => reg.add('other', [{ ...personDownComponent(), platform: 'light' as never }])).toThrow(/not one of/);
    expect(changes).toBe(1);
    removeEvents();
    removeEvents();
    expect(reg.list()).toEqual([]);
    expect(changes).toBe(2);
    // A restarted owner registers again; the old remover does not remove the new entry.
    const again = reg.add('events', [personDownComponent()]);
    removeEvents();
    expect(reg.list().map((c) => c.key)).toEqual(['person_down']);
    again();
  });
});
