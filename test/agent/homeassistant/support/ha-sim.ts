// A client that behaves like Home Assistant's MQTT integration, for tests: MQTT 5, subscribes to
// `<prefix>/#`, validates every discovery message against the documented option names
// (test/fixtures/homeassistant/discovery-schema.json, abbreviations expanded), subscribes to the state,
// availability and attribute topics each entity names, as Home Assistant does, and keeps every
// entity's state and availability by Home Assistant's rules:
// - availability: unavailable until a `payload_available` arrives; the rendered availability template
//   is compared with payload_available / payload_not_available and anything else is ignored;
// - sensor: a numeric sensor (device class, unit, state class or display precision) ignores '', takes
//   'None' as unknown and logs anything that is not a number; a text sensor takes the text;
// - binary_sensor: payload_on / payload_off (default ON / OFF), 'None' = unknown, '' ignored, anything
//   else logged as "no matching payload";
// - event: retained messages are discarded; '' / None / {} ignored; else a JSON object whose
//   event_type must be one of event_types.
// Everything Home Assistant would log as a warning or error lands in `problems`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { repoRoot } from '../../../support/shared.js';
import { renderTemplate, TemplateError } from './template.js';

interface KeyList {
  required?: string[];
  keys: string[];
}

export interface DiscoverySchema {
  device_discovery_root: KeyList;
  device: KeyList;
  origin: KeyList;
  availability_entry: KeyList;
  platforms: Record<string, KeyList>;
  abbreviations: Record<string, string>;
  device_abbreviations: Record<string, string>;
  origin_abbreviations: Record<string, string>;
  values: {
    entity_category: string[];
    sensor_entity_category: string[];
    state_class: string[];
    sensor_device_class: string[];
    sensor_units_by_device_class: Record<string, string[]>;
    binary_sensor_device_class: string[];
    event_device_class: string[];
  };
}

export const discoverySchema = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/homeassistant/discovery-schema.json'), 'utf8')) as DiscoverySchema;

type Json = Record<string, unknown>;

export interface AvailabilityEntry {
  topic: string;
  value_template?: string;
  payload_available: string;
  payload_not_available: string;
}

export interface ExpandedComponent {
  id: string;
  config: Json;
  availability: AvailabilityEntry[];
}

export interface ExpandedDiscovery {
  device: Json;
  origin: Json;
  components: ExpandedComponent[];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTopic = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && !/[#+]/.test(v);

/** Renames abbreviated keys and reports unknown, duplicated and missing ones. */
function expand(obj: Json, abbreviations: Record<string, string>, allowed: KeyList, where: string, problems: string[]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(obj)) {
    const full = abbreviations[key] ?? key;
    if (!allowed.keys.includes(full)) {
      problems.push(`${where}: unknown key "${key}"${full !== key ? ` (${full})` : ''}`);
      continue;
    }
    if (full in out) problems.push(`${where}: "${full}" given twice (full name and abbreviation)`);
    out[full] = value;
  }
  for (const r of allowed.required ?? []) if (!(r in out)) problems.push(`${where}: required key "${r}" missing`);
  return out;
}

/** Validates a device discovery payload; returns it expanded, with every problem Home Assistant would have with it. */
export function validateDeviceDiscovery(payload: unknown, schema: DiscoverySchema = discoverySchema): { discovery: ExpandedDiscovery; problems: string[] } {
  const problems: string[] = [];
  if (!isObject(payload)) return { discovery: { device: {}, origin: {}, components: [] }, problems: ['payload is not a JSON object'] };
  const root = expand(payload, schema.abbreviations, schema.device_discovery_root, 'root', problems);
  const device = isObject(root.device) ? expand(root.device, schema.device_abbreviations, schema.device, 'device', problems) : {};
  if (!isObject(root.device)) problems.push('device: not an object');
  const ids = device.identifiers;
  if (!(typeof ids === 'string' || (Array.isArray(ids) && ids.length > 0 && ids.every((i) => typeof i === 'string'))))
    problems.push('device: identifiers must be a string or a list of strings');
  if (typeof device.name !== 'string' || !device.name) problems.push('device: name missing');
  const origin = isObject(root.origin) ? expand(root.origin, schema.origin_abbreviations, schema.origin, 'origin', problems) : {};
  if (!isObject(root.origin)) problems.push('origin: not an object');

  const rootAvailability = root.availability;
  const components: ExpandedComponent[] = [];
  const uniqueIds = new Set<string>();
  if (!isObject(root.components) || !Object.keys(root.components).length) problems.push('components: missing or empty');
  for (const [id, raw] of Object.entries(isObject(root.components) ? root.components : {})) {
    const where = `components.${id}`;
    if (!/^[A-Za-z0-9_-]+$/.test(id)) problems.push(`${where}: component id must be [A-Za-z0-9_-]`);
    if (!isObject(raw)) {
      problems.push(`${where}: not an object`);
      continue;
    }
    const platform = raw.p ?? raw.platform;
    const keys = typeof platform === 'string' ? schema.platforms[platform] : undefined;
    if (!keys) {
      problems.push(`${where}: platform ${JSON.stringify(platform)} is not one of ${Object.keys(schema.platforms).join(', ')}`);
      continue;
    }
    const config = expand(raw, schema.abbreviations, keys, where, problems);
    checkValues(platform as string, config, where, schema, problems);
    if (typeof config.unique_id === 'string') {
      if (uniqueIds.has(config.unique_id)) problems.push(`${where}: unique_id "${config.unique_id}" used twice`);
      uniqueIds.add(config.unique_id);
    } else problems.push(`${where}: unique_id must be a string`);
    if (!isTopic(config.state_topic)) problems.push(`${where}: state_topic ${JSON.stringify(config.state_topic)} is not a topic`);
    if (config.json_attributes_topic !== undefined && !isTopic(config.json_attributes_topic)) problems.push(`${where}: bad json_attributes_topic`);
    components.push({ id, config, availability: availabilityOf(config.availability ?? rootAvailability, config, where, schema, problems) });
  }
  return { discovery: { device, origin, components }, problems };
}

function availabilityOf(list: unknown, config: Json, where: string, schema: DiscoverySchema, problems: string[]): AvailabilityEntry[] {
  if (config.availability_topic !== undefined)
    return [
      {
        topic: String(config.availability_topic),
        value_template: config.availability_template as string | undefined,
        payload_available: String(config.payload_available ?? 'online'),
        payload_not_available: String(config.payload_not_available ?? 'offline'),
      },
    ];
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    problems.push(`${where}: availability must be a list`);
    return [];
  }
  return list.map((raw, i) => {
    const e = isObject(raw) ? expand(raw, schema.abbreviations, schema.availability_entry, `${where}.availability[${i}]`, problems) : {};
    if (!isTopic(e.topic)) problems.push(`${where}.availability[${i}]: bad topic`);
    return {
      topic: String(e.topic),
      value_template: e.value_template as string | undefined,
      payload_available: String(e.payload_available ?? config.payload_available ?? 'online'),
      payload_not_available: String(e.payload_not_available ?? config.payload_not_available ?? 'offline'),
    };
  });
}

function checkValues(platform: string, c: Json, where: string, schema: DiscoverySchema, problems: string[]): void {
  const v = schema.values;
  const oneOf = (key: string, list: string[]) => {
    if (c[key] !== undefined && !list.includes(c[key] as string)) problems.push(`${where}: ${key} ${JSON.stringify(c[key])} is not one of ${list.join(', ')}`);
  };
  oneOf('entity_category', platform === 'sensor' ? v.sensor_entity_category : v.entity_category);
  if (platform === 'sensor') {
    oneOf('state_class', v.state_class);
    oneOf('device_class', v.sensor_device_class);
    const units = v.sensor_units_by_device_class[c.device_class as string];
    if (units && !units.includes(c.unit_of_measurement as string)) problems.push(`${where}: unit ${JSON.stringify(c.unit_of_measurement)} is not one of ${units.join(', ')} for ${c.device_class}`);
  }
  if (platform === 'binary_sensor') oneOf('device_class', v.binary_sensor_device_class);
  if (platform === 'event') {
    oneOf('device_class', v.event_device_class);
    const types = c.event_types;
    if (!Array.isArray(types) || !types.length || !types.every((t) => typeof t === 'string')) problems.push(`${where}: event_types must be a non-empty list of strings`);
  }
}

/** Home Assistant's view of one entity. */
export interface Entity {
  uniqueId: string;
  component: string;
  platform: string;
  name: string;
  config: Json;
  availability: AvailabilityEntry[];
  /** true / false from the availability topic; with no availability configured, always true. */
  available: boolean;
  /** null = unknown. */
  state: string | null;
  attributes: Json | null;
  events: Array<{ event_type: string; attributes: Json }>;
  /** State messages that changed or confirmed the state (not ignored ones). */
  updates: number;
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  /** Position in the order of arrival. */
  seq: number;
}

const NUMERIC_KEYS = ['device_class', 'unit_of_measurement', 'state_class', 'suggested_display_precision'];

/**
 * Home Assistant's entity rules, fed one message at a time (no MQTT): the same logic the MQTT client
 * below runs, so unit tests can push sample payloads through it.
 */
export class HomeAssistantModel {
  readonly received: Received[] = [];
  readonly problems: string[] = [];
  readonly entities = new Map<string, Entity>();
  /** Discovery topics and their last parsed payload (deleted on an empty message). */
  readonly discoveries = new Map<string, ExpandedDiscovery>();
  private seq = 0;

  constructor(
    readonly prefix = 'homeassistant',
    /** Called when an entity needs a topic nobody needed, and when no entity needs it any more. */
    private readonly subscribe: (topic: string, qos: 0 | 1 | 2) => void = () => undefined,
    private readonly unsubscribe: (topic: string) => void = () => undefined,
  ) {}

  /** Topics the entities need now. */
  private readonly needed = new Set<string>();

  /**
   * Subscribes to what the entities need and drops what they no longer need, as Home Assistant does: a
   * removed device's topics are unsubscribed, so a device discovered again gets their retained
   * messages replayed; a configuration update keeps its entities and their subscriptions.
   */
  private syncSubscriptions(): void {
    const want = new Map<string, 0 | 1 | 2>();
    for (const e of this.entities.values())
      for (const t of [e.config.state_topic, e.config.json_attributes_topic, ...e.availability.map((a) => a.topic)])
        if (typeof t === 'string') want.set(t, Math.max(want.get(t) ?? 0, (e.config.qos as 0 | 1 | 2 | undefined) ?? 0) as 0 | 1 | 2);
    for (const t of [...this.needed])
      if (!want.has(t)) {
        this.needed.delete(t);
        this.unsubscribe(t);
      }
    for (const [t, qos] of want)
      if (!this.needed.has(t)) {
        this.needed.add(t);
        this.subscribe(t, qos);
      }
  }

  get lastSeq(): number {
    return this.seq;
  }

  messagesOn(topic: string, since = -1): Received[] {
    return this.received.filter((m) => m.topic === topic && m.seq > since);
  }

  entity(component: string): Entity | undefined {
    return [...this.entities.values()].find((e) => e.component === component);
  }

  feed(topic: string, payload: string, retain = false): void {
    this.received.push({ topic, payload, retain, seq: ++this.seq });
    const levels = topic.split('/');
    if (topic.startsWith(`${this.prefix}/`) && levels[levels.length - 1] === 'config' && levels.length >= 4) this.onDiscovery(topic, payload);
    for (const e of this.entities.values()) {
      for (const a of e.availability) if (a.topic === topic) this.onAvailability(e, a, payload);
      if (e.config.state_topic === topic) this.onState(e, payload, retain);
      if (e.config.json_attributes_topic === topic) this.onAttributes(e, payload);
    }
  }

  private onDiscovery(topic: string, payload: string): void {
    const component = topic.split('/')[1];
    if (component !== 'device') {
      this.problems.push(`${topic}: single-component discovery, expected device-based discovery`);
      return;
    }
    if (!/^[A-Za-z0-9_-]+$/.test(topic.split('/').slice(-2)[0])) this.problems.push(`${topic}: object id must be [A-Za-z0-9_-]`);
    // A new message for the same topic is a configuration update: entities that stay keep their state.
    const previous = new Map<string, Entity>();
    for (const [id, e] of this.entities)
      if (e.config.__discovery === topic) {
        previous.set(id, e);
        this.entities.delete(id);
      }
    if (payload === '') {
      this.discoveries.delete(topic);
      this.syncSubscriptions();
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      this.problems.push(`${topic}: not JSON`);
      this.syncSubscriptions();
      return;
    }
    const { discovery, problems } = validateDeviceDiscovery(parsed);
    this.problems.push(...problems.map((p) => `${topic}: ${p}`));
    this.discoveries.set(topic, discovery);
    for (const c of discovery.components) {
      const uniqueId = String(c.config.unique_id);
      const entity: Entity = {
        uniqueId,
        component: c.id,
        platform: String(c.config.platform),
        name: String(c.config.name ?? ''),
        config: { ...c.config, __discovery: topic },
        availability: c.availability,
        available: previous.get(uniqueId)?.available ?? c.availability.length === 0,
        state: previous.get(uniqueId)?.state ?? null,
        attributes: previous.get(uniqueId)?.attributes ?? null,
        events: previous.get(uniqueId)?.events ?? [],
        updates: previous.get(uniqueId)?.updates ?? 0,
      };
      this.entities.set(uniqueId, entity);
    }
    this.syncSubscriptions();
  }

  private render(e: Entity, template: string | undefined, payload: string, what: string): string | undefined {
    if (template === undefined) return payload;
    try {
      return renderTemplate(template, payload);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      this.problems.push(`${e.component}: ${what} template failed on ${JSON.stringify(payload.slice(0, 120))}: ${err.message}`);
      return undefined;
    }
  }

  private onAvailability(e: Entity, a: AvailabilityEntry, payload: string): void {
    const r = this.render(e, a.value_template, payload, 'availability');
    if (r === a.payload_available) e.available = true;
    else if (r === a.payload_not_available) e.available = false;
  }

  private onState(e: Entity, payload: string, retain: boolean): void {
    if (e.platform === 'event' && retain) return;
    const r = this.render(e, e.config.value_template as string | undefined, payload, 'value');
    if (r === undefined) return;
    if (e.platform === 'sensor') {
      const numeric = NUMERIC_KEYS.some((k) => e.config[k] !== undefined && !(k === 'device_class' && e.config[k] === 'enum'));
      if (numeric) {
        if (r === '') return;
        if (r === 'None') e.state = null;
        else if (r.trim() !== '' && Number.isFinite(Number(r))) e.state = r;
        else {
          this.problems.push(`${e.component}: sensor expected a number, got ${JSON.stringify(r)}`);
          return;
        }
      } else e.state = r;
      e.updates++;
      return;
    }
    if (e.platform === 'binary_sensor') {
      if (r === '') return;
      const on = String(e.config.payload_on ?? 'ON');
      const off = String(e.config.payload_off ?? 'OFF');
      if (r === on) e.state = 'on';
      else if (r === off) e.state = 'off';
      else if (r === 'None') e.state = null;
      else {
        this.problems.push(`${e.component}: no matching payload for ${JSON.stringify(r)}`);
        return;
      }
      e.updates++;
      return;
    }
    if (e.platform === 'event') {
      if (r === '' || r === 'None' || r === '{}') return;
      let obj: unknown;
      try {
        obj = JSON.parse(r);
      } catch {
        this.problems.push(`${e.component}: no valid JSON event payload: ${r}`);
        return;
      }
      if (!isObject(obj) || typeof obj.event_type !== 'string') {
        this.problems.push(`${e.component}: event_type missing in ${r}`);
        return;
      }
      const { event_type, ...attributes } = obj;
      if (!(e.config.event_types as string[]).includes(event_type)) {
        this.problems.push(`${e.component}: invalid event type ${event_type}`);
        return;
      }
      e.events.push({ event_type, attributes });
      e.state = event_type;
      e.updates++;
    }
  }

  private onAttributes(e: Entity, payload: string): void {
    const r = this.render(e, e.config.json_attributes_template as string | undefined, payload, 'json attributes');
    if (r === undefined) return;
    try {
      const obj = JSON.parse(r) as unknown;
      if (!isObject(obj)) throw new Error('not a dictionary');
      e.attributes = obj;
    } catch (err) {
      this.problems.push(`${e.component}: JSON attributes are not a dictionary: ${(err as Error).message}`);
    }
  }
}

/** The model on a real MQTT 5 connection: subscribes to `<prefix>/#`, then to what the entities name. */
export class HomeAssistantSim extends HomeAssistantModel {
  private client!: MqttClient;

  private constructor(prefix: string) {
    super(
      prefix,
      (topic, qos) => void this.client.subscribeAsync(topic, { qos }).catch((err: Error) => this.problems.push(`subscribe ${topic}: ${err.message}`)),
      (topic) => void this.client.unsubscribeAsync(topic).catch((err: Error) => this.problems.push(`unsubscribe ${topic}: ${err.message}`)),
    );
  }

  static async connect(url: string, prefix = 'homeassistant'): Promise<HomeAssistantSim> {
    const sim = new HomeAssistantSim(prefix);
    sim.client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, clientId: `ha-sim-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
    sim.client.on('message', (topic, payload, packet) => sim.feed(topic, payload.toString('utf8'), packet.retain));
    await sim.client.subscribeAsync(`${prefix}/#`, { qos: 1 });
    return sim;
  }

  /** Publishes Home Assistant's birth message; returns the position in `received` before it. */
  async birth(): Promise<number> {
    const mark = this.lastSeq;
    await this.client.publishAsync(`${this.prefix}/status`, 'online', { qos: 1 });
    return mark;
  }

  /** Publishes as Home Assistant would (its birth and will, a test's own messages). */
  async publish(topic: string, payload: string, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
