// Issue 13, acceptance 1 and 3, against the real agent process and a real Mosquitto:
// - the attack suite: remote patches to every local-only key, unsigned and signed, are refused
//   with the key named; the config and state files stay byte-identical and nothing is spawned;
// - broker faults: a refused login is retried until the broker is fixed, a broker restarted
//   without persistence gets every retained topic back, a stranger's retained `offline` is put
//   right, and two agents with one device id both say so.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyPolicy, leafPaths, schemaAt } from '../../src/agent/config/schema.js';
import { signUpdate } from '../../src/agent/remote/signing.js';
import type { UpdateResult } from '../../src/agent/remote/config-updates.js';
import { AgentProcess, ensureBuilt, waitFor } from './helpers/agent-process.js';
import { freePort } from './helpers/mosquitto.js';

/** A Mosquitto of this test's own, with whatever listener options a case needs (auth, no persistence). */
class Broker {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'pafcast-hardening-broker-'));
  log = '';
  private readonly lines: string[];
  constructor(
    readonly port: number,
    lines: (dir: string) => string[] = () => ['allow_anonymous true'],
  ) {
    this.lines = lines(this.dir);
  }
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, [`listener ${this.port} 127.0.0.1`, `user ${userInfo().username}`, 'persistence false', ...this.lines].join('\n') + '\n');
    const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (this.log += d));
    proc.stderr!.on('data', (d) => (this.log += d));
    this.proc = proc;
    await waitFor(() => tcpOpen(this.port), `mosquitto on ${this.port}`, 10_000);
  }
  reload(): void {
    this.proc?.kill('SIGHUP');
  }
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }
}

function tcpOpen(port: number): boolean {
  // Synchronous probe through bash's /dev/tcp keeps waitFor simple.
  return spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' }).status === 0;
}

/** A plain MQTT client with the messages it received, by topic. */
class Client {
  readonly got: Array<{ topic: string; text: string; retain: boolean }> = [];
  private constructor(readonly c: MqttClient) {
    c.on('message', (topic, payload, packet) => this.got.push({ topic, text: payload.toString(), retain: packet.retain }));
  }
  static async connect(url: string, opts: mqtt.IClientOptions = {}): Promise<Client> {
    return new Client(await mqtt.connectAsync(url, { reconnectPeriod: 200, clientId: `test-${randomUUID().slice(0, 8)}`, ...opts }));
  }
  last(topic: string): string | undefined {
    return this.got.filter((m) => m.topic === topic).at(-1)?.text;
  }
  async end(): Promise<void> {
    await this.c.endAsync(true);
  }
}

/** Retained values a fresh subscriber reads for the agent's topics. */
async function retainedNow(url: string, base: string): Promise<Map<string, string>> {
  const c = await Client.connect(url);
  await c.c.subscribeAsync(`${base}/#`, { qos: 1 });
  await new Promise((r) => setTimeout(r, 400));
  await c.end();
  return new Map(c.got.filter((m) => m.retain).map((m) => [m.topic.slice(base.length + 1), m.text]));
}

/** Every descendant of `pid` with its command name. */
function descendants(pid: number): Array<{ pid: number; comm: string }> {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) {
      out.push({ pid: child, comm: comm.get(child)! });
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const PWNED = join(tmpdir(), `pafcast-pwned-${process.pid}`);

/** A value for `path` of the right type that differs from `current`: what an attacker would send. */
function hostileValue(path: string, current: unknown): unknown {
  const node = schemaAt(path)!.at(-1) as { type?: string; anyOf?: Array<{ const?: unknown }>; minimum?: number; maximum?: number };
  if (node.type === 'array') return ['sh', '-c', `id > ${PWNED}`];
  if (node.type === 'boolean') return !current;
  if (node.type === 'integer' || node.type === 'number') {
    const v = typeof current === 'number' ? current : 0;
    return v + 1 <= (node.maximum ?? Infinity) ? v + 1 : v - 1;
  }
  if (node.anyOf) return node.anyOf.map((b) => b.const).find((c) => c !== current) ?? current;
  if (path.endsWith('uri')) return `/dev/video0`;
  return `/tmp/pafcast-attack/${path}`;
}

function patchFor(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  const root: Record<string, unknown> = {};
  let node = root;
  for (const k of keys.slice(0, -1)) node = (node[k] = {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return root;
}

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

const localOnly = leafPaths().filter((p) => keyPolicy(p).remote === 'local-only');
const signedOnly = leafPaths().filter((p) => keyPolicy(p).remote === 'signed-only');

interface Device {
  agent: AgentProcess;
  dir: string;
  configPath: string;
  statePath: string;
  base: string;
}

async function startDevice(url: string, id: string, remote: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Device> {
  const dir = mkdtempSync(join(tmpdir(), 'pafcast-hardening-'));
  const configPath = join(dir, 'config.json');
  const statePath = join(dir, 'state', 'remote.json');
  const config = {
    source: { uri: 'test://?size=320x240&rate=10' },
    inference: { height: 160, onnxruntime: { threads: 1 } },
    mqtt: { url, device_id: id, reconnect: { min_ms: 200, max_ms: 1000 } },
    http: { enabled: false },
    telemetry: { tegrastats: 'off', scale: { enabled: false } },
    remote: { state_file: statePath, ...remote },
    ...extra,
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const agent = new AgentProcess(['--config', configPath]);
  await agent.waitForLog((l) => l.msg === 'accepting remote configuration on config/set' || l.msg.startsWith('remote configuration needs') || !agent.alive, 'remote config ready', 60_000);
  expect(agent.alive, agent.dump()).toBe(true);
  await agent.waitForLog((l) => l.msg === 'connected to the MQTT broker', 'connected', 30_000);
  return { agent, dir, configPath, statePath, base: `pafcast/${id}` };
}

async function request(client: Client, base: string, body: string, requestId: string): Promise<UpdateResult> {
  const before = client.got.length;
  await client.c.publishAsync(`${base}/config/set`, body, { qos: 1 });
  const answer = await waitFor(
    () => client.got.slice(before).map((m) => (m.topic === `${base}/config/result` ? (JSON.parse(m.text) as UpdateResult) : null)).find((r) => r?.request_id === requestId),
    `answer to ${requestId}`,
    15_000,
  );
  return answer!;
}

let broker: Broker;
beforeAll(async () => {
  ensureBuilt();
  broker = new Broker(await freePort());
  await broker.start();
}, 300_000);
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
});

describe('the attack suite', () => {
  it('covers the keys an attacker wants', () => {
    for (const k of ['source.pipeline', 'source.uri', 'inference.model', 'inference.model_path', 'inference.tensorrt.engine_dir', 'mqtt.tls.ca', 'telemetry.root', 'remote.public_key', 'remote.allow_unsigned', 'remote.enabled', 'remote.state_file'])
      expect(localOnly).toContain(k);
    expect(signedOnly).toEqual(expect.arrayContaining(['mqtt.url', 'http.host', 'http.token', 'broker.host']));
  });

  it('without a key and without allow_unsigned, refuses any patch and says how to enable remote config', async () => {
    const dev = await startDevice(broker.url, 'attack-closed', {});
    const sub = await Client.connect(broker.url);
    await sub.c.subscribeAsync(`${dev.base}/config/result`, { qos: 1 });
    const before = readFileSync(dev.configPath);
    const r = await request(sub, dev.base, JSON.stringify({ request_id: 'closed-1', patch: { mqtt: { decimals: 2 } } }), 'closed-1');
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatch(/set remote\.public_key .* or set remote\.allow_unsigned: true/);
    expect(readFileSync(dev.configPath)).toEqual(before);
    expect(existsSync(dev.statePath)).toBe(false);
    await sub.end();
  }, 120_000);

  it('refuses unsigned patches to every local-only and signed-only key, writes nothing and spawns nothing', async () => {
    const dev = await startDevice(broker.url, 'attack-open', { allow_unsigned: true });
    const sub = await Client.connect(broker.url);
    await sub.c.subscribeAsync(`${dev.base}/config/#`, { qos: 1 });
    await waitFor(() => sub.last(`${dev.base}/config`), 'retained config');
    const effective = JSON.parse(sub.last(`${dev.base}/config`)!);
    const before = readFileSync(dev.configPath);

    for (const path of [...localOnly, ...signedOnly]) {
      const id = `u-${path}`.replace(/[^\x21-\x7e]/g, '_').slice(0, 120);
      const r = await request(sub, dev.base, JSON.stringify({ request_id: id, patch: patchFor(path, hostileValue(path, getPath(effective, path))) }), id);
      expect(r.ok, path).toBe(false);
      expect(r.errors.join('\n'), path).toContain(`${path}: `);
      expect(r.errors.join('\n'), path).toMatch(keyPolicy(path).remote === 'local-only' ? /local config file, never over MQTT/ : /needs a signed update/);
    }
    // Deleting a local-only key (merge-patch null) is a change too.
    const del = await request(sub, dev.base, JSON.stringify({ request_id: 'del-source', patch: { source: null } }), 'del-source');
    expect(del.ok).toBe(false);
    expect(del.errors.join('\n')).toMatch(/source\.uri: may only be changed/);

    expect(readFileSync(dev.configPath)).toEqual(before);
    expect(existsSync(dev.statePath)).toBe(false);
    expect(existsSync(PWNED)).toBe(false);
    // Only the capture process runs below the agent: nothing a patch named was started.
    const children = descendants(dev.agent.proc.pid!).map((c) => c.comm);
    for (const c of children) expect(c).toMatch(/^(ffmpeg|gst-launch-1\.0)$/);

    // A key that may change remotely still does.
    const ok = await request(sub, dev.base, JSON.stringify({ request_id: 'allowed', patch: { mqtt: { decimals: 2 } } }), 'allowed');
    expect(ok).toMatchObject({ ok: true, applied: ['mqtt.decimals'] });
    await sub.end();
  }, 180_000);

  it('refuses signed patches to every local-only key too, with the state file untouched', async () => {
    const keys = generateKeyPairSync('ed25519');
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-keys-'));
    const pub = join(dir, 'ops.pub');
    writeFileSync(pub, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const dev = await startDevice(broker.url, 'attack-signed', { public_key: pub });
    const sub = await Client.connect(broker.url);
    await sub.c.subscribeAsync(`${dev.base}/config/#`, { qos: 1 });
    await waitFor(() => sub.last(`${dev.base}/config`), 'retained config');
    const effective = JSON.parse(sub.last(`${dev.base}/config`)!);
    const before = readFileSync(dev.configPath);
    let version = Date.now();
    const signed = (key: KeyObject, id: string, patch: Record<string, unknown>) =>
      signUpdate(key, { request_id: id, version: ++version, device: 'attack-signed', patch });
    for (const path of localOnly) {
      const id = `s-${path}`.slice(0, 120);
      const r = await request(sub, dev.base, signed(keys.privateKey, id, patchFor(path, hostileValue(path, getPath(effective, path)))), id);
      expect(r.ok, path).toBe(false);
      expect(r.errors.join('\n'), path).toContain(`${path}: may only be changed in the device's local config file`);
    }
    expect(readFileSync(dev.configPath)).toEqual(before);
    expect(existsSync(dev.statePath)).toBe(false);
    expect(existsSync(PWNED)).toBe(false);
    // A signed change of a signed-only key is applied (it needs an agent restart to take effect) and spends its version.
    const r = await request(sub, dev.base, signed(keys.privateKey, 'signed-ok', { mqtt: { keepalive_s: 45 } }), 'signed-ok');
    expect(r).toMatchObject({ ok: true, restart_required: ['mqtt.keepalive_s (restart agent)'] });
    expect(JSON.parse(readFileSync(dev.statePath, 'utf8')).last_version).toBe(version);
    await sub.end();
  }, 180_000);
});

describe('broker faults', () => {
  it('retries a refused login until the broker is fixed, logging it once, with /healthz degraded meanwhile', async () => {
    const port = await freePort();
    const authBroker = new Broker(port, (dir) => ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`]);
    const passwd = join(authBroker.dir, 'passwd');
    expect(spawnSync('mosquitto_passwd', ['-c', '-b', passwd, 'observer', 'watch']).status).toBe(0);
    await authBroker.start();
    const httpPort = await freePort();
    const agent = new AgentProcess(
      [
        '--source', 'test://?size=320x240&rate=10', '--mqtt', authBroker.url, '--device-id', 'authcam', '--height', '160',
        '--set', `http.port=${httpPort}`, '--set', 'mqtt.reconnect.min_ms=200', '--set', 'mqtt.reconnect.max_ms=800',
        '--set', 'telemetry.scale.enabled=false', '--set', 'telemetry.tegrastats=off',
      ],
      { PAFCAST_MQTT_USERNAME: 'cam', PAFCAST_MQTT_PASSWORD: 'right-password' },
    );
    try {
      await agent.waitForLog((l) => /MQTT connection failed: .*Not authorized|bad user name or password/i.test(l.msg), 'the refusal', 30_000);
      // Several retries later: still one log line, counted, /healthz degraded with the reason.
      await new Promise((r) => setTimeout(r, 4_000));
      expect(agent.lines.filter((l) => l.msg.startsWith('MQTT connection failed')).length).toBe(1);
      const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.text()).toMatch(/^degraded\nmqtt: not connected to the MQTT broker .*Not authorized/);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(Number(/pafcast_mqtt_auth_failures_total (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(2);
      expect(metrics).toMatch(/pafcast_mqtt_connected 0/);

      // The broker is fixed: the agent's user is added and mosquitto reloads its password file.
      const fixedAt = Date.now();
      expect(spawnSync('mosquitto_passwd', ['-b', passwd, 'cam', 'right-password']).status).toBe(0);
      authBroker.reload();
      await agent.waitForLog((l) => l.msg === 'connected to the MQTT broker', 'the reconnect', 60_000);
      const seen = await retainedAfter(authBroker.url, 'pafcast/authcam', { username: 'observer', password: 'watch' });
      expect(Date.now() - fixedAt).toBeLessThan(60_000);
      expect(seen.get('status')).toBe('online');
      expect(JSON.parse(seen.get('config')!).mqtt.device_id).toBe('authcam');
      expect(JSON.parse(seen.get('people')!)).toHaveProperty('count');
      expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
    } finally {
      await agent.kill('SIGKILL');
      await authBroker.stop();
    }
  }, 180_000);

  it('puts every retained topic back after a broker restart without persistence, and corrects a stranger within 5 s', async () => {
    const port = await freePort();
    const b = new Broker(port);
    await b.start();
    const agent = new AgentProcess([
      '--source', 'test://?size=320x240&rate=10', '--mqtt', b.url, '--device-id', 'faults', '--height', '160',
      '--set', 'http.enabled=false', '--set', 'mqtt.reconnect.min_ms=200', '--set', 'mqtt.reconnect.max_ms=1000',
      '--set', 'telemetry.scale.enabled=false', '--set', 'telemetry.tegrastats=off',
    ]);
    try {
      await agent.waitForLog((l) => l.msg === 'connected to the MQTT broker', 'connected', 60_000);
      const first = await retainedAfterPeople(b.url, 'pafcast/faults');
      expect(first.get('status')).toBe('online');

      await b.stop();
      await b.start();
      const restartedAt = Date.now();
      const back = await retainedAfterPeople(b.url, 'pafcast/faults');
      expect(Date.now() - restartedAt).toBeLessThan(60_000);
      expect(back.get('status')).toBe('online');
      expect(JSON.parse(back.get('config')!).mqtt.device_id).toBe('faults');
      expect(JSON.parse(back.get('people')!)).toHaveProperty('count');

      // A stranger writes retained lies on the device's topics.
      const stranger = await Client.connect(b.url);
      const t0 = Date.now();
      await stranger.c.publishAsync('pafcast/faults/status', 'offline', { qos: 1, retain: true });
      await stranger.c.publishAsync('pafcast/faults/people', '{"count":99,"frame":0,"ts":0}', { qos: 1, retain: true });
      await stranger.end();
      let fixed: Map<string, string> | undefined;
      for (;;) {
        fixed = await retainedNow(b.url, 'pafcast/faults');
        if (fixed.get('status') === 'online' && JSON.parse(fixed.get('people') ?? '{}').count !== 99) break;
        if (Date.now() - t0 > 5_000) break;
      }
      expect(fixed!.get('status')).toBe('online');
      expect(JSON.parse(fixed!.get('people')!).count).not.toBe(99);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(agent.lines.some((l) => l.msg.startsWith('a retained topic of this device was overwritten'))).toBe(true);
    } finally {
      await agent.kill('SIGKILL');
      await b.stop();
    }
  }, 180_000);

  it('two agents with one device id: each logs an error with the fix', async () => {
    const args = (n: number) => [
      '--source', 'test://?size=320x240&rate=5', '--mqtt', broker.url, '--device-id', 'twin', '--height', '160',
      '--set', 'http.enabled=false', '--set', 'telemetry.scale.enabled=false', '--set', 'telemetry.tegrastats=off',
      '--set', 'mqtt.reconnect.min_ms=200', '--set', 'mqtt.reconnect.max_ms=2000', '--set', `mqtt.client_id=twin-${n}`,
    ];
    const a = new AgentProcess(args(1));
    await a.waitForLog((l) => l.msg === 'connected to the MQTT broker', 'first agent connected', 60_000);
    const b = new AgentProcess(args(2));
    const isDuplicate = (l: { level: string | number; msg: string }) => l.msg.startsWith('another agent uses this device\'s topics') && /mqtt\.device_id/.test(l.msg);
    await a.waitForLog(isDuplicate, 'the error in the first agent', 60_000);
    await b.waitForLog(isDuplicate, 'the error in the second agent', 60_000);
    expect(a.lines.filter(isDuplicate)).toHaveLength(1);
    // Same client id (the default, derived from the topics): the broker's session takeover is reported too.
    const c = new AgentProcess(args(3).slice(0, -2).concat(['--set', 'mqtt.client_id=twin-1']));
    await c.waitForLog(isDuplicate, 'the error in the agent that took over the session', 60_000);
  }, 180_000);
});

/** Retained values once `people` is there too (it is first published with the first frame). */
async function retainedAfterPeople(url: string, base: string): Promise<Map<string, string>> {
  return retainedAfter(url, base, {});
}

async function retainedAfter(url: string, base: string, auth: { username?: string; password?: string }): Promise<Map<string, string>> {
  const end = Date.now() + 60_000;
  for (;;) {
    const c = await Client.connect(url, auth);
    await c.c.subscribeAsync(`${base}/#`, { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    await c.end();
    const m = new Map(c.got.filter((x) => x.retain).map((x) => [x.topic.slice(base.length + 1), x.text]));
    if (m.has('status') && m.has('config') && m.has('people')) return m;
    if (Date.now() > end) throw new Error(`retained topics after 60 s: ${[...m.keys()].join(', ')}`);
  }
}
