import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ladderSizes, profileForLadder } from '../../../src/runtime/engines/ladder.js';
import { buildEngine, EngineBuildError, findTrtexec, trtexecArgs, type RunProcess } from '../../../src/runtime/engines/trtexec.js';
import { manifest, tempDir } from './fixtures.js';

// trtexec's device block and banner as a real run prints them (formats: OE4T/meta-tegra PR #2243, NVIDIA/TensorRT #1221).
const xavierLog = `[I] === Device Information ===
[I] Selected Device: Xavier
[I] Compute Capability: 7.2
[I] SMs: 8
&&&& PASSED TensorRT.trtexec [TensorRT v8201] # /usr/src/tensorrt/bin/trtexec
`;

/** A stand-in trtexec: records its argv, writes the engine where --saveEngine says, prints `log`. */
function fakeTrtexec(log: string, code = 0): RunProcess & { argv: string[][] } {
  const argv: string[][] = [];
  const run = (async (file: string, args: string[]) => {
    argv.push([file, ...args]);
    const save = args.find((a) => a.startsWith('--saveEngine='))!.slice('--saveEngine='.length);
    if (code === 0) await writeFile(save, 'engine bytes');
    return { code, output: log };
  }) as RunProcess & { argv: string[][] };
  run.argv = argv;
  return run;
}

describe('trtexec command line', () => {
  it('spans the whole ladder with one profile, fp16, a timing cache and the engine path', () => {
    const profile = profileForLadder(ladderSizes([160, 224, 256, 320, 368], 16 / 9, 8), 256);
    expect(trtexecArgs({ onnxPath: '/m/lw.onnx', input: 'data', profile, precision: 'fp16', enginePath: '/e/x.engine', timingCachePath: '/e/t.cache' })).toEqual([
      '--onnx=/m/lw.onnx',
      '--minShapes=data:1x3x160x288',
      '--optShapes=data:1x3x256x456',
      '--maxShapes=data:1x3x368x656',
      '--fp16',
      '--timingCacheFile=/e/t.cache',
      '--saveEngine=/e/x.engine',
      '--warmUp=0',
      '--duration=0',
      '--iterations=1',
    ]);
    const fp32 = trtexecArgs({ onnxPath: 'a', input: 'image', profile, precision: 'fp32', enginePath: 'b', timingCachePath: 'c' });
    expect(fp32).not.toContain('--fp16');
    expect(fp32[1]).toBe('--minShapes=image:1x3x160x288');
  });

  it('finds trtexec at the JetPack path first, then on PATH', async () => {
    expect(await findTrtexec({ PATH: '/a:/b' }, async (p) => p === '/b/trtexec')).toBe('/b/trtexec');
    expect(await findTrtexec({ PATH: '/a' }, async (p) => p === '/usr/src/tensorrt/bin/trtexec' || p === '/a/trtexec')).toBe('/usr/src/tensorrt/bin/trtexec');
    expect(await findTrtexec({ PATH: '/a' }, async () => false)).toBeNull();
  });
});

describe('engine build', () => {
  const request = (outDir: string, run: RunProcess) => ({
    manifest, modelPath: '/models/lightweight-openpose-coco18.onnx', heights: [160, 224, 256, 320, 368], aspect: '16:9',
    precision: 'fp16' as const, optHeight: 256, outDir, trtexec: '/usr/src/tensorrt/bin/trtexec', identity: null, run,
    now: (() => { let t = Date.parse('2026-02-03T04:05:06Z'); return () => new Date((t += 90_000) - 90_000); })(),
  });

  it('names the engine from what trtexec reports and writes the sidecar with the exact command', async () => {
    const dir = await tempDir();
    const trtexec = fakeTrtexec(xavierLog);
    const result = await buildEngine(request(dir, trtexec));
    const base = 'lightweight-openpose-coco18.44f4a4890c76.trt8.2.1.xavier-sm72.fp16';
    expect(result.enginePath).toBe(join(dir, `${base}.engine`));
    expect((await readdir(dir)).sort()).toEqual([`${base}.engine`, `${base}.json`]);
    const sidecar = JSON.parse(await readFile(result.sidecarPath, 'utf8'));
    expect(sidecar.identity).toEqual({ tensorrt: '8.2.1', gpu: { name: 'Xavier', computeCapability: '7.2' } });
    expect(sidecar.profile).toEqual({ min: [1, 3, 160, 288], opt: [1, 3, 256, 456], max: [1, 3, 368, 656] });
    expect(sidecar.command).toEqual(trtexec.argv[0]);
    expect(sidecar.model.sha256).toBe(manifest.sha256);
    expect(sidecar.ladder).toEqual({ heights: [160, 224, 256, 320, 368], aspect: '16:9' });
    expect(sidecar.built_at).toBe('2026-02-03T04:05:06.000Z');
    expect(sidecar.build_seconds).toBe(90);
    expect(trtexec.argv).toHaveLength(1);
  });

  it('uses the addon-reported identity for the timing cache name when known', async () => {
    const dir = await tempDir();
    const trtexec = fakeTrtexec(xavierLog);
    await buildEngine({ ...request(dir, trtexec), identity: { tensorrt: '8.2.1', gpu: { name: 'Xavier', computeCapability: '7.2' } } });
    expect(trtexec.argv[0]).toContain(`--timingCacheFile=${join(dir, 'trt8.2.1.xavier-sm72.timing.cache')}`);
  });

  it('fails with trtexec output and leaves no engine behind when trtexec fails', async () => {
    const dir = await tempDir();
    await expect(buildEngine(request(dir, fakeTrtexec('[E] Error[4]: network input has dynamic shape\n&&&& FAILED', 1)))).rejects.toThrow(
      /trtexec exited with code 1:[\s\S]*FAILED/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses to name an engine whose TensorRT/GPU is unknown', async () => {
    const dir = await tempDir();
    const err = await buildEngine(request(dir, fakeTrtexec('&&&& PASSED TensorRT.trtexec [TensorRT v8201]'))).catch((e) => e);
    expect(err).toBeInstanceOf(EngineBuildError);
    expect(err.message).toMatch(/did not report its TensorRT version and GPU/);
    expect(await readdir(dir)).toEqual([]);
  });
});
