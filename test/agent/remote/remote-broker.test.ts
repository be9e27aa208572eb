// Remote config end to end over a real mosquitto: the `pafcast remote` client on one side, a tiny
// responder driving the update handler (as the agent will) on the other.

import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command as remoteCommand } from '../../../src/agent/cli/remote.js';
import { command as keysCommand } from '../../../src/agent/cli/keys.js';
import { createConfigUpdateHandler } from '../../../src/agent/remote/config-updates.js';
import { redactSecrets } from '../../../src/agent/remote/redact.js';
import { loadPublicKey, signUpdate } from '../../../src/agent/remote/signing.js';
import { applyTestConfig, makeDevice, validateTestConfig, type TestConfig, type TestDevice } from './fixture.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function untilListening(port: number, broker: ChildProcess): Promise<void> {
  for (;;) {
    if (broker.exitCode !== null) throw new Error(`mosquitto exited with ${broker.exitCode}`);
    const up = await new Promise<boolean>((r) => {
      const s = tcpConnect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

let broker: ChildProcess;
let url: string;
let responder: MqttClient;
let device: TestDevice;
let keyDir: string;
const results: Buffer[] = [];

beforeAll(async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pafcast-mosquitto-'));
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  await untilListening(port, broker);
  url = `mqtt://127.0.0.1:${port}`;

  keyDir = mkdtempSync(join(tmpdir(), 'pafcast-keys-'));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  expect(await keysCommand(['generate', '--out', keyDir, '--name', 'ops'])).toBe(0);
  expect(await keysCommand(['generate', '--out', keyDir, '--name', 'intruder'])).toBe(0);
  out.mockRestore();

  device = makeDevice();
  const handler = createConfigUpdateHandler<TestConfig>({
    loadCurrent: device.current,
    validate: validateTestConfig,
    apply: applyTestConfig,
    store: device.store,
    publicKey: loadPublicKey(join(keyDir, 'ops.pub')),
    deviceId: 'cam1',
    maxBytes: 2048,
    log: { info: () => {}, warn: () => {} },
  });
  responder = await mqtt.connectAsync(url, { clientId: 'fake-agent' });
  const publishConfig = () => responder.publishAsync('pafcast/cam1/config', JSON.stringify(redactSecrets(device.current(), ['mqtt.password'])), { qos: 1, retain: true });
  await publishConfig();
  responder.on('message', (_topic, payload) => {
    void handler.handle(payload).then(async ({ result }) => {
      await responder.publishAsync('pafcast/cam1/config/result', JSON.stringify(result), { qos: 1 });
      if (result.ok) await publishConfig();
    });
  });
  await responder.subscribeAsync('pafcast/cam1/config/set', { qos: 1 });
});

afterAll(async () => {
  await responder?.endAsync(true);
  broker?.kill('SIGTERM');
});

async function runRemote(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await remoteCommand(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('pafcast remote against a real broker', () => {
  it('round-trips a signed update and the device applies it live', async () => {
    const r = await runRemote(['set', '--device', 'cam1', '--mqtt', url, '--key', join(keyDir, 'ops.key'), '--request-id', 'cli-1', '{"parser":{"threshold":0.4}}']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ request_id: 'cli-1', ok: true, errors: [], applied: ['parser.threshold'], restarted: [], restart_required: [] });
    expect(device.current().parser.threshold).toBe(0.4);
  });

  it('reads the retained config with secrets redacted', async () => {
    const r = await runRemote(['get', '--device', 'cam1', '--mqtt', url]);
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout) as TestConfig;
    expect(config.mqtt.password).toBe('***');
    expect(config.parser.threshold).toBe(0.4);
  });

  it('prints the rejection and exits 1 for an update signed with the wrong key', async () => {
    const before = readFileSync(device.store.configPath);
    const r = await runRemote(['set', '--device', 'cam1', '--mqtt', url, '--key', join(keyDir, 'intruder.key'), '{"preview":{"enabled":true}}']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).errors).toEqual(['bad signature: not signed by the configured key']);
    expect(readFileSync(device.store.configPath)).toEqual(before);
  });

  it('exits 1 with a clear message when the patch is not JSON or nobody answers', async () => {
    const bad = await runRemote(['set', '--device', 'cam1', '--mqtt', url, '{nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/PATCH is not valid JSON/);
    const silent = await runRemote(['set', '--device', 'nobody', '--mqtt', url, '--timeout', '1', '{}']);
    expect(silent.code).toBe(1);
    expect(silent.stderr).toMatch(/no answer to request .* on pafcast\/nobody\/config\/result within 1 s/);
  });

  it('rejects bad messages published straight to the broker, leaving the config file byte-identical', async () => {
    const privateKey = readFileSync(join(keyDir, 'ops.key'), 'utf8');
    const { createPrivateKey } = await import('node:crypto');
    const key = createPrivateKey(privateKey);
    const replay = signUpdate(key, { request_id: 'rp', version: 1, device: 'cam1', patch: {} });
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['malformed JSON', '{"payload": ', /not valid JSON/],
      ['wrong type', signUpdate(key, { request_id: 'wt', version: Date.now() + 10, device: 'cam1', patch: { parser: { max_people: 'all' } } }), /\/parser\/max_people/],
      ['unknown key', signUpdate(key, { request_id: 'uk', version: Date.now() + 20, device: 'cam1', patch: { parser: { colour: 'red' } } }), /colour/],
      ['oversized', Buffer.alloc(4096, 0x20), /too large/],
      ['missing signature', JSON.stringify({ request_id: 'ms', patch: {} }), /missing signature/],
      ['bad signature', JSON.stringify({ payload: JSON.parse(replay).payload, signature: Buffer.alloc(64).toString('base64') }), /bad signature/],
      ['replayed version', replay, /replayed or stale version 1/],
    ];
    const listener = await mqtt.connectAsync(url, { clientId: 'observer' });
    await listener.subscribeAsync('pafcast/cam1/config/result', { qos: 1 });
    const before = readFileSync(device.store.configPath);
    try {
      for (const [what, payload, error] of cases) {
        const answer = new Promise<{ ok: boolean; errors: string[] }>((resolve) => listener.once('message', (_t, p) => resolve(JSON.parse(p.toString()))));
        await listener.publishAsync('pafcast/cam1/config/set', payload, { qos: 1 });
        const result = await answer;
        expect(result.ok, what).toBe(false);
        expect(result.errors.join('\n'), what).toMatch(error);
        expect(readFileSync(device.store.configPath), what).toEqual(before);
      }
    } finally {
      await listener.endAsync(true);
    }
  });
});
