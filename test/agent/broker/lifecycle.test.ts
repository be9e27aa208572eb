// Both engines' lifecycles with real clients: Mosquitto as a managed child (MQTT 5 and 3.1.1
// subscribers, restart after kill -9 with a reconnecting client, no orphan after stop or after the
// parent is SIGKILLed, persistence), the aedes fallback and its single warning, and the engine
// figures for `stats` and /metrics.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { mosquittoRunAs } from '../../../src/agent/broker/mosquitto.js';
import { renderPrometheus } from '../../../src/telemetry/prometheus.js';
import { ensureBuilt, repoRoot } from '../helpers/agent-process.js';
import { BASE, MosquittoSub, agentClient, alive, freePort, mosquittoPidsFor, retainedValue, runClient, sleep, startBroker, waitFor, type TestBroker } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(...args: Parameters<typeof startBroker>): Promise<TestBroker> {
  const t = await startBroker(...args);
  cleanups.push(() => t.broker.stop());
  return t;
}

/** A Node script (for `node --input-type=module -e`) that starts the embedded Mosquitto on `port` as `b`, then runs `body`. */
function brokerScript(port: number, body: string): string {
  return `
      import { readFileSync } from 'node:fs';
      import { pino } from 'pino';
      import { EmbeddedBroker } from ${JSON.stringify(join(repoRoot, 'dist/src/agent/broker/index.js'))};
      const b = new EmbeddedBroker({ engine: 'mosquitto', host: '127.0.0.1', port: ${port}, username: '', password: '', password_file: '', binary: '', state_dir: '',
        persistence: false, max_message_bytes: 1048576, retained: { max_messages: 100, max_bytes: 1048576 } }, { prefix: 'pf', deviceId: 'cam1', log: pino({ level: 'silent' }) });
      await b.start();${body}`;
}

function metrics(families: ReturnType<TestBroker['broker']['metricFamilies']>): Map<string, Array<{ labels?: Record<string, string>; value: string }>> {
  const parsed = parsePrometheusTextFormat(renderPrometheus({ extra: families })) as Array<{ name: string; metrics: Array<{ labels?: Record<string, string>; value: string }> }>;
  return new Map(parsed.map((f) => [f.name, f.metrics]));
}

describe('managed Mosquitto', () => {
  it('is chosen by auto, speaks MQTT 5 and 3.1.1 to real subscribers, runs unprivileged, and leaves nothing behind', async () => {
    const { broker, port, lines } = await started({ engine: 'auto' });
    expect(broker.engineName).toBe('mosquitto');
    expect(broker.protocolVersion).toBe(5);
    const pid = broker.mosquittoPid!;
    const dir = broker.mosquittoDir!;
    expect(alive(pid)).toBe(true);

    const v5 = new MosquittoSub(port, ['-V', 'mqttv5', '-t', `${BASE}/#`]);
    const v311 = new MosquittoSub(port, ['-V', 'mqttv311', '-t', `${BASE}/#`]);
    cleanups.push(() => v5.stop(), () => v311.stop());
    await sleep(300);
    const agent = await agentClient(broker);
    cleanups.push(() => agent.endAsync(true));
    for (let frame = 1; frame <= 3; frame++) await agent.publishAsync(`${BASE}/poses`, JSON.stringify({ frame }), { qos: 1, properties: { messageExpiryInterval: 5, contentType: 'application/json' } });
    const want = [1, 2, 3].map((frame) => `${BASE}/poses {"frame":${frame}}`);
    await waitFor(() => v5.lines().length >= 3 && v311.lines().length >= 3, 'three poses at both subscribers');
    expect(v5.lines()).toEqual(want);
    expect(v311.lines()).toEqual(want);

    // Started by root, it runs as the `mosquitto` user, and its files are that user's alone.
    const runAs = mosquittoRunAs();
    if (runAs) {
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${runAs.uid}\\s`, 'm'));
      for (const f of ['mosquitto.conf', 'passwd', 'acl']) {
        const st = statSync(join(dir, f));
        expect({ f, mode: (st.mode & 0o777).toString(8), uid: st.uid }).toEqual({ f, mode: '600', uid: runAs.uid });
      }
    }
    const conf = readFileSync(join(dir, 'mosquitto.conf'), 'utf8');
    expect(conf).toContain(`listener ${port} 127.0.0.1`);
    expect(conf).toContain('allow_anonymous true');
    expect(conf).toContain(`max_packet_size ${1048576 + 66560}`);
    // The agent's password is in the file only as a PBKDF2 hash.
    expect(readFileSync(join(dir, 'passwd'), 'utf8')).toMatch(/^pafcast-agent:\$7\$1000\$/);
    expect(readFileSync(join(dir, 'passwd'), 'utf8')).not.toContain(broker.clientCredentials.password);

    expect(broker.statsSection()).toMatchObject({ engine: 'mosquitto', version: '2.0.11', mqtt5: true, running: true, pid, restarts: 0 });
    const m = metrics(broker.metricFamilies());
    expect(m.get('pafcast_broker_info')).toEqual([{ labels: { engine: 'mosquitto', version: '2.0.11', mqtt5: 'true' }, value: '1' }]);
    expect(m.get('pafcast_broker_up')?.[0].value).toBe('1');
    expect(m.get('pafcast_broker_restarts_total')?.[0].value).toBe('0');
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);

    await broker.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(mosquittoPidsFor(dir)).toEqual([]);
    expect(broker.metricFamilies().find((f) => f.name === 'pafcast_broker_up')?.samples[0].value).toBe(0);
  });

  it('restarts after kill -9 and says why; a reconnecting client gets its retained state back in', async () => {
    const { broker, port, lines } = await started({ engine: 'mosquitto' });
    const firstPid = broker.mosquittoPid!;
    // Like the agent: reconnect forever, re-publish the retained status on every connect.
    const agent = mqtt.connect(broker.url, { ...broker.clientCredentials, protocolVersion: 5, reconnectPeriod: 200 });
    cleanups.push(() => agent.endAsync(true));
    let connects = 0;
    agent.on('connect', () => {
      connects++;
      agent.publish(`${BASE}/status`, 'online', { retain: true, qos: 1 });
    });
    await waitFor(() => connects === 1, 'the first connection');

    process.kill(firstPid, 'SIGKILL');
    await waitFor(() => lines.find((l) => /managed Mosquitto was killed by SIGKILL; restarting it in 0\.5 s/.test(l.msg)), 'the restart warning');
    await waitFor(() => lines.find((l) => l.msg === 'managed Mosquitto running again'), 'running again');
    const secondPid = broker.mosquittoPid!;
    expect(secondPid).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    await waitFor(() => connects >= 2, 'the client reconnected');
    expect(await retainedValue(port, `${BASE}/status`, ['-V', 'mqttv5'])).toBe('online');
    expect(broker.statsSection()).toMatchObject({ running: true, restarts: 1, last_exit: 'was killed by SIGKILL' });
    expect(metrics(broker.metricFamilies()).get('pafcast_broker_restarts_total')?.[0].value).toBe('1');
    // The warning is said once per death, not once per retry.
    expect(lines.filter((l) => l.level === 40 && /killed by SIGKILL/.test(l.msg))).toHaveLength(1);
  });

  it('goes with its parent even when the parent is killed with SIGKILL (no orphan)', async () => {
    ensureBuilt();
    const port = await freePort();
    const script = brokerScript(port, `
      console.log(JSON.stringify({ pid: b.mosquittoPid, dir: b.mosquittoDir }));
      setInterval(() => {}, 1000);`);
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => parent.kill('SIGKILL'));
    let out = '';
    parent.stdout!.on('data', (d) => (out += d));
    const { pid, dir } = await waitFor(() => (out.includes('\n') ? (JSON.parse(out) as { pid: number; dir: string }) : null), 'the child mosquitto pid');
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await waitFor(() => !alive(pid), 'mosquitto to end with its parent', 10_000);
    expect(mosquittoPidsFor(dir)).toEqual([]);
    // The killed parent could not remove its directory (with the agent's password hash); the next start does.
    expect(existsSync(dir)).toBe(true);
    await started({ engine: 'mosquitto' });
    expect(existsSync(dir)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('runs as the agent\'s own user when the agent is not root (as the systemd service\'s `pafcast`)', async () => {
    ensureBuilt();
    const port = await freePort();
    const script = brokerScript(port, `
      const uid = /^Uid:\\s+(\\d+)/m.exec(readFileSync('/proc/' + b.mosquittoPid + '/status', 'utf8'))[1];
      console.log(JSON.stringify({ uid: Number(uid), dir: b.mosquittoDir }));
      await b.stop();`);
    // `nobody` stands for the service user: not root, so Mosquitto runs as it and reads its own files.
    const r = await runClient('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--input-type=module', '-e', script], 30_000);
    expect(r.status, r.output).toBe(0);
    const { uid, dir } = JSON.parse(r.stdout) as { uid: number; dir: string };
    expect(uid).toBe(65534);
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps retained messages across broker restarts with broker.persistence in a state_dir', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'pafcast-broker-state-'));
    const port = await freePort();
    const first = await startBroker({ engine: 'mosquitto', port, persistence: true, state_dir: stateDir });
    expect((await runClient('mosquitto_pub', ['-p', String(port), '-r', '-q', '1', '-t', 'other/kept', '-m', 'still here'])).status).toBe(0);
    await first.broker.stop();
    expect(readdirSync(stateDir).sort()).toEqual(['acl', 'mosquitto.conf', 'mosquitto.db', 'passwd']);
    await started({ engine: 'mosquitto', port, persistence: true, state_dir: stateDir });
    expect(await retainedValue(port, 'other/kept')).toBe('still here');
  });

  it('explains a port that is already taken, for both engines', async () => {
    const { port } = await started({ engine: 'mosquitto' });
    for (const engine of ['mosquitto', 'aedes'] as const)
      await expect(startBroker({ engine, port })).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${port}.*another broker already runs there`));
  });
});

describe('aedes fallback', () => {
  it('starts when no Mosquitto is on PATH, with one warning that MQTT 5 clients and Home Assistant cannot connect', async () => {
    const { broker, port, lines } = await started({ engine: 'auto' }, { env: { PATH: '/usr/bin:/bin' } });
    expect(broker.engineName).toBe('aedes');
    expect(broker.protocolVersion).toBe(4);
    const warnings = lines.filter((l) => l.level >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/no mosquitto on PATH.* it runs aedes, which speaks MQTT 3\.1\.1 only: MQTT 5 clients and Home Assistant 2027\.1 and later cannot connect\. Fix: install Mosquitto >= 1\.6/);

    const v311 = new MosquittoSub(port, ['-V', 'mqttv311', '-t', `${BASE}/#`]);
    cleanups.push(() => v311.stop());
    const v5 = await runClient('mosquitto_sub', ['-p', String(port), '-V', 'mqttv5', '-t', '#', '-W', '3']);
    expect(v5.status).not.toBe(0);
    const agent = await agentClient(broker);
    cleanups.push(() => agent.endAsync(true));
    await sleep(200);
    await agent.publishAsync(`${BASE}/poses`, '{"frame":1}', { qos: 1 });
    await waitFor(() => v311.lines().includes(`${BASE}/poses {"frame":1}`), 'the pose at the 3.1.1 subscriber');
    expect(broker.statsSection()).toMatchObject({ engine: 'aedes', version: null, mqtt5: false, running: true, clients: 2 });
    expect(metrics(broker.metricFamilies()).get('pafcast_broker_info')).toEqual([{ labels: { engine: 'aedes', version: '', mqtt5: 'false' }, value: '1' }]);
    await broker.stop();
    expect((await runClient('mosquitto_sub', ['-p', String(port), '-t', '#', '-W', '1'])).status).not.toBe(0);
  });

  it('relays between MQTT 3.1.1 clients and keeps retained messages', async () => {
    const { broker } = await started({ engine: 'aedes' });
    const pub = await agentClient(broker);
    cleanups.push(() => pub.endAsync(true));
    await pub.publishAsync(`${BASE}/status`, 'online', { retain: true, qos: 1 });
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => sub.endAsync(true));
    const got: string[] = [];
    sub.on('message', (t, p) => got.push(`${t}=${p}`));
    await sub.subscribeAsync(`${BASE}/#`, { qos: 1 });
    await pub.publishAsync(`${BASE}/poses`, '{"frame":1}', { qos: 1 });
    await waitFor(() => got.length >= 2, 'both messages');
    expect(got).toEqual([`${BASE}/status=online`, `${BASE}/poses={"frame":1}`]);
  });

  it('takes over, with one warning that says why, when Mosquitto is found but fails to start', async () => {
    // Reports a good version, then dies at once, as a broken install would.
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-broken-mosquitto-'));
    // Open to the `mosquitto` user it runs as under root.
    chmodSync(dir, 0o755);
    const binary = join(dir, 'mosquitto');
    writeFileSync(binary, '#!/bin/sh\nif [ "$1" = -h ]; then echo "mosquitto version 2.0.11"; exit 3; fi\necho "Error: Unable to open pwfile" >&2; exit 1\n');
    chmodSync(binary, 0o755);
    const { broker, lines } = await started({ engine: 'auto', binary });
    expect(broker.engineName).toBe('aedes');
    const warnings = lines.filter((l) => l.level >= 40);
    expect(warnings.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^embedded MQTT broker: Mosquitto failed to start \(Mosquitto \(.*\) exited with code 1 before accepting connections: .*Unable to open pwfile.*\), so it runs aedes, which speaks MQTT 3\.1\.1 only/),
    ]);
    expect(broker.statsSection()).toMatchObject({ engine: 'aedes', running: true, reason: expect.stringMatching(/^Mosquitto failed to start/) });
    await expect(startBroker({ engine: 'mosquitto', binary })).rejects.toThrow(/exited with code 1 before accepting connections/);
  });

  it('is not used silently when broker.engine says mosquitto', async () => {
    await expect(startBroker({ engine: 'mosquitto' }, { env: { PATH: '/usr/bin:/bin' } })).rejects.toThrow(
      /broker\.engine is mosquitto but no mosquitto on PATH; \/usr\/sbin\/mosquitto exists but its directory is not on PATH/,
    );
  });
});
