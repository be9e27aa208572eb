// AgentMqtt against a real Mosquitto: topic layout, retained status, last will, the offline queue,
// MQTT 5 properties (read back by mosquitto_sub -V mqttv5) and the fallback to 3.1.1 (aedes).
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentMqtt, TopicError, baseTopic } from '../../../src/agent/mqtt/client.js';
import { defaultConfig } from '../../../src/agent/config/load.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import type { MqttConfig } from '../../../src/agent/mqtt/config-schema.js';

const log = pino({ level: 'silent' });
let broker: Mosquitto;

beforeAll(async () => {
  broker = await Mosquitto.start(true);
});
afterAll(async () => {
  await broker?.stop();
});

function mqttConfig(patch: Partial<MqttConfig> = {}): MqttConfig {
  const c = defaultConfig().mqtt;
  return { ...c, reconnect: { min_ms: 200, max_ms: 400 }, ...patch };
}

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

async function subscriber(topic: string, opts: mqtt.IClientOptions = {}): Promise<{ client: MqttClient; got: Received[] }> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 100, ...opts });
  const got: Received[] = [];
  client.on('message', (t, p, packet) => got.push({ topic: t, payload: p.toString(), retain: packet.retain }));
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, got };
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('baseTopic', () => {
  it('joins prefix and device id and refuses wildcards or empty levels', () => {
    expect(baseTopic('site/cams', 'jetson1')).toBe('site/cams/jetson1');
    expect(() => baseTopic('pafcast', 'cam#')).toThrow(TopicError);
    expect(() => baseTopic('pafcast', 'a+b')).toThrow(/wildcard/);
    expect(() => baseTopic('pafcast/', 'x')).toThrow(/empty level/);
  });
});

describe('AgentMqtt', () => {
  it('publishes under <prefix>/<device_id>, with retained online status and per-topic QoS/retain', async () => {
    const sub = await subscriber('t1/dev/#');
    const agent = new AgentMqtt(broker.url, mqttConfig({ prefix: 't1' }), 'dev', log);
    agent.start();
    await agent.waitConnected(10_000);
    agent.publish('people', { count: 2, frame: 7, ts: 1 });
    agent.publish('poses', { frame: 7, ts: 1, source: { width: 4, height: 3 }, model: 'm', net: { width: 8, height: 8 }, latency_ms: 1, people: [] });
    await until(() => sub.got.length >= 3, 'three messages');
    expect(sub.got.find((m) => m.topic === 't1/dev/status')?.payload).toBe('online');
    expect(JSON.parse(sub.got.find((m) => m.topic === 't1/dev/people')!.payload)).toEqual({ count: 2, frame: 7, ts: 1 });
    expect(JSON.parse(sub.got.find((m) => m.topic === 't1/dev/poses')!.payload).frame).toBe(7);
    // Retained topics are delivered to a late subscriber; poses are not.
    const late = await subscriber('t1/dev/#');
    await until(() => late.got.length >= 2, 'retained messages');
    expect(late.got.map((m) => m.topic).sort()).toEqual(['t1/dev/people', 't1/dev/status']);
    expect(late.got.every((m) => m.retain)).toBe(true);
    await agent.stop();
    await until(() => sub.got.some((m) => m.topic === 't1/dev/status' && m.payload === 'stopped'), 'stopped status');
    await sub.client.endAsync();
    await late.client.endAsync();
  });

  it('refuses topics that are not declared outgoing topics', () => {
    const agent = new AgentMqtt(broker.url, mqttConfig(), 'dev', log);
    expect(() => agent.publish('config/set', { request_id: 'r', patch: {} })).toThrow(/incoming topic/);
    expect(() => agent.publish('nope/#' as 'poses', {} as never)).toThrow(/not a pafcast topic/);
  });

  it('leaves offline as the last will when the connection dies without a goodbye', async () => {
    const sub = await subscriber('t2/dev/status');
    const agent = new AgentMqtt(broker.url, mqttConfig({ prefix: 't2', reconnect: { min_ms: 60_000, max_ms: 60_000 } }), 'dev', log);
    agent.start();
    await agent.waitConnected(10_000);
    await until(() => sub.got.some((m) => m.payload === 'online'), 'online');
    // Drop the TCP connection without DISCONNECT, as a killed process would.
    (agent as unknown as { client: MqttClient }).client.stream.destroy();
    await until(() => sub.got.some((m) => m.payload === 'offline'), 'last will');
    await agent.stop();
    await sub.client.endAsync();
  });

  it('queues while the broker is away, keeps the newest, and flushes them in order after reconnecting', async () => {
    const cfg = mqttConfig({ prefix: 't3', queue_max: 5, qos: { ...mqttConfig().qos, poses: 1 } });
    // A persistent session keeps the subscription (and what arrives for it) across the broker restart.
    const sub = await subscriber('t3/dev/poses', { clientId: 'pafcast-test-t3', clean: false });
    const agent = new AgentMqtt(broker.url, cfg, 'dev', log);
    agent.start();
    await agent.waitConnected(10_000);
    const pose = (frame: number) => ({ frame, ts: frame, source: { width: 1, height: 1 }, model: 'm', net: { width: 8, height: 8 }, latency_ms: 0, people: [] });
    agent.publish('poses', pose(1));
    await until(() => sub.got.length === 1, 'first pose');

    // A burst just before the broker dies leaves QoS 1 messages in flight; mqtt.js resends them
    // after the reconnect, and nothing published meanwhile may overtake them or the queue.
    for (let f = 2; f <= 6; f++) agent.publish('poses', pose(f));
    await broker.stop();
    await until(() => !agent.connected, 'disconnect');
    for (let f = 7; f <= 26; f++) agent.publish('poses', pose(f));
    expect(agent.counters()).toMatchObject({ connected: false, queued: 5, dropped: 15 });

    await broker.start();
    let next = 27;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        agent.publish('poses', pose(next++));
        if (agent.connected && next > 300) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const last = next - 1;
    await until(() => sub.got.some((m) => JSON.parse(m.payload).frame === last), 'the last pose');
    // QoS 1 is at-least-once: a message in flight when the broker died may arrive twice. Every
    // frame seen for the first time must be newer than all before it.
    const seen = new Set<number>();
    const frames = sub.got.map((m) => JSON.parse(m.payload).frame as number).filter((f) => !seen.has(f) && seen.add(f));
    for (let i = 1; i < frames.length; i++) expect(frames[i]).toBeGreaterThan(frames[i - 1]);
    expect(frames.slice(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    // Every frame was either delivered or counted as dropped.
    const { dropped, queued, connected } = agent.counters();
    expect({ queued, connected }).toEqual({ queued: 0, connected: true });
    expect(frames.length + dropped).toBe(last);
    expect(agent.counters().reconnects).toBeGreaterThan(0);
    await agent.stop();
    await sub.client.endAsync();
  });

  it('speaks MQTT 5: poses expire, JSON says so, and a v5 subscriber sees the properties', async () => {
    const printed: string[] = [];
    // mosquitto_sub prints topic | content type | message expiry | payload format indicator per message.
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv5', '-t', 't5/dev/#', '-F', '%t|%C|%E|%F']);
    sub.stdout.setEncoding('utf8').on('data', (d: string) => printed.push(...d.split('\n').filter(Boolean)));
    await new Promise((r) => setTimeout(r, 300));
    const agent = new AgentMqtt(broker.url, mqttConfig({ prefix: 't5', poses_expiry_s: 7 }), 'dev', log);
    agent.start();
    await agent.waitConnected(10_000);
    expect(agent.protocolVersion).toBe(5);
    agent.publish('poses', { frame: 1, ts: 1, source: { width: 1, height: 1 }, model: 'm', net: { width: 8, height: 8 }, latency_ms: 0, people: [] });
    agent.publish('people', { count: 0, frame: 1, ts: 1 });
    await until(() => printed.some((l) => l.startsWith('t5/dev/poses')) && printed.some((l) => l.startsWith('t5/dev/people')), 'v5 messages');
    sub.kill();
    await agent.stop();
    const line = (t: string) => printed.find((l) => l.startsWith(`t5/dev/${t}|`))!;
    // The broker counts the expiry down while it holds a message; delivered at once it still reads 7 (or 6).
    expect(line('poses')).toMatch(/^t5\/dev\/poses\|application\/json\|[67]\|1$/);
    expect(line('people')).toMatch(/^t5\/dev\/people\|application\/json\|\|1$/);
    expect(line('status')).toMatch(/^t5\/dev\/status\|text\/plain\|\|1$/);
  });

  it('publishes an external retained topic once per change, also when its owner restarts over an older stored value', async () => {
    // Subscribing before publishing made the broker hand back the previous value as "stored", which the
    // client then put right with a second publish: every restart of the Home Assistant module sent its
    // discovery twice (and a late copy of an older one could be resent too).
    const topic = 'homeassistant/device/onceonly/config';
    const leftover = await mqtt.connectAsync(broker.url);
    await leftover.publishAsync(topic, '{"v":0}', { retain: true, qos: 1 });
    await leftover.endAsync();
    const agent = new AgentMqtt(broker.url, mqttConfig(), 'onceonly', log);
    agent.start();
    await agent.waitConnected(10_000);
    const { client, got } = await subscriber(topic);
    await until(() => got.length === 1, 'the stored value');
    agent.publishExternal(topic, { v: 1 }, { retain: true });
    await until(() => got.length >= 2, 'the first value');
    agent.forgetRetained(topic); // its module stops ...
    agent.publishExternal(topic, { v: 2 }, { retain: true }); // ... and starts again with a changed config
    await until(() => got.length >= 3, 'the second value');
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.map((m) => m.payload)).toEqual(['{"v":0}', '{"v":1}', '{"v":2}']);
    expect(agent.counters().reasserted).toBe(0);
    await client.endAsync();
    await agent.stop();
  });

  it('while a duplicate agent is suspected, an overwrite inside the hold-off is put right once the hold-off ends', async () => {
    // The hold-off stops two agents with one id from ping-ponging; it used to drop the re-assertion, so a
    // stranger's second "offline" stuck until the next reconnect.
    const holdoffMs = 1500;
    const agent = new AgentMqtt(broker.url, mqttConfig(), 'holdoff', log, holdoffMs);
    agent.start();
    await agent.waitConnected(10_000);
    const topic = agent.topic('status');
    const stranger = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const { client, got } = await subscriber(topic);
    await until(() => got.some((m) => m.payload === 'online'), 'online');
    await stranger.publishAsync(topic, 'online', { retain: true, qos: 1 }); // a second agent: duplicate suspected
    await stranger.publishAsync(topic, 'offline', { retain: true, qos: 1 }); // put right at once
    await until(() => agent.counters().reasserted === 1, 'the first re-assertion');
    await stranger.publishAsync(topic, 'offline', { retain: true, qos: 1 }); // inside the hold-off
    await new Promise((r) => setTimeout(r, 300));
    expect(agent.counters().reasserted).toBe(1);
    await until(() => agent.counters().reasserted === 2, 'the deferred re-assertion', holdoffMs + 3000);
    await until(() => got.at(-1)?.payload === 'online', 'online again');
    const stored = await subscriber(topic);
    await until(() => stored.got.length > 0, 'the stored copy');
    expect(stored.got[0]).toMatchObject({ payload: 'online', retain: true });
    await Promise.all([stored.client.endAsync(), client.endAsync(), stranger.endAsync()]);
    await agent.stop();
  });

  it('falls back to 3.1.1 with one warning when the broker does not speak v5', async () => {
    const aedes = await Aedes.createBroker();
    const server: Server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const lines: Array<{ level: number; msg: string }> = [];
    const recording = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const agent = new AgentMqtt(`mqtt://127.0.0.1:${port}`, mqttConfig({ prefix: 't6' }), 'dev', recording);
    try {
      const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      const got: string[] = [];
      sub.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
      await sub.subscribeAsync('t6/dev/#', { qos: 1 });
      agent.start();
      await agent.waitConnected(10_000);
      expect(agent.protocolVersion).toBe(4);
      agent.publish('people', { count: 3, frame: 1, ts: 1 });
      await until(() => got.some((g) => g.startsWith('t6/dev/people')), 'a message through aedes');
      const fallbacks = lines.filter((l) => l.msg.startsWith('the MQTT broker does not speak MQTT 5'));
      expect(fallbacks).toHaveLength(1);
      expect(lines.filter((l) => l.msg.startsWith('MQTT connection failed'))).toEqual([]);
      await sub.endAsync(true);
    } finally {
      await agent.stop();
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
