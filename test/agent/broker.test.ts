import mqtt from 'mqtt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/agent/broker.js';
import { freePort } from './helpers/mosquitto.js';

const log = pino({ level: 'silent' });

describe('EmbeddedBroker', () => {
  it('relays messages between MQTT 3.1.1 clients and keeps retained ones', async () => {
    const port = await freePort();
    const broker = new EmbeddedBroker({ host: '127.0.0.1', port }, log);
    await broker.start();
    expect(broker.url).toBe(`mqtt://127.0.0.1:${port}`);
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    await pub.publishAsync('a/status', 'online', { retain: true, qos: 1 });
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const got: string[] = [];
    sub.on('message', (t, p) => got.push(`${t}=${p.toString()}`));
    await sub.subscribeAsync('a/#', { qos: 1 });
    await pub.publishAsync('a/poses', '{"frame":1}', { qos: 1 });
    for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['a/status=online', 'a/poses={"frame":1}']);
    await pub.endAsync();
    await sub.endAsync();
    await broker.stop();
  });

  it('explains a port that is already taken', async () => {
    const port = await freePort();
    const first = new EmbeddedBroker({ host: '127.0.0.1', port }, log);
    await first.start();
    const second = new EmbeddedBroker({ host: '127.0.0.1', port }, log);
    await expect(second.start()).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${port}.*another broker already runs there`));
    await first.stop();
  });
});
