// Issue 13, items 10-15: bad input gets one clear error line and a non-zero exit, never a stack
// trace or a crash; SIGHUP reloads the config file; a long command line no longer kills the
// onnxruntime worker thread.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, ensureBuilt, repoRoot } from '../helpers/agent-process.js';
import { freePort } from '../helpers/mosquitto.js';

const cli = join(repoRoot, 'bin', 'pafcast.js');

/** The environment without ORT_DISABLE_TELEMETRY, so the fix inside the agent is what is tested. */
function envWithoutOrtOverride(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.ORT_DISABLE_TELEMETRY;
  return env;
}

function run(args: string[], timeout = 120_000) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout, env: envWithoutOrtOverride(), maxBuffer: 64 << 20 });
}

/** One problem line, no stack trace. */
function expectOneClearError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
  expect(stderr).not.toMatch(/RangeError|TypeError|Maximum call stack/);
}

beforeAll(() => ensureBuilt(), 300_000);
afterEach(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
});

describe('pafcast run with a bad broker URL', () => {
  it.each([
    ['notaurl', /mqtt\.url: "notaurl" is not a URL/],
    ['mqtt://[::1', /mqtt\.url: "mqtt:\/\/\[::1" is not a URL/],
    ['mqtt://127.0.0.1:99999', /mqtt\.url: .*a port must be 1\.\.65535/],
    ['foo://broker', /mqtt\.url: "foo:\/\/broker": the scheme must be mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\//],
  ])('refuses --mqtt %s with exit code 2', (url, pattern) => {
    const r = run(['run', '--mqtt', url, '--source', 'test://']);
    expect(r.status).toBe(2);
    expectOneClearError(r.stderr, pattern);
  });
});

describe('config files an attacker or an accident could produce', () => {
  it('refuses a file nested 6000 levels deep with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-bad-'));
    const file = join(dir, 'deep.json');
    writeFileSync(file, `${'{"log":'.repeat(6000)}1${'}'.repeat(6000)}`);
    const r = run(['run', '--config', file]);
    expect(r.status).toBe(2);
    expectOneClearError(r.stderr, /nested deeper than 32 levels/);
  });

  it('refuses __proto__ keys instead of storing them where they would hide a value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-bad-'));
    const file = join(dir, 'proto.json');
    writeFileSync(file, '{"source":{"__proto__":{"uri":"/dev/video9"}}}');
    const r = run(['run', '--config', file]);
    expect(r.status).toBe(2);
    expectOneClearError(r.stderr, /config\.source: the key "__proto__" is not allowed/);
  });
});

describe('pafcast detect', () => {
  let images: string[];
  beforeAll(async () => {
    // 2,000 paths of ~45 characters: a 90 KB command line, far beyond the ~14 KB that used to crash.
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-many-'));
    const one = join(dir, 'person.png');
    await sharp({ create: { width: 48, height: 64, channels: 3, background: { r: 90, g: 120, b: 150 } } }).png().toFile(one);
    mkdirSync(join(dir, 'links'));
    images = Array.from({ length: 2000 }, (_, i) => {
      const p = join(dir, 'links', `frame-${String(i).padStart(5, '0')}.png`);
      symlinkSync(one, p);
      return p;
    });
  });

  it('runs 2,000 image paths (onnxruntime telemetry, which parsed the command line recursively, is off)', () => {
    // The small model keeps 2,000 inferences to about a minute on a 2-core machine.
    const r = run(['detect', '--model', 'mobilenet-v2-small-coco18', '--height', '128', ...images], 600_000);
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr.slice(-500)).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines[1999]!).source).toBe(images[1999]);
  }, 600_000);

  it('refuses two different images that would write the same output file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-clash-'));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    symlinkSync(images[0]!, join(dir, 'a', 'x.png'));
    symlinkSync(images[1]!, join(dir, 'b', 'x.png'));
    const r = run(['detect', '--write-json', join(dir, 'out'), join(dir, 'a', 'x.png'), join(dir, 'b', 'x.png')]);
    expect(r.status).toBe(2);
    expectOneClearError(r.stderr, /would overwrite each other's output files:\n.*a\/x\.png, .*b\/x\.png would all write x_\*/);
    // The same image twice is not a clash: its output is the same.
    const same = run(['detect', '--height', '160', '--write-json', join(dir, 'out'), join(dir, 'a', 'x.png'), join(dir, 'a', 'x.png')]);
    expect(same.status, same.stderr).toBe(0);
  });
});

describe('pafcast run and signals', () => {
  it('starts the pose runtime with a 20 KB command line', async () => {
    const port = await freePort();
    // Harmless repeated flags: the same key set again and again.
    const sets = Array.from({ length: 600 }, () => ['--set', 'mqtt.decimals=2']).flat();
    // This test process never set ORT_DISABLE_TELEMETRY (vitest runs each file in its own process).
    expect(process.env.ORT_DISABLE_TELEMETRY).toBeUndefined();
    const agent = new AgentProcess(['--source', 'test://?size=320x240', '--broker-port', String(port), '--set', 'http.enabled=false', ...sets]);
    await agent.waitForLog((l) => l.msg === 'pose runtime ready' || !agent.alive, 'pose runtime ready', 90_000);
    expect(agent.alive, agent.dump()).toBe(true);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('exits 0 on SIGTERM while the pose runtime is still being created', async () => {
    // onnxruntime aborted the process ("terminate called after throwing an instance of 'Napi::Error'") when
    // its session creation completed after the agent had exited; stop now waits for it and releases it.
    const port = await freePort();
    const agent = new AgentProcess(['--source', 'test://?size=320x240', '--broker-port', String(port), '--set', 'http.enabled=false']);
    await agent.waitForLog((l) => l.msg === 'capture pipeline' || !agent.alive, 'the capture pipeline', 60_000);
    const early = !agent.lines.some((l) => l.msg === 'pose runtime ready');
    expect(await agent.kill('SIGTERM'), agent.dump()).toEqual({ code: 0, signal: null });
    // The window this test is about: the runtime was not ready yet when SIGTERM came (creating it takes > 0.5 s).
    expect(early).toBe(true);
  }, 120_000);

  it('re-reads the config file on SIGHUP: a valid change applies, a broken file is reported and the running config kept', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-hup-'));
    const file = join(dir, 'config.json');
    const base = { source: { uri: 'test://?size=320x240' }, broker: { port }, http: { enabled: false }, mqtt: { device_id: 'hup' } };
    writeFileSync(file, JSON.stringify(base));
    const agent = new AgentProcess(['--config', file]);
    await agent.waitForLog((l) => l.msg === 'agent running' || !agent.alive, 'agent running', 60_000);

    writeFileSync(file, JSON.stringify({ ...base, mqtt: { ...base.mqtt, decimals: 3 }, log: { level: 'debug' } }));
    agent.proc.kill('SIGHUP');
    const applied = await agent.waitForLog((l) => l.msg === 'SIGHUP: config file re-read', 'the reload', 30_000);
    expect((applied.applied as string[]).sort()).toEqual(['log.level', 'mqtt.decimals']);

    writeFileSync(file, '{"mqtt": {"qos": {"poses": 7}}');
    agent.proc.kill('SIGHUP');
    const refused = await agent.waitForLog((l) => l.msg.startsWith('SIGHUP: the config file is invalid'), 'the refused reload', 30_000);
    expect(JSON.stringify(refused.errors)).toMatch(/config\.json: Expected ',' or '}'/);
    await new Promise((r) => setTimeout(r, 500));
    expect(agent.alive).toBe(true);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);
});
