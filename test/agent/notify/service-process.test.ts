// The notify modules in a separate node process, as systemd would run the agent: NOTIFY_SOCKET
// and WATCHDOG_USEC point at this test's socket. The child fakes only the pipeline (a timer that
// "processes frames" until told to stall with SIGUSR1); everything that talks to systemd is real.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAddon, FakeSystemd, repo } from './notify-socket.js';

const work = mkdtempSync(join(tmpdir(), 'pafcast-notify-proc-'));
let addon: string;

const CHILD = `
import { ServiceStatus } from './service-status.js';
const service = ServiceStatus.fromEnv(process.env, { onError: (e) => console.error(e.message) });
const interval = service.notifier.watchdogIntervalMs;
let stalled = false;
const frames = setInterval(() => { if (!stalled) service.frame(); }, Math.max(1, interval / 4));
process.on('SIGUSR1', async () => {
  stalled = true;
  await service.notifier.status('stalled');
  // Five watchdog intervals without a frame, then say how many pings were sent in total.
  setTimeout(() => service.notifier.status('still stalled, pings ' + service.watchdog.pingCount), interval * 5);
});
process.on('SIGTERM', async () => {
  clearInterval(frames);
  await service.stopping();
  // No process.exit(): the process must end by itself, so nothing may hold the event loop.
});
`;

beforeAll(() => {
  addon = buildAddon(work);
  for (const name of ['sd-notify', 'watchdog', 'service-status']) {
    const source = readFileSync(join(repo, 'src/agent/notify', `${name}.ts`), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(work, `${name}.js`), js);
  }
  writeFileSync(join(work, 'package.json'), '{"type":"module"}');
  writeFileSync(join(work, 'agent.js'), CHILD);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sd_notify from a separate process', () => {
  it('READY, regular WATCHDOG while frames flow, none when stalled, STOPPING and a clean exit on SIGTERM', async () => {
    const systemd = new FakeSystemd(join(work, 'notify.sock'));
    await systemd.bound;
    const messages = systemd.messages;
    const until = (pred: () => boolean) => systemd.waitUntil(pred);

    const child = spawn(process.execPath, [join(work, 'agent.js')], {
      env: { ...process.env, NOTIFY_SOCKET: systemd.path, WATCHDOG_USEC: '100000', PAFCAST_SD_NOTIFY_ADDON: addon },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    try {
      await until(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 3);
      child.kill('SIGUSR1');
      await until(() => messages.some((m) => m.startsWith('STATUS=still stalled')));
      child.kill('SIGTERM');
      const exit = await exited;
      await until(() => messages.some((m) => m.startsWith('STOPPING=1')));

      expect(messages[0]).toBe('READY=1\nSTATUS=first frame processed');
      const stalledAt = messages.indexOf('STATUS=stalled');
      const after = messages.findIndex((m) => m.startsWith('STATUS=still stalled'));
      // At most the ping for frames processed just before the stall may follow it.
      expect(messages.slice(stalledAt + 1, after).filter((m) => m === 'WATCHDOG=1').length).toBeLessThanOrEqual(1);
      const pingsReported = Number(/pings (\d+)/.exec(messages[after])![1]);
      expect(pingsReported).toBe(messages.slice(0, after).filter((m) => m === 'WATCHDOG=1').length);
      expect(messages.at(-1)).toBe('STOPPING=1\nSTATUS=stopping');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
      systemd.close();
    }
  });
});
