import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, type InferenceBackend, type NetOutputs, type NetSize } from '../../../src/runtime/backend.js';
import type { InferenceConfig } from '../../../src/runtime/backends/config-schema.js';
import type { OnnxRuntimeOptions } from '../../../src/runtime/backends/onnxruntime.js';
import { selectBackend } from '../../../src/runtime/backends/select.js';
import { ladderSizes } from '../../../src/runtime/engines/ladder.js';
import type { RunProcess } from '../../../src/runtime/engines/trtexec.js';
import { manifest, tempDir, writeEngine } from '../engines/fixtures.js';
import { fakeTrtAddon } from './fake-trt-addon.js';

const sizes = ladderSizes([160, 224, 256, 320, 368], 16 / 9, 8);

function config(backend: InferenceConfig['backend'], tensorrt: Partial<InferenceConfig['tensorrt']> = {}): InferenceConfig {
  return {
    model: manifest.name, model_path: [], height: 0, backend,
    onnxruntime: { providers: ['cpu'], threads: 2 },
    tensorrt: { engine_dir: '', precision: 'fp16', ...tensorrt },
    parser: {},
  };
}

/** Records what selectBackend does with the onnxruntime backend, without loading onnxruntime. */
function fakeOrt() {
  const made: Array<{ opts: OnnxRuntimeOptions; loads: NetSize[][]; runs: string[] }> = [];
  const create = (opts: OnnxRuntimeOptions): InferenceBackend => {
    const record = { opts, loads: [] as NetSize[][], runs: [] as string[] };
    made.push(record);
    return {
      info: { name: 'onnxruntime', device: 'cpu', precision: 'fp32', detail: 'fake' },
      async load(_m, _p, s) { record.loads.push(s); },
      input: (s) => new Float32Array(3 * s.height * s.width),
      async run(s) { record.runs.push(`${s.height}x${s.width}`); return { tensors: {}, mapWidth: 0, mapHeight: 0 } as NetOutputs; },
      async dispose() {},
    };
  };
  return { made, create };
}

function logger() {
  const lines: string[] = [];
  return { lines, log: (level: 'info' | 'warn', msg: string) => lines.push(`${level}: ${msg}`) };
}

/** A clock that advances 12.5 ms per reading, so the logged inference time is known. */
function clock() {
  let t = 0;
  return () => (t += 12.5);
}

describe('selectBackend', () => {
  it('auto: takes TensorRT when the addon loads and a matching engine exists, and logs one line', async () => {
    const dir = await tempDir();
    const sc = await writeEngine(dir);
    const addon = fakeTrtAddon();
    const ort = fakeOrt();
    const { lines, log } = logger();
    const { backend, reason } = await selectBackend({
      inference: config('auto'), manifest, modelPath: '/m/lw.onnx', sizes, log,
      addonLoader: () => addon, createOnnxRuntime: ort.create, engineDirs: [dir], now: clock(),
    });
    expect(backend.info.name).toBe('tensorrt');
    expect(ort.made).toHaveLength(0);
    expect(addon.calls).toContain(`Engine(${join(dir, sc.engine)})`);
    // Every ladder size was checked against the engine, then warm-up and timed runs at the largest.
    expect(addon.calls.filter((c) => c.startsWith('setInputShape')).slice(0, 5)).toEqual(sizes.map((s) => `setInputShape(data,1x3x${s.height}x${s.width})`));
    expect(addon.calls.at(-1)).toBe('run(1x3x368x656)');
    expect(lines).toEqual([
      `info: inference backend: tensorrt, fp16 on Orin (sm87, mapped host memory) (auto: engine ${sc.engine} matches TensorRT 8.5.2 on Orin (sm87)); inference at 368x656: 12.5 ms`,
    ]);
    expect(reason).toBe(lines[0].slice('info: '.length));
  });

  it('auto: falls back to onnxruntime when the addon is missing, saying why', async () => {
    const ort = fakeOrt();
    const { lines, log } = logger();
    const { backend } = await selectBackend({
      inference: config('auto'), manifest, modelPath: '/m/lw.onnx', sizes, log,
      addonLoader: () => { throw new BackendUnavailableError('TensorRT addon not built (x missing)'); },
      createOnnxRuntime: ort.create, engineDirs: [], now: clock(),
    });
    expect(backend.info.name).toBe('onnxruntime');
    expect(ort.made).toHaveLength(1);
    expect(ort.made[0].opts.providers).toEqual(['cpu']);
    expect(ort.made[0].opts.threads).toBe(2);
    expect(ort.made[0].loads).toEqual([sizes]);
    expect(ort.made[0].runs).toEqual(['368x656', '368x656']);
    expect(lines).toEqual([
      'warn: inference backend: onnxruntime on cpu (auto: TensorRT not used: TensorRT addon not built (x missing)); inference at 368x656: 12.5 ms',
    ]);
  });

  it('auto: falls back when no engine matches, with the command that builds one', async () => {
    const dir = await tempDir();
    await writeEngine(dir, { identity: { tensorrt: '8.2.1', gpu: { name: 'Orin', computeCapability: '8.7' } } });
    const addon = fakeTrtAddon();
    const { lines, log } = logger();
    await selectBackend({
      inference: config('auto'), manifest, modelPath: '/m/lw.onnx', sizes, log,
      addonLoader: () => addon, createOnnxRuntime: fakeOrt().create, engineDirs: [dir], now: clock(),
    });
    expect(addon.calls).toEqual(['info']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('no usable engine for lightweight-openpose-coco18 for TensorRT 8.5.2 on Orin (sm87), fp16; build one with: ' +
      'pafcast engines build --model lightweight-openpose-coco18 --heights 160,224,256,320,368 --precision fp16 --aspect 16:9');
    expect(lines[0]).toContain('stale: TensorRT changed: built with 8.2.1, running 8.5.2');
  });

  it('tensorrt: an explicit choice never falls back; the error says what is missing', async () => {
    const ort = fakeOrt();
    const err = await selectBackend({
      inference: config('tensorrt'), manifest, modelPath: '/m/lw.onnx', sizes, log: () => {},
      addonLoader: () => fakeTrtAddon(), createOnnxRuntime: ort.create, engineDirs: [await tempDir()],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toMatch(/^no engine built for lightweight-openpose-coco18 for TensorRT 8.5.2 on Orin \(sm87\), fp16; build one with: pafcast engines build/);
    expect(ort.made).toHaveLength(0);
  });

  it('onnxruntime: never touches the TensorRT addon', async () => {
    let loaderCalls = 0;
    const { lines, log } = logger();
    const { backend } = await selectBackend({
      inference: config('onnxruntime'), manifest, modelPath: '/m/lw.onnx', sizes, log,
      addonLoader: () => { loaderCalls++; return fakeTrtAddon(); }, createOnnxRuntime: fakeOrt().create, now: clock(),
    });
    expect(loaderCalls).toBe(0);
    expect(backend.info.name).toBe('onnxruntime');
    expect(lines).toEqual(['info: inference backend: onnxruntime on cpu (config asks for onnxruntime); inference at 368x656: 12.5 ms']);
  });

  it('auto: a GPU-less addon (no CUDA device) falls back with the CUDA error', async () => {
    const addon = fakeTrtAddon();
    addon.info = () => { throw new Error('no usable CUDA device: cudaGetDevice: no CUDA-capable device is detected'); };
    const { lines, log } = logger();
    await selectBackend({ inference: config('auto'), manifest, modelPath: '', sizes, log, addonLoader: () => addon, createOnnxRuntime: fakeOrt().create, engineDirs: [] });
    expect(lines[0]).toMatch(/TensorRT not used: TensorRT addon loads but reports no GPU: no usable CUDA device/);
  });

  it('build_missing: builds the engine with trtexec, then runs on it', async () => {
    const dir = await tempDir();
    const argv: string[][] = [];
    const run: RunProcess = async (file, args) => {
      argv.push([file, ...args]);
      await writeFile(args.find((a) => a.startsWith('--saveEngine='))!.slice(13), 'engine');
      return { code: 0, output: '[I] Selected Device: Orin\n[I] Compute Capability: 8.7\n[I] TensorRT version: 8.5.2\n' };
    };
    const { lines, log } = logger();
    const { backend } = await selectBackend({
      inference: config('auto', { build_missing: true }), manifest, modelPath: '/m/lw.onnx', sizes, log,
      addonLoader: () => fakeTrtAddon(), createOnnxRuntime: fakeOrt().create, engineDirs: [dir], runProcess: run, trtexecPath: '/usr/src/tensorrt/bin/trtexec', now: clock(),
    });
    expect(argv).toHaveLength(1);
    expect(argv[0]).toContain('--maxShapes=data:1x3x368x656');
    expect(backend.info.name).toBe('tensorrt');
    expect(lines[0]).toMatch(/^info: building a TensorRT engine/);
    expect(lines[1]).toMatch(/matches TensorRT 8.5.2 on Orin \(sm87\), built now\)/);
  });
});
