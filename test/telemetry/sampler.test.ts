import { EventEmitter } from 'node:events';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TelemetryConfigSchema, type TelemetryConfig } from '../../src/telemetry/config-schema.js';
import { TelemetrySampler, type TelemetrySamplerOptions } from '../../src/telemetry/sampler.js';
import { boardRoot, jetsonDir } from './paths.js';

function config(root: string, over: Partial<TelemetryConfig> = {}): TelemetryConfig {
  return { ...(Value.Default(TelemetryConfigSchema, {}) as TelemetryConfig), root, ...over };
}

const noDevice: Partial<TelemetrySamplerOptions> = {
  powerMode: { read: async () => ({ name: 'MAXN', id: 0 }) },
  readNetwork: async () => [],
  now: () => 1_700_000_000_000,
};

/** A stand-in for the tegrastats child: lines written to `stdout` reach the sampler. */
function fakeTegrastats() {
  const child = new EventEmitter() as EventEmitter & { stdout: PassThrough; kill: (sig?: string) => boolean; killed: string[] };
  child.stdout = new PassThrough();
  child.killed = [];
  child.kill = (sig = 'SIGTERM') => {
    child.killed.push(sig);
    return true;
  };
  const calls: string[][] = [];
  const spawnFn = (cmd: string, args: string[]): ChildProcess => {
    calls.push([cmd, ...args]);
    return child as unknown as ChildProcess;
  };
  return { child, calls, spawnFn };
}

const flush = () => new Promise((r) => setTimeout(r, 10));

describe('TelemetrySampler on recorded board trees', () => {
  const cases: Array<[string, number, string, number]> = [
    ['tx2-jp46', 8, 'BCPU-therm', 31.2],
    ['xavier-jp51', 6, 'CPU-therm', 32],
    ['orin-nano-jp6', 9, 'cpu-thermal', 63],
    ['agx-orin-jp5', 11, 'CPU-therm', 0],
    ['agx-orin-jp6', 11, 'cpu-thermal', 39],
  ];
  it.each(cases)('%s: %i zones, hottest %s, GPU %f %% from sysfs', async (board, zones, hottest, gpu) => {
    const sampler = new TelemetrySampler({ config: config(boardRoot(board)), ...noDevice });
    const s = await sampler.sampleOnce();
    expect(s.thermal).toHaveLength(zones);
    expect(s.hottest?.type).toBe(hottest);
    expect(s.gpu).toEqual({ loadPct: gpu, source: 'sysfs' });
    expect(s.memory!.totalBytes).toBeGreaterThan(7e9);
    expect(s.cpu).toBeNull(); // first /proc/stat reading only primes the meter
    expect(s.powerMode).toEqual({ name: 'MAXN', id: 0 });
    expect(s.rails).toBeNull();
    expect(sampler.latest()).toBe(s);
  });

  it('CPU load appears from the second sample on', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pafcast-sampler-'));
    await cp(boardRoot('orin-nano-jp6'), root, { recursive: true });
    const sampler = new TelemetrySampler({ config: config(root), ...noDevice });
    await sampler.sampleOnce();
    const stat = await readFile(join(root, 'proc/stat'), 'utf8');
    // Every line gains 60 busy and 40 idle jiffies (aggregate ×6): 60 % load.
    const later = stat.replace(/^(cpu\d*)\s+(\d+) (\d+) (\d+) (\d+)/gm, (_, name, u, n, sys, idle) => {
      const k = name === 'cpu' ? 6 : 1;
      return `${name} ${Number(u) + 60 * k} ${n} ${sys} ${Number(idle) + 40 * k}`;
    });
    await writeFile(join(root, 'proc/stat'), later);
    const s = await sampler.sampleOnce();
    expect(s.cpu!.totalPct).toBeCloseTo(60, 9);
    expect(Object.keys(s.cpu!.perCorePct)).toHaveLength(6);
  });

  it('the configured zone list decides which zone is "hottest"', async () => {
    const sampler = new TelemetrySampler({
      config: config(boardRoot('agx-orin-jp6'), { thermal: { zones: ['tdiode-thermal'], soft_limit_c: 80, hard_limit_c: 90, hysteresis_c: 5 } }),
      ...noDevice,
    });
    expect((await sampler.sampleOnce()).hottest).toMatchObject({ type: 'tdiode-thermal', tempC: 39.75 });
  });
});

describe('TelemetrySampler: tegrastats fallback', () => {
  afterEach(() => vi.useRealTimers());

  it('starts tegrastats only when sysfs has no GPU load file, and reads GPU load and rails from its lines', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pafcast-nogpu-'));
    await cp(join(boardRoot('agx-orin-jp6'), 'sys/devices/virtual'), join(root, 'sys/devices/virtual'), { recursive: true });
    const fake = fakeTegrastats();
    const sampler = new TelemetrySampler({ config: config(root, { interval_ms: 1_000 }), spawnTegrastats: fake.spawnFn, ...noDevice });
    await sampler.start();
    expect(fake.calls).toEqual([['tegrastats', '--interval', '1000']]);
    expect(sampler.usingTegrastats).toBe(true);
    const line = readFileSync(join(jetsonDir, 'tegrastats/agx-orin-64gb-jp6-sudo.llm_pipeline.txt'), 'utf8').split('\n')[0];
    fake.child.stdout.write(`${line}\n`);
    await flush();
    const s = await sampler.sampleOnce();
    expect(s.gpu).toEqual({ loadPct: 39, source: 'tegrastats' });
    expect(s.rails!.VDD_GPU_SOC.currentMw).toBe(2798);
    sampler.stop();
    expect(fake.child.killed).toEqual(['SIGTERM']);
  });

  it('does not start tegrastats when sysfs has the load file or when configured off', async () => {
    const fake = fakeTegrastats();
    const withSysfs = new TelemetrySampler({ config: config(boardRoot('tx2-jp46')), spawnTegrastats: fake.spawnFn, ...noDevice });
    await withSysfs.start();
    withSysfs.stop();
    const off = new TelemetrySampler({ config: config(join(tmpdir(), 'pafcast-empty-root'), { tegrastats: 'off' }), spawnTegrastats: fake.spawnFn, ...noDevice });
    await off.start();
    off.stop();
    expect(fake.calls).toEqual([]);
  });

  it('warns once when tegrastats cannot start, and keeps sampling without GPU load', async () => {
    const fake = fakeTegrastats();
    const warnings: string[] = [];
    const sampler = new TelemetrySampler({
      config: config(join(tmpdir(), 'pafcast-empty-root')),
      spawnTegrastats: fake.spawnFn,
      onWarning: (m) => warnings.push(m),
      ...noDevice,
    });
    await sampler.start();
    fake.child.emit('error', Object.assign(new Error('spawn tegrastats ENOENT'), { code: 'ENOENT' }));
    fake.child.emit('exit', null, null);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no GPU load.*ENOENT/);
    const s = await sampler.sampleOnce();
    expect(s.gpu).toBeNull();
    expect(s.thermal).toEqual([]);
    sampler.stop();
  });

  it('samples on the configured interval and skips a tick while a read is still running', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let release: () => void = () => {};
    let slow = false;
    const powerMode = {
      read: () => (slow ? new Promise<null>((r) => (release = () => r(null))) : Promise.resolve(null)),
    };
    const samples: number[] = [];
    const sampler = new TelemetrySampler({
      config: config(boardRoot('tx2-jp46'), { interval_ms: 2_000 }),
      ...noDevice,
      powerMode,
      onSample: (s) => samples.push(s.thermal.length),
    });
    await sampler.start();
    expect(samples).toHaveLength(1);
    vi.advanceTimersByTime(2_000);
    await flush();
    expect(samples).toHaveLength(2);
    slow = true;
    vi.advanceTimersByTime(2_000);
    vi.advanceTimersByTime(2_000);
    vi.advanceTimersByTime(2_000);
    await flush();
    release();
    await flush();
    expect(samples).toHaveLength(3);
    sampler.stop();
    vi.advanceTimersByTime(10_000);
    await flush();
    expect(samples).toHaveLength(3);
  });
});
