// The homeassistant module's lifecycle against a real Mosquitto, with the agent's real MQTT client and
// stats publisher: the retained discovery message survives a restart and is deleted when discovery is
// turned off (also one a previous run left, also while the broker is away at start), a prefix changed
// live leaves no ghost device, the birth message is answered once with discovery, states and stats,
// component changes are debounced, and all of it still works after a restart.
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentServices } from '../../../src/agent/agent.js';
import { defaultConfig } from '../../../src/agent/config/load.js';
import type { AgentConfig } from '../../../src/agent/config/schema.js';
import { HealthChecks } from '../../../src/agent/health.js';
import { HomeAssistantComponents } from '../../../src/agent/homeassistant/components.js';
import { zoneComponents } from '../../../src/agent/homeassistant/event-components.js';
import { HomeAssistantModule, type HomeAssistantTiming } from '../../../src/agent/homeassistant/module.js';
import { ModuleScope } from '../../../src/agent/lifecycle.js';
import { AgentMqtt } from '../../../src/agent/mqtt/client.js';
import { StatsPublisher } from '../../../src/agent/mqtt/stats-publisher.js';
import { StageMeters } from '../../../src/telemetry/meters.js';
import { waitFor } from '../helpers/agent-process.js';
import { freePort, Mosquitto } from '../helpers/mosquitto.js';
import { HomeAssistantSim } from './support/ha-sim.js';

const log = pino({ level: 'silent' });
const TIMING: HomeAssistantTiming = { birthJitterMs: 50, statesSettleMs: 400, changeDebounceMs: 300 };
let broker: Mosquitto;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Harness {
  s: AgentServices;
  module: HomeAssistantModule;
  components: HomeAssistantComponents;
  statsSent: () => number;
  start(patch?: Partial<AgentConfig['homeassistant']>): Promise<void>;
  stop(): Promise<void>;
}

/** The services a module gets from the agent core, on a real connection; `deviceId` keeps tests apart. */
async function harness(deviceId: string, url = broker.url): Promise<Harness> {
  const config = defaultConfig();
  config.mqtt.device_id = deviceId;
  config.mqtt.reconnect = { min_ms: 200, max_ms: 400 };
  const client = new AgentMqtt(url, config.mqtt, deviceId, log);
  client.start();
  let statsSent = 0;
  const stats = new StatsPublisher(
    {
      publish: (name, payload) => {
        if (name === 'stats') statsSent++;
        client.publish(name, payload as never);
      },
    },
    { mqtt: () => client.counters(), captureDropped: () => 0 },
    new StageMeters(),
  );
  const s: AgentServices = { config, log, mqtt: client, stats, health: new HealthChecks() };
  const components = new HomeAssistantComponents();
  const module = new HomeAssistantModule(s, components, TIMING);
  let scope: ModuleScope | undefined;
  const h: Harness = {
    s,
    module,
    components,
    statsSent: () => statsSent,
    async start(patch = {}) {
      s.config = { ...s.config, homeassistant: { ...s.config.homeassistant, ...patch } };
      scope = new ModuleScope(module.name);
      await module.start(scope);
    },
    async stop() {
      await scope?.dispose();
      scope = undefined;
    },
  };
  cleanups.push(async () => {
    await h.stop();
    await client.stop();
  });
  return h;
}

async function sim(): Promise<HomeAssistantSim> {
  const ha = await HomeAssistantSim.connect(broker.url);
  cleanups.push(() => ha.close());
  return ha;
}

/** What the broker keeps retained on `topic` now, read by a fresh subscriber (null: nothing). */
async function retained(topic: string, url = broker.url): Promise<string | null> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5 });
  let got: string | null = null;
  c.on('message', (t, p, packet) => {
    if (t === topic && packet.retain) got = p.toString();
  });
  await c.subscribeAsync(topic, { qos: 1 });
  // A marker published after subscribing arrives after any retained message on `topic`.
  const marker = `test/marker/${Math.random()}`;
  let seen = false;
  c.on('message', (t) => {
    if (t === marker) seen = true;
  });
  await c.subscribeAsync(marker, { qos: 1 });
  await c.publishAsync(marker, 'x', { qos: 1 });
  await waitFor(() => seen, 'the marker');
  await c.endAsync();
  return got;
}

/** Polls the retained value of `topic` until `ok` holds for it. */
async function retainedUntil(topic: string, ok: (v: string | null) => boolean, what: string, url = broker.url): Promise<string | null> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = await retained(topic, url);
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; retained: ${v}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('HomeAssistantModule', () => {
  it('publishes the discovery retained, keeps it over a restart, deletes it when turned off', async () => {
    const ha = await sim();
    const h = await harness('lifecam');
    await h.s.mqtt.waitConnected(10_000);
    await h.start();
    const topic = 'homeassistant/device/lifecam/config';
    await waitFor(() => ha.discoveries.has(topic), 'the discovery message');
    expect(ha.problems).toEqual([]);
    expect(ha.messagesOn(topic)).toHaveLength(1);
    const first = (await retained(topic))!;
    expect(JSON.parse(first).device.identifiers).toEqual(['pafcast_lifecam']);

    // A restart (a homeassistant.* key changed) publishes again; Home Assistant sees a config update, not a removal.
    await h.stop();
    expect(await retained(topic)).toBe(first);
    await h.start({ name: 'Hall camera' });
    await waitFor(() => ha.messagesOn(topic).length === 2, 'the updated discovery');
    expect(JSON.parse(ha.messagesOn(topic)[1].payload).device.name).toBe('Hall camera');
    expect(ha.messagesOn(topic).every((m) => m.payload !== '')).toBe(true);

    await h.stop();
    await h.start({ enabled: false });
    await waitFor(() => ha.messagesOn(topic).some((m) => m.payload === ''), 'the empty message that deletes the device');
    expect(ha.discoveries.has(topic)).toBe(false);
    expect(await retained(topic)).toBeNull();
    // Not owned any more: nothing re-publishes it on the next connection.
    await broker.stop();
    await broker.start();
    await h.s.mqtt.waitConnected(10_000);
    await waitFor(() => h.s.mqtt.connected, 'reconnected');
    expect(await retained(topic)).toBeNull();
  });

  it('deletes a discovery message a previous run left, also when the broker is away at start', async () => {
    const topic = 'homeassistant/device/oldcam/config';
    // A broker with persistence that holds what a previous run published, then goes away.
    const away = new Mosquitto(await freePort(), true);
    await away.start();
    cleanups.push(() => away.stop());
    const leftover = await mqtt.connectAsync(away.url);
    await leftover.publishAsync(topic, '{"device":{"identifiers":["pafcast_oldcam"]}}', { retain: true, qos: 1 });
    await leftover.endAsync();
    await away.stop();
    // The module starts with discovery off while the broker is down: the deletion waits for the connection.
    const h = await harness('oldcam', away.url);
    await h.start({ enabled: false });
    expect(h.s.mqtt.connected).toBe(false);
    await away.start();
    await h.s.mqtt.waitConnected(10_000);
    expect(await retainedUntil(topic, (v) => v === null, 'the leftover deleted', away.url)).toBeNull();
  });

  it('moves the message when the prefix changes live, leaving no ghost device under the old one', async () => {
    const h = await harness('movecam');
    await h.s.mqtt.waitConnected(10_000);
    await h.start();
    const oldTopic = 'homeassistant/device/movecam/config';
    await retainedUntil(oldTopic, (v) => v !== null, 'the discovery message');
    await h.stop();
    await h.start({ prefix: 'ha2' });
    const moved = await retainedUntil('ha2/device/movecam/config', (v) => v !== null, 'the message under the new prefix');
    expect(JSON.parse(moved!).components.people.unique_id).toBe('pafcast_movecam_people');
    expect(await retainedUntil(oldTopic, (v) => v === null, 'the old message deleted')).toBeNull();
  });

  it('answers the birth message once with discovery, states and stats (at once and after the settle time), also after a restart', async () => {
    const ha = await sim();
    const h = await harness('birthcam');
    await h.s.mqtt.waitConnected(10_000);
    h.s.mqtt.publish('people', { count: 1, frame: 3, ts: 1 });
    await h.start();
    const topic = 'homeassistant/device/birthcam/config';
    await waitFor(() => ha.entity('occupancy')?.state === 'on', 'occupancy from the retained people message');
    for (const round of [1, 2]) {
      const before = h.statsSent();
      const mark = await ha.birth();
      // A second birth while the first is being answered does not double the answer.
      await ha.birth();
      await waitFor(() => ha.messagesOn(topic, mark).length >= 1, 'discovery again');
      // Nor does one after the discovery went out but before the settle-time stats: anyone may publish there.
      await ha.birth();
      await waitFor(() => h.statsSent() >= before + 2, 'stats at once and after the settle time');
      await new Promise((r) => setTimeout(r, TIMING.birthJitterMs + TIMING.statesSettleMs + 200));
      expect(ha.messagesOn(topic, mark)).toHaveLength(1);
      expect(h.statsSent()).toBe(before + 2);
      expect(ha.messagesOn('pafcast/birthcam/status', mark).map((m) => m.payload)).toEqual(['online']);
      expect(ha.messagesOn('pafcast/birthcam/people', mark).map((m) => JSON.parse(m.payload).count)).toEqual([1]);
      expect(ha.messagesOn('pafcast/birthcam/stats', mark)).toHaveLength(2);
      // Home Assistant going away says `offline` there: not answered.
      const quiet = ha.lastSeq;
      await ha.publish('homeassistant/status', 'offline');
      await new Promise((r) => setTimeout(r, TIMING.birthJitterMs + 200));
      expect(ha.messagesOn(topic, quiet)).toHaveLength(0);
      if (round === 1) {
        const published = ha.messagesOn(topic).length;
        await h.stop();
        await h.start();
        await waitFor(() => ha.messagesOn(topic).length === published + 1, 'discovery after the restart');
      }
    }
    expect(ha.problems).toEqual([]);
  });

  it('republishes once when components change, not for a remove and re-add within the debounce time', async () => {
    const ha = await sim();
    const h = await harness('zonecam');
    await h.s.mqtt.waitConnected(10_000);
    await h.start();
    const topic = 'homeassistant/device/zonecam/config';
    await waitFor(() => ha.discoveries.has(topic), 'discovery');
    const remove = h.components.add('events', zoneComponents('door'));
    h.components.add('more', zoneComponents('bed'));
    await waitFor(() => ha.messagesOn(topic).length === 2, 'one update for both additions');
    expect(ha.entity('zone_door_occupancy')).toBeDefined();
    expect(ha.entity('zone_bed_people')).toBeDefined();
    // A restart of the owner: removed and added again a moment later.
    remove();
    const again = h.components.add('events', zoneComponents('door'));
    await new Promise((r) => setTimeout(r, TIMING.changeDebounceMs + 300));
    expect(ha.messagesOn(topic)).toHaveLength(2);
    again();
    await waitFor(() => ha.messagesOn(topic).length === 3, 'the update without the door zone');
    expect(ha.entity('zone_door_occupancy')).toBeUndefined();
    expect(ha.entity('zone_bed_occupancy')).toBeDefined();
    // After the module stops, changes publish nothing.
    await h.stop();
    h.components.add('late', zoneComponents('porch'));
    await new Promise((r) => setTimeout(r, TIMING.changeDebounceMs + 300));
    expect(ha.messagesOn(topic)).toHaveLength(3);
    expect(ha.problems).toEqual([]);
  });
});
