// The embedded broker's security rules (issue 13), the same table for both engines, with real
// clients: mqtt.js, and mosquitto_pub / mosquitto_sub at MQTT 3.1.1 and (Mosquitto) 5.
// Mosquitto acknowledges and drops a refused 3.1.1 publish (v5 publishers hear "not authorized");
// aedes closes the publisher's connection. Either way the retained value must not change, which
// is what every case checks with a fresh subscriber.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../../src/agent/broker/index.js';
import { BASE, DEVICE, MosquittoSub, agentClient, lanAddress, mosquittoPub, retainedUnder, retainedValue, sleep, startBroker, waitFor, type TestBroker } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(overrides: Parameters<typeof startBroker>[0]): Promise<TestBroker> {
  const t = await startBroker(overrides);
  cleanups.push(() => t.broker.stop());
  return t;
}

async function client(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  cleanups.push(() => c.endAsync(true));
  return c;
}

/** Connects and returns the refusal (error message) or 'connected'. */
async function tryLogin(url: string, opts: mqtt.IClientOptions): Promise<string> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
    await c.endAsync(true);
    return 'connected';
  } catch (e) {
    return (e as Error).message;
  }
}

/** A 3.1.1 CONNECT for an anonymous client, as raw bytes. */
function rawConnect(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const body = Buffer.concat([variable, Buffer.from([0, id.length]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

for (const engine of ['mosquitto', 'aedes'] as const) {
  const v5 = engine === 'mosquitto';
  describe(`embedded broker security (${engine})`, () => {
    it('keeps what the device says for the agent: strangers cannot overwrite or fake it, config/set and other topics get through', async () => {
      const { broker, port } = await started({ engine });
      const agent = await agentClient(broker);
      const requests: string[] = [];
      agent.on('message', (t, p) => requests.push(`${t} ${p}`));
      await agent.subscribeAsync(`${BASE}/config/set`, { qos: 1 });
      await agent.publishAsync(`${BASE}/status`, 'online', { retain: true, qos: 1 });
      await agent.publishAsync(`${BASE}/people`, '{"count":2}', { retain: true, qos: 1 });
      await agent.publishAsync(`homeassistant/device/${DEVICE}/config`, '{"dev":"agent"}', { retain: true, qos: 1 });
      const observer = new MosquittoSub(port, ['-V', 'mqttv311', '-t', 'homeassistant/status', '-t', 'other/#']);
      cleanups.push(() => observer.stop());
      await sleep(300);

      const attacks = [
        ['-V', 'mqttv311', '-r', '-q', '1', '-t', `${BASE}/status`, '-m', 'offline'],
        ['-V', 'mqttv311', '-r', '-q', '0', '-t', `${BASE}/people`, '-m', '{"count":0}'],
        ['-V', 'mqttv311', '-r', '-q', '1', '-t', `homeassistant/device/${DEVICE}/config`, '-m', '{"dev":"fake"}'],
        ['-V', 'mqttv311', '-r', '-q', '1', '-t', `homeassistant/sensor/${DEVICE}/people/config`, '-m', '{"fake":1}'],
      ];
      if (v5) attacks.push(['-V', 'mqttv5', '-r', '-q', '1', '-t', `${BASE}/status`, '-m', 'offline']);
      for (const a of attacks) await mosquittoPub(port, a);
      if (v5) expect((await mosquittoPub(port, ['-V', 'mqttv5', '-r', '-q', '1', '-t', `${BASE}/people`, '-m', '{"count":9}'])).output).toMatch(/not authori[sz]ed/i);
      // mqtt.js as a stranger, and a stranger whose last will targets the device's status.
      const stranger = await client(broker.url, { protocolVersion: 4 });
      stranger.publish(`${BASE}/status`, 'offline', { retain: true, qos: 1 });
      const willer = spawn('mosquitto_sub', ['-p', String(port), '-V', 'mqttv311', '-t', 'nothing', '--will-topic', `${BASE}/status`, '--will-payload', 'offline', '--will-retain', '--will-qos', '1']);
      await sleep(400);
      willer.kill('SIGKILL');
      await sleep(400);

      expect(await retainedValue(port, `${BASE}/status`)).toBe(`online`);
      expect(await retainedValue(port, `${BASE}/people`)).toBe('{"count":2}');
      expect(await retainedValue(port, `homeassistant/device/${DEVICE}/config`)).toBe('{"dev":"agent"}');
      expect(await retainedValue(port, `homeassistant/sensor/${DEVICE}/people/config`)).toBeNull();
      if (v5) expect(await retainedValue(port, `${BASE}/status`, ['-V', 'mqttv5'])).toBe('online');

      // What strangers may publish arrives: remote config requests (the agent checks them) and other topics.
      expect((await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-t', `${BASE}/config/set`, '-m', '{"request_id":"r1"}'])).status).toBe(0);
      expect((await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-t', 'homeassistant/status', '-m', 'online'])).status).toBe(0);
      expect((await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', 'other/thing', '-m', 'kept'])).status).toBe(0);
      await waitFor(() => requests.includes(`${BASE}/config/set {"request_id":"r1"}`), 'the config/set request at the agent');
      await waitFor(() => observer.lines().includes('homeassistant/status online') && observer.lines().includes('other/thing kept'), 'the open topics at the observer');
      expect(await retainedValue(port, 'other/thing')).toBe('kept');
      if (engine === 'aedes') expect((broker.statsSection() as { refused_publishes: number }).refused_publishes).toBeGreaterThanOrEqual(5);
    });

    it('refuses a message over broker.max_message_bytes, and cuts off a 100 MB packet at its header', async () => {
      const { broker, port } = await started({ engine });
      const sub = new MosquittoSub(port, ['-V', 'mqttv311', '-t', 'other/#', '-F', '%t %l']);
      cleanups.push(() => sub.stop());
      await sleep(300);
      const dir = mkdtempSync(join(tmpdir(), 'pafcast-big-'));
      writeFileSync(join(dir, 'big'), Buffer.alloc(2 * 1024 * 1024, 0x61));
      writeFileSync(join(dir, 'fits'), Buffer.alloc(512 * 1024, 0x62));
      await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-t', 'other/big', '-f', join(dir, 'big')]);
      if (v5) await mosquittoPub(port, ['-V', 'mqttv5', '-q', '1', '-t', 'other/big5', '-f', join(dir, 'big')]);
      expect((await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-t', 'other/fits', '-f', join(dir, 'fits')])).status).toBe(0);
      await waitFor(() => sub.lines().includes(`other/fits ${512 * 1024}`), 'the 512 KiB message');
      await sleep(300);
      expect(sub.lines()).toEqual([`other/fits ${512 * 1024}`]);

      // A PUBLISH announcing 100 MB: the broker hangs up after the header, having buffered nothing.
      const socket = createConnection({ host: '127.0.0.1', port });
      // The broker resets the connection: that is the expected end, not an error. Reading (the
      // CONNACK) is what lets this side notice the end.
      socket.on('error', () => undefined);
      socket.resume();
      cleanups.push(() => socket.destroy());
      await new Promise((r) => socket.once('connect', r));
      socket.write(rawConnect('raw-client'));
      await sleep(200);
      socket.write(Buffer.from([0x30, ...varint(100_000_000), 0x00, 0x05, ...Buffer.from('other')]));
      const closed = await Promise.race([new Promise((r) => socket.once('close', () => r('closed'))), sleep(5_000).then(() => 'still open')]);
      expect(closed).toBe('closed');
      await waitFor(() => (broker.statsSection() as { refused: { oversize: number } }).refused.oversize >= (engine === 'aedes' ? 2 : 1), 'the oversize count');
    });

    it('beyond loopback: refuses to start without credentials; with them, only known users get in', async () => {
      const noCreds = startBroker({ engine, host: '0.0.0.0' });
      await expect(noCreds).rejects.toThrow(
        /embedded MQTT broker not started: broker\.host: the embedded broker would listen on 0\.0\.0\.0, reachable from the network, without authentication\. Set broker\.username and broker\.password/,
      );

      // A password file made by the real mosquitto_passwd, beside the configured user.
      const dir = mkdtempSync(join(tmpdir(), 'pafcast-pw-'));
      const file = join(dir, 'users');
      expect(spawnSync('mosquitto_passwd', ['-c', '-b', file, 'ops', 'ops-password'], { encoding: 'utf8' }).status).toBe(0);
      const { broker, port } = await started({ engine, host: '0.0.0.0', username: 'homeassistant', password: 'ha-password', password_file: file });
      const url = `mqtt://${lanAddress()}:${port}`;
      const protocolVersion = v5 ? 5 : 4;
      expect(await tryLogin(url, { protocolVersion })).toMatch(/not authori[sz]ed/i);
      expect(await tryLogin(url, { protocolVersion, username: 'homeassistant', password: 'wrong-password' })).toMatch(/bad user ?name or password|not authori[sz]ed/i);
      expect(await tryLogin(url, { protocolVersion, username: 'nobody', password: 'ha-password' })).toMatch(/bad user ?name or password|not authori[sz]ed/i);
      expect(await tryLogin(url, { protocolVersion, username: 'homeassistant', password: 'ha-password' })).toBe('connected');
      expect(await tryLogin(url, { protocolVersion, username: 'ops', password: 'ops-password' })).toBe('connected');
      expect(await tryLogin(url, { protocolVersion: 4, username: 'ops', password: 'ops-password' })).toBe('connected');
      const stats = broker.statsSection() as { authentication: string; refused: { logins: number } };
      expect(stats.authentication).toBe('required');
      await waitFor(() => (broker.statsSection() as typeof stats).refused.logins >= 3, 'three refused logins counted');

      // The agent's per-start login works; a known user still may not speak for the device.
      const agent = await agentClient(broker as EmbeddedBroker);
      await agent.publishAsync(`${BASE}/status`, 'online', { retain: true, qos: 1 });
      const ha = await client(url, { protocolVersion, username: 'homeassistant', password: 'ha-password' });
      ha.publish(`${BASE}/status`, 'offline', { retain: true, qos: 1 });
      await sleep(500);
      expect(await retainedValue(port, `${BASE}/status`, ['-u', 'ops', '-P', 'ops-password'])).toBe('online');
    });
  });
}

describe('embedded broker security (aedes only)', () => {
  it('bounds retained storage by count and by bytes; the agent\'s own topics always fit', async () => {
    const { broker, port, lines } = await started({ engine: 'aedes', retained: { max_messages: 10, max_bytes: 65536 } });
    for (let i = 0; i < 15; i++) await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', `other/n${i}`, '-m', `v${i}`]);
    expect(await retainedUnder(port, 'other/#')).toHaveLength(10);
    expect(await retainedValue(port, 'other/n9')).toBe('v9');
    expect(await retainedValue(port, 'other/n10')).toBeNull();
    // Replacing a kept one is fine, deleting one frees its slot.
    await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', 'other/n0', '-m', 'again']);
    expect(await retainedValue(port, 'other/n0')).toBe('again');
    await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', 'other/n1', '-n']);
    await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', 'other/n11', '-m', 'v11']);
    expect(await retainedValue(port, 'other/n11')).toBe('v11');
    // Bytes: 65536 in all, so a 40 KB message does not fit beside what is there and a second one neither.
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-ret-'));
    writeFileSync(join(dir, 'p'), Buffer.alloc(40_000, 0x63));
    await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', 'other/n0', '-f', join(dir, 'p')]);
    await mosquittoPub(port, ['-V', 'mqttv311', '-q', '1', '-r', '-t', 'other/n2', '-f', join(dir, 'p')]);
    expect(await retainedValue(port, 'other/n0', ['-F', '%l'])).toBe('40000');
    expect(await retainedValue(port, 'other/n2')).toBe('v2');
    const agent = await agentClient(broker);
    cleanups.push(() => agent.endAsync(true));
    await agent.publishAsync(`${BASE}/status`, 'online', { retain: true, qos: 1 });
    expect(await retainedValue(port, `${BASE}/status`)).toBe('online');
    const stats = broker.statsSection() as { retained: { messages: number; bytes: number; refused: number } };
    expect(stats.retained.messages).toBe(10);
    expect(stats.retained.refused).toBeGreaterThanOrEqual(5);
    expect(stats.retained.bytes).toBeLessThanOrEqual(65536);
    // Said once, not per message.
    expect(lines.filter((l) => /retained storage is full/.test(l.msg))).toHaveLength(1);
  });

  it('lets nobody else take over the agent\'s client id', async () => {
    const { broker } = await started({ engine: 'aedes' });
    const agent = await agentClient(broker, { clientId: 'pafcast_pf_cam1' });
    cleanups.push(() => agent.endAsync(true));
    expect(await tryLogin(broker.url, { protocolVersion: 4, clientId: 'pafcast_pf_cam1' })).toMatch(/identifier rejected/i);
    expect(agent.connected).toBe(true);
  });
});
