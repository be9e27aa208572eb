// Issue 9 acceptance with the REAL agent process: `node bin/pafcast.js run --config FILE` started the
// way systemd/pafcast.service's ExecStart starts it.
//  1. sd_notify: READY once frames flow, WATCHDOG=1 only while the pipeline makes progress (the
//     ffmpeg capture child is really SIGSTOPped), STATUS lines, STOPPING=1 and exit 0 on SIGTERM.
//  2. Remote config over the agent's embedded broker: signed updates with the real `pafcast remote`
//     client apply live (same process, no restart), bad requests change nothing, `remote get` works.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PosesPayload } from '../../src/agent/mqtt/topics.js';
import { loadPrivateKey, signUpdate } from '../../src/agent/remote/signing.js';
import { sharedPath } from '../support/shared.js';
import { AgentProcess, ensureBuilt, repoRoot, waitFor } from './helpers/agent-process.js';
import { freePort } from './helpers/mosquitto.js';
import { buildAddon, FakeSystemd } from './notify/notify-socket.js';

const CLI = join(repoRoot, 'bin/pafcast.js');
const MODELS = sharedPath('models');
const STREET = sharedPath('media', 'street.avi');

/** Small model, low net height, no adaptive scale, one inference thread: fast frames on 2 cores. */
function agentConfig(extra: { port: number; deviceId: string; stateFile: string; remote?: Record<string, unknown>; http?: Record<string, unknown> }) {
  return {
    // A generous stall timeout: capture must not kill and restart the ffmpeg child we SIGSTOP.
    source: { uri: STREET, loop: true, stall_timeout_ms: 60_000 },
    inference: { model: 'mobilenet-v2-small-coco18', height: 160, onnxruntime: { threads: 1 } },
    telemetry: { scale: { enabled: false } },
    broker: { port: extra.port },
    http: { enabled: false, ...extra.http },
    mqtt: { device_id: extra.deviceId, stats_interval_s: 1 },
    remote: { state_file: extra.stateFile, ...extra.remote },
  };
}

/** Environment without anything a surrounding systemd or shell might have set for the test runner. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PAFCAST') || ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS'].includes(k)) delete env[k];
  return env;
}

/** Runs the CLI (`node bin/pafcast.js ...`) asynchronously, so this process keeps receiving MQTT meanwhile. */
function cli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += String(d)));
    p.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`pafcast ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Direct children of `pid` (from /proc/<n>/stat, which works where /proc/<pid>/task/<tid>/children does not). */
function children(pid: number): Array<{ pid: number; comm: string; state: string }> {
  const out: Array<{ pid: number; comm: string; state: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const m = /^\d+ \((.*)\) (\S) (\d+)/s.exec(stat);
    if (m && Number(m[3]) === pid) out.push({ pid: Number(name), comm: m[1]!, state: m[2]! });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'pafcast-service-acc-'));
let addon: string;

beforeAll(() => {
  ensureBuilt();
  addon = buildAddon(join(work, 'addon'));
}, 300_000);
// The remote tests share one agent across their `it`s; whatever is left at the end is killed.
afterAll(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
  rmSync(work, { recursive: true, force: true });
});

describe('the agent under systemd (sd_notify, issue 9 acceptance 2)', () => {
  it('READY after frames, WATCHDOG only while frames flow (capture really stalled), STATUS, STOPPING and exit 0', async () => {
    const dir = mkdtempSync(join(work, 'notify-'));
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(agentConfig({ port: await freePort(), deviceId: 'svc', stateFile: join(dir, 'state.json') }), null, 2));
    const systemd = new FakeSystemd(join(dir, 'notify.sock'));
    await systemd.bound;
    const messages = systemd.messages;
    const pings = () => messages.filter((m) => m === 'WATCHDOG=1').length;
    const until = (what: string, pred: () => boolean, timeoutMs = 60_000) =>
      waitFor(pred, `${what}; notify messages so far: ${JSON.stringify(messages.slice(-20))}; agent log: ${log.slice(-3000)}`, timeoutMs);

    // ExecStart=@NODE@ @PREFIX@/bin/pafcast.js run --config /etc/pafcast/config.json, cwd "/", with
    // the unit's Environment= and what systemd adds for Type=notify + WatchdogSec=: NOTIFY_SOCKET,
    // WATCHDOG_USEC, and WATCHDOG_PID = the main pid (the shell execs node, so its $$ is node's pid).
    const WATCHDOG_USEC = 2_000_000;
    const interval = WATCHDOG_USEC / 2 / 1000; // the agent pings at half the timeout
    const child = spawn('/bin/sh', ['-c', 'export WATCHDOG_PID=$$; exec "$@"', 'sh', process.execPath, CLI, 'run', '--config', configPath], {
      cwd: '/',
      env: {
        ...cleanEnv(),
        NODE_ENV: 'production',
        PAFCAST_MODEL_PATH: MODELS,
        NOTIFY_SOCKET: systemd.path,
        WATCHDOG_USEC: String(WATCHDOG_USEC),
        PAFCAST_SD_NOTIFY_ADDON: addon,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += String(d)));
    child.stderr.on('data', (d) => (log += String(d)));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const pid = child.pid!;
    let ffmpeg: number | undefined;
    try {
      // The process is node itself running the CLI as ExecStart has it, with WATCHDOG_PID = its pid.
      await until('node to replace the shell', () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`${process.execPath}\0`), 10_000);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual([process.execPath, CLI, 'run', '--config', configPath]);
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(`WATCHDOG_PID=${pid}`);

      await until('READY=1', () => messages.length > 0);
      // READY comes first, after the first processed frame (the pipeline was running by then).
      expect(messages[0]).toBe('READY=1\nSTATUS=first frame processed');
      expect(log).toContain('"capture pipeline"');

      // Regular pings while frames flow, and a STATUS line per stats tick with fps and net size.
      await until('3 watchdog pings', () => pings() >= 3, 30_000);
      await until('a STATUS line with fps and net', () => messages.some((m) => /^STATUS=\d+\.\d fps, net \d+x\d+, mobilenet-v2-small-coco18$/.test(m)), 30_000);
      const fps = messages.map((m) => /^STATUS=(\d+\.\d) fps, net \d+x\d+/.exec(m)).filter(Boolean).map((m) => Number(m![1]));
      expect(fps.length).toBeGreaterThan(0);
      expect(Math.max(...fps)).toBeGreaterThan(0);

      // Stall the pipeline for real: stop the ffmpeg capture child.
      const kids = children(pid).filter((c) => c.comm === 'ffmpeg');
      expect(kids, `children of ${pid}: ${JSON.stringify(children(pid))}`).toHaveLength(1);
      ffmpeg = kids[0]!.pid;
      process.kill(ffmpeg, 'SIGSTOP');
      await until('ffmpeg to be stopped', () => children(pid).find((c) => c.pid === ffmpeg)?.state === 'T', 10_000);
      // A frame already read (or in the pipe) may still be processed and earn one last ping; give
      // that two intervals, then require silence for well over 2 × the interval.
      await sleep(2.2 * interval);
      const pingsBefore = pings();
      const statusBefore = messages.filter((m) => m.startsWith('STATUS=')).length;
      await sleep(2.8 * interval);
      expect(pings(), 'no WATCHDOG=1 while the capture child is stopped').toBe(pingsBefore);
      // The agent itself is alive and well (stats ticks keep coming): only the pings stopped.
      expect(messages.filter((m) => m.startsWith('STATUS=')).length).toBeGreaterThan(statusBefore);
      expect(children(pid).find((c) => c.pid === ffmpeg)?.state, 'capture must not have restarted the stopped child').toBe('T');

      process.kill(ffmpeg, 'SIGCONT');
      ffmpeg = undefined;
      await until('pings to resume after SIGCONT', () => pings() >= pingsBefore + 2, 30_000);

      child.kill('SIGTERM');
      const exit = await exited;
      await until('STOPPING=1', () => messages.some((m) => m.startsWith('STOPPING=1')), 10_000);
      expect(exit, log.slice(-3000)).toEqual({ code: 0, signal: null });
      const stoppingAt = messages.findIndex((m) => m.startsWith('STOPPING=1'));
      expect(messages[stoppingAt]).toBe('STOPPING=1\nSTATUS=stopping');
      expect(messages.slice(stoppingAt + 1).filter((m) => m === 'WATCHDOG=1')).toEqual([]);
      expect(messages.filter((m) => m.startsWith('READY=1'))).toHaveLength(1);
      expect(log).not.toMatch(/sd_notify (failed|is unavailable)/);
    } finally {
      if (ffmpeg) process.kill(ffmpeg, 'SIGCONT');
      child.kill('SIGKILL');
      systemd.close();
    }
  }, 120_000);
});

interface Message {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

describe('remote config against the running agent (issue 9 acceptance 4)', () => {
  const DEVICE = 'cam1';
  const base = `pafcast/${DEVICE}`;
  let dir: string;
  let configPath: string;
  let stateFile: string;
  let url: string;
  let agent: AgentProcess;
  let sub: MqttClient;
  const received: Message[] = [];

  const on = (suffix: string, from = 0) => received.slice(from).filter((m) => m.topic === `${base}/${suffix}`);
  const poses = (from = 0) => on('poses', from).map((m) => JSON.parse(m.payload.toString()) as PosesPayload);
  const coords = (p: PosesPayload) => p.people.flatMap((person) => person.pose_keypoints_2d.filter((_, i) => i % 3 !== 2));
  const parts = (kp: number[]) => kp.filter((_, i) => i % 3 === 2 && kp[i]! > 0).length;
  const lastConfig = () => JSON.parse(on('config').at(-1)!.payload.toString()) as Record<string, Record<string, unknown>>;
  /** Index in `received` of the first config/result at or after `from` (+1, so 0 never means "not yet"). */
  const resultIndex = async (from: number) =>
    (await waitFor(() => received.findIndex((m, i) => i >= from && m.topic === `${base}/config/result`) + 1, 'config/result at the observer', 10_000)) - 1;
  const fileConfig = () => JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, Record<string, unknown>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(work, 'remote-'));
    configPath = join(dir, 'config.json');
    stateFile = join(dir, 'remote-state.json');
    for (const name of ['ops', 'intruder']) {
      const r = await cli(['keys', 'generate', '--out', dir, '--name', name]);
      expect(r.code, r.stderr).toBe(0);
    }
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    // Two secrets: http.token in the file, mqtt.password from the environment (the embedded broker
    // accepts any credentials, so setting them does not break the agent's own connection).
    const config = agentConfig({ port, deviceId: DEVICE, stateFile, remote: { public_key: join(dir, 'ops.pub') }, http: { token: 'file-secret-token' } });
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    agent = new AgentProcess(['--config', configPath], {
      PAFCAST_MODEL_PATH: MODELS,
      PAFCAST_MQTT_USERNAME: 'agent',
      PAFCAST_MQTT_PASSWORD: 'env-secret-password',
      NOTIFY_SOCKET: '',
    });
    await agent.waitForLog((l) => l.msg === 'agent running', 'agent running');
    sub = await mqtt.connectAsync(url, { clientId: 'acceptance-observer', reconnectPeriod: 200 });
    sub.on('message', (topic, payload, packet) => received.push({ topic, payload, retain: packet.retain }));
    await sub.subscribeAsync(`${base}/#`, { qos: 1 });
    await waitFor(() => poses().some((p) => p.people.length > 0), `poses with people; log: ${agent.dump()}`);
  }, 120_000);

  afterAll(async () => {
    await sub?.endAsync(true);
    if (agent?.alive) {
      const exit = await agent.kill('SIGTERM');
      expect(exit.code).toBe(0);
    }
  });

  it('applies signed updates from `pafcast remote set` live: same process, next poses change, file and retained config follow', async () => {
    const pid = agent.proc.pid;
    const statusBefore = on('status').map((m) => m.payload.toString());
    // Default mqtt.decimals = 1: some coordinate has a fraction (wait for one, on this moving scene).
    await waitFor(() => poses().some((p) => coords(p).some((c) => !Number.isInteger(c))), 'a non-integer keypoint coordinate');

    const mark1 = received.length;
    const r1 = await cli(['remote', 'set', '--device', DEVICE, '--mqtt', url, '--key', join(dir, 'ops.key'), '--request-id', 'dec-0', '{"mqtt":{"decimals":0}}']);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout)).toEqual({ request_id: 'dec-0', ok: true, errors: [], applied: ['mqtt.decimals'], restarted: [], restart_required: [] });
    // Poses published after the answer: all coordinates are integers now (one frame may have been in flight).
    // The observer sees the same answer (it may arrive here just after the client has exited).
    const resultAt1 = await resultIndex(mark1);
    await waitFor(() => poses(resultAt1).filter((p) => p.people.length > 0).length >= 12, 'poses with people after the update');
    const after1 = poses(resultAt1).filter((p) => p.people.length > 0).slice(2);
    for (const p of after1) expect(coords(p).every((c) => Number.isInteger(c)), `frame ${p.frame}: ${JSON.stringify(p.people)}`).toBe(true);
    expect(fileConfig().mqtt!.decimals).toBe(0);
    expect(lastConfig().mqtt!.decimals).toBe(0);

    // Second update: the parser drops people with fewer than 6 parts, from the next frames on.
    const few = () => poses().some((p) => p.people.some((person) => parts(person.pose_keypoints_2d) < 6));
    await waitFor(few, 'a person with fewer than 6 parts before the parser change');
    const mark2 = received.length;
    const r2 = await cli(['remote', 'set', '--device', DEVICE, '--mqtt', url, '--key', join(dir, 'ops.key'), '--request-id', 'subset-6', '{"inference":{"parser":{"min_subset_cnt":6}}}']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toEqual({ request_id: 'subset-6', ok: true, errors: [], applied: ['inference.parser.min_subset_cnt'], restarted: [], restart_required: [] });
    const resultAt2 = await resultIndex(mark2);
    // Wait for 30 frames and someone (with 6+ parts) still being detected, then check them all.
    await waitFor(() => poses(resultAt2).length >= 30 && poses(resultAt2).slice(2).some((p) => p.people.length > 0), 'people in poses after the parser update');
    const after2 = poses(resultAt2).slice(2);
    for (const p of after2)
      for (const person of p.people) expect(parts(person.pose_keypoints_2d), `frame ${p.frame} person ${person.id}`).toBeGreaterThanOrEqual(6);
    // The earlier change stays in effect.
    for (const p of after2) expect(coords(p).every((c) => Number.isInteger(c))).toBe(true);

    // No restart of the process or of the pipeline: same pid, no new status, no module restart.
    expect(agent.alive).toBe(true);
    expect(agent.proc.pid).toBe(pid);
    expect(on('status').map((m) => m.payload.toString())).toEqual(statusBefore);
    expect(statusBefore.every((s) => s === 'online')).toBe(true);
    // (The runtime is made once the capture has said its frame size, which may be after "agent running".)
    expect(agent.lines.filter((l) => /restarting|agent running|pose runtime ready/.test(l.msg)).map((l) => l.msg).sort()).toEqual(['agent running', 'pose runtime ready']);
    const applied = agent.lines.filter((l) => l.msg === 'remote config update applied');
    expect(applied.map((l) => l.request_id)).toEqual(['dec-0', 'subset-6']);

    // The file on disk holds both patches on top of what was there; nothing else changed.
    const file = fileConfig();
    expect(file.mqtt).toMatchObject({ decimals: 0, device_id: DEVICE });
    expect(file.inference!.parser).toEqual({ min_subset_cnt: 6 });
    expect(file.http!.token).toBe('file-secret-token');
    expect(file.mqtt!.password).toBeUndefined();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).last_version).toBeGreaterThan(0);

    // The retained config reflects both, with every secret redacted.
    const retained = lastConfig();
    expect(on('config').at(-1)!.payload.toString()).not.toMatch(/secret/);
    expect(retained.mqtt).toMatchObject({ decimals: 0, password: '***', username: 'agent' });
    expect(retained.http!.token).toBe('***');
    expect((retained.inference!.parser as Record<string, unknown>).min_subset_cnt).toBe(6);
  }, 120_000);

  it('answers every bad request with ok:false and a readable error, leaving the config file byte-identical', async () => {
    const key = loadPrivateKey(join(dir, 'ops.key'));
    const intruder = loadPrivateKey(join(dir, 'intruder.key'));
    const signed = (id: string, patch: Record<string, unknown>, k = key) => signUpdate(k, { request_id: id, version: Date.now(), device: DEVICE, patch });
    // A real replay: the exact bytes `pafcast remote set` published for the first update.
    const original = on('config/set').find((m) => m.payload.toString().includes('dec-0'));
    expect(original, 'the observer saw the first config/set').toBeDefined();
    const valid = JSON.parse(signed('tampered', { mqtt: { decimals: 3 } })) as { payload: string; signature: string };
    const cases: Array<[string, string | Buffer, RegExp, string | null]> = [
      ['malformed JSON', '{"payload": "{\\"request_id\\"', /not valid JSON/i, null],
      ['wrong type', signed('wrong-type', { mqtt: { decimals: 'two' } }), /mqtt[./]decimals/, 'wrong-type'],
      ['out of range', signed('range', { mqtt: { decimals: 9 } }), /mqtt[./]decimals/, 'range'],
      ['unknown key', signed('unknown', { inference: { colour: 'red' } }), /colour/, 'unknown'],
      ['oversized', signed('big', { mqtt: { client_id: 'x'.repeat(20_000) } }), /message too large: \d+ bytes, the limit is 16384/, null],
      ['missing signature', JSON.stringify({ request_id: 'unsigned', patch: { mqtt: { decimals: 2 } } }), /missing signature/, 'unsigned'],
      ['bad signature (other key)', signed('intruder', { mqtt: { decimals: 2 } }, intruder), /bad signature/, 'intruder'],
      ['bad signature (tampered payload)', JSON.stringify({ payload: valid.payload.replace('"decimals":3', '"decimals":4'), signature: valid.signature }), /bad signature/, 'tampered'],
      ['replayed version', original!.payload, /replayed or stale version \d+: the last applied version is \d+/, 'dec-0'],
    ];
    const pid = agent.proc.pid;
    const bytes = readFileSync(configPath);
    const stateBytes = readFileSync(stateFile);
    const sender = await mqtt.connectAsync(url, { clientId: 'acceptance-sender' });
    try {
      for (const [what, payload, error, requestId] of cases) {
        const mark = received.length;
        await sender.publishAsync(`${base}/config/set`, payload, { qos: 1 });
        const answer = await waitFor(() => on('config/result', mark)[0], `an answer to "${what}"`, 20_000);
        const result = JSON.parse(answer.payload.toString()) as { request_id: string | null; ok: boolean; errors: string[]; applied: string[]; restart_required: string[] };
        expect(result.ok, what).toBe(false);
        expect(result.request_id, what).toBe(requestId);
        expect(result.errors.length, what).toBeGreaterThan(0);
        expect(result.errors.join('\n'), what).toMatch(error);
        expect(result.applied, what).toEqual([]);
        expect(readFileSync(configPath).equals(bytes), `${what}: config file changed`).toBe(true);
        expect(readFileSync(stateFile).equals(stateBytes), `${what}: state file changed`).toBe(true);
      }
    } finally {
      await sender.endAsync(true);
    }
    // Each rejection was logged with its reason; nothing was applied; the agent did not restart.
    expect(agent.lines.filter((l) => l.msg === 'remote config update applied')).toHaveLength(2);
    expect(agent.alive).toBe(true);
    expect(agent.proc.pid).toBe(pid);
    expect(lastConfig().mqtt!.decimals).toBe(0);
    // And poses keep flowing with the accepted settings, not the rejected ones.
    const mark = received.length;
    await waitFor(() => poses(mark).filter((p) => p.people.length > 0).length >= 3, 'poses after the rejections');
    for (const p of poses(mark)) expect(coords(p).every((c) => Number.isInteger(c))).toBe(true);
  }, 120_000);

  it('`pafcast remote get` prints the retained config, secrets redacted', async () => {
    const r = await cli(['remote', 'get', '--device', DEVICE, '--mqtt', url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(config).toEqual(lastConfig());
    expect(config.mqtt).toMatchObject({ device_id: DEVICE, decimals: 0, password: '***' });
    expect(config.http!.token).toBe('***');
    expect((config.inference!.parser as Record<string, unknown>).min_subset_cnt).toBe(6);
    expect(config.remote!.public_key).toBe(join(dir, 'ops.pub'));
    expect(r.stdout).not.toMatch(/secret/);
  }, 60_000);
});
