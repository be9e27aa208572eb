import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/agent/cli/engines.js';
import type { RunProcess } from '../../../src/runtime/engines/trtexec.js';
import { fakeTrtAddon } from '../../runtime/backends/fake-trt-addon.js';

// Device block and version line as trtexec prints them on an Orin (format from OE4T/meta-tegra PR #2243).
const orinLog = '[I] Selected Device: Orin\n[I] Compute Capability: 8.7\n[I] TensorRT version: 8.5.2\n';

/** Runs `fn` with process.stderr captured (cliError writes there). */
async function captureStderr(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((t: string | Uint8Array) => (chunks.push(String(t)), true));
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'pafcast-cli-engines-'));
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ inference: { tensorrt: { engine_dir: join(dir, 'trt') } } }));
  return { dir, config };
}

describe('pafcast engines', () => {
  it('build runs trtexec once with the ladder profile, then list shows the engine as usable', async () => {
    const { dir, config } = await setup();
    const calls: string[][] = [];
    const run: RunProcess = async (file, args) => {
      calls.push([file, ...args]);
      await writeFile(args.find((a) => a.startsWith('--saveEngine='))!.slice(13), 'engine');
      return { code: 0, output: orinLog };
    };
    const b = io();
    const code = await command(['build', '-c', config, '--model', 'mobilenet-v2-small-coco18', '--heights', '160,256,368', '--trtexec', '/opt/trtexec'], {
      ...b.deps, runProcess: run, addonLoader: () => { throw new Error('addon not built'); },
    });
    expect(code).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0].slice(0, 1)).toEqual(['/opt/trtexec']);
    expect(calls[0]).toContain('--minShapes=image:1x3x160x288');
    expect(calls[0]).toContain('--maxShapes=image:1x3x368x656');
    expect(calls[0]).toContain('--fp16');
    const files = (await readdir(join(dir, 'trt'))).sort();
    expect(files).toEqual(['mobilenet-v2-small-coco18.d1f286c88d64.trt8.5.2.orin-sm87.fp16.engine', 'mobilenet-v2-small-coco18.d1f286c88d64.trt8.5.2.orin-sm87.fp16.json']);
    expect(b.out.join('')).toBe(`${join(dir, 'trt', files[0])}\n`);
    const sidecar = JSON.parse(await readFile(join(dir, 'trt', files[1]), 'utf8'));
    expect(sidecar.ladder.heights).toEqual([160, 256, 368]);

    const l = io();
    expect(await command(['list', '-c', config, '--json'], { ...l.deps, addonLoader: () => fakeTrtAddon() })).toBe(0);
    const listed = JSON.parse(l.out.join(''));
    expect(listed.running).toEqual({ tensorrt: '8.5.2', gpu: { name: 'Orin', computeCapability: '8.7' } });
    expect(listed.engines.map((e: { status: string }) => e.status)).toEqual(['usable']);

    // After a JetPack upgrade the same engine is reported stale, with the reason.
    const up = io();
    await command(['list', '-c', config], { ...up.deps, addonLoader: () => fakeTrtAddon({ info: { runtime: '10.3.0' } }) });
    expect(up.out.join('')).toMatch(/stale\s+.*\.engine\n\s+TensorRT changed: built with 8.5.2, running 10.3.0/);
  });

  it('list without the addon says the running TensorRT is unknown and why', async () => {
    const { config } = await setup();
    const l = io();
    await command(['list', '-c', config], { ...l.deps, addonLoader: () => { throw new Error('TensorRT addon not built (x missing)'); } });
    expect(l.out.join('')).toMatch(/^running: unknown \(TensorRT addon not built \(x missing\)\)\nno engines in /);
  });

  it('build without trtexec fails with where it looked and what to install', async () => {
    const { config } = await setup();
    const b = io();
    const stderr = await captureStderr(async () => {
      expect(await command(['build', '-c', config], { ...b.deps, findTrtexec: async () => null })).toBe(1);
    });
    expect(stderr).toMatch(/trtexec not found at \/usr\/src\/tensorrt\/bin\/trtexec or on PATH/);
  });

  it('rejects heights outside the model range or off the stride', async () => {
    const { config } = await setup();
    const stderr = await captureStderr(async () => {
      expect(await command(['build', '-c', config, '--heights', '250'], io().deps)).toBe(2);
      expect(await command(['build', '-c', config, '--heights', '8'], io().deps)).toBe(2);
    });
    expect(stderr).toMatch(/250 is not a positive multiple of the stride 8/);
    expect(stderr).toMatch(/heights 8 are outside lightweight-openpose-coco18's input range/);
  });
});
