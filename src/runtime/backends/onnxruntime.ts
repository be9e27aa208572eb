// InferenceBackend over onnxruntime-node. One session serves every net size (the networks are fully
// convolutional with dynamic H/W), and per size the input and output tensors are allocated once.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  BackendUnavailableError,
  OutputShapeError,
  type BackendInfo,
  type InferenceBackend,
  type NetOutputs,
  type NetSize,
} from '../backend.js';
import type { ModelManifest } from '../manifest.js';

export type BackendLog = (level: 'info' | 'warn', msg: string) => void;

export interface OnnxRuntimeOptions {
  /** Execution providers tried in order; the first whose library loads is used. */
  providers?: string[];
  /** Intra-op threads; 0 or undefined = onnxruntime's default (one per core). */
  threads?: number;
  log?: BackendLog;
}

/** Tensors for one net size, created once and reused for every frame of that size. */
interface SizeSlot {
  input: ort.Tensor;
  inputData: Float32Array;
  fetches: Record<string, ort.Tensor>;
  outputs: NetOutputs;
}

/** onnxruntime's provider names as its profiler reports them → the names config uses. */
const profilerNames: Record<string, string> = {
  CPUExecutionProvider: 'cpu',
  CUDAExecutionProvider: 'cuda',
  TensorrtExecutionProvider: 'tensorrt',
  DmlExecutionProvider: 'dml',
  CoreMLExecutionProvider: 'coreml',
  XnnpackExecutionProvider: 'xnnpack',
};

export class OnnxRuntimeBackend implements InferenceBackend {
  private session: ort.InferenceSession | undefined;
  private manifest: ModelManifest | undefined;
  private readonly slots = new Map<string, SizeSlot>();
  private readonly providers: string[];
  private readonly threads: number;
  private readonly log: BackendLog;
  private provider = 'none';
  /** Set after the first run: providers that executed nodes, read from onnxruntime's own profile. */
  private ranOn: string[] = [];
  private profiling: string | undefined;

  constructor(opts: OnnxRuntimeOptions = {}) {
    this.providers = opts.providers?.length ? opts.providers : ['cpu'];
    this.threads = opts.threads ?? 0;
    this.log = opts.log ?? (() => {});
  }

  get info(): BackendInfo {
    const ran = this.ranOn.length ? this.ranOn.join('+') : this.provider;
    return {
      name: 'onnxruntime',
      device: ran,
      precision: 'fp32',
      detail: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common} provider=${ran} threads=${this.threads || 'auto'}`,
    };
  }

  async load(manifest: ModelManifest, modelPath: string, sizes: NetSize[]): Promise<void> {
    this.manifest = manifest;
    const failures: string[] = [];
    for (const provider of this.providers) {
      // A fresh profile directory per load: the first run's profile tells which provider really ran.
      const profileDir = await mkdtemp(join(tmpdir(), 'pafcast-ort-'));
      try {
        this.session = await ort.InferenceSession.create(modelPath, {
          executionProviders: [provider],
          ...(this.threads ? { intraOpNumThreads: this.threads } : {}),
          graphOptimizationLevel: 'all',
          enableProfiling: true,
          profileFilePrefix: join(profileDir, 'profile'),
        });
        this.provider = provider;
        this.profiling = profileDir;
        break;
      } catch (e) {
        await rm(profileDir, { recursive: true, force: true });
        failures.push(`${provider}: ${firstLine((e as Error).message)}`);
      }
    }
    if (!this.session)
      throw new BackendUnavailableError(`onnxruntime could not load ${modelPath} with any provider (${failures.join('; ')})`);
    if (failures.length)
      this.log('warn', `onnxruntime: provider(s) unavailable, using ${this.provider}: ${failures.join('; ')}`);
    this.checkNames(manifest);
    for (const size of sizes) this.slot(size);
  }

  private checkNames(m: ModelManifest): void {
    const s = this.session!;
    if (!s.inputNames.includes(m.input.name))
      throw new OutputShapeError(`model "${m.name}": input "${m.input.name}" from the manifest is not in the network (it has ${s.inputNames.join(', ')})`);
    for (const t of [m.outputs.heatmaps.tensor, m.outputs.pafs.tensor])
      if (!s.outputNames.includes(t))
        throw new OutputShapeError(`model "${m.name}": output "${t}" from the manifest is not in the network (it has ${s.outputNames.join(', ')})`);
  }

  private slot(size: NetSize): SizeSlot {
    const key = `${size.width}x${size.height}`;
    let slot = this.slots.get(key);
    if (slot) return slot;
    const m = this.manifest!;
    if (size.width % m.stride || size.height % m.stride)
      throw new RangeError(`net size ${key} is not a multiple of the stride ${m.stride}`);
    const mapWidth = size.width / m.stride;
    const mapHeight = size.height / m.stride;
    const inputData = new Float32Array(3 * size.width * size.height);
    const fetches: Record<string, ort.Tensor> = {};
    const tensors: Record<string, Float32Array> = {};
    for (const [tensor, channels] of outputChannels(m)) {
      const data = new Float32Array(channels * mapWidth * mapHeight);
      fetches[tensor] = new ort.Tensor('float32', data, [1, channels, mapHeight, mapWidth]);
      tensors[tensor] = data;
    }
    slot = {
      input: new ort.Tensor('float32', inputData, [1, 3, size.height, size.width]),
      inputData,
      fetches,
      outputs: { tensors, mapWidth, mapHeight },
    };
    this.slots.set(key, slot);
    return slot;
  }

  input(size: NetSize): Float32Array {
    return this.slot(size).inputData;
  }

  async run(size: NetSize): Promise<NetOutputs> {
    const session = this.session;
    if (!session) throw new BackendUnavailableError('onnxruntime backend used before load()');
    const slot = this.slot(size);
    try {
      // Pre-allocated fetches: onnxruntime writes the maps into our buffers.
      await session.run({ [this.manifest!.input.name]: slot.input }, slot.fetches);
    } catch (e) {
      const msg = firstLine((e as Error).message);
      if (/shape|dimension/i.test(msg))
        throw new OutputShapeError(`model "${this.manifest!.name}" at ${size.width}x${size.height}: the network's outputs do not match the manifest (${msg})`);
      throw e;
    }
    if (this.profiling) await this.readProfile();
    return slot.outputs;
  }

  /** Reads which providers executed nodes in the first run, then switches profiling off for good. */
  private async readProfile(): Promise<void> {
    const dir = this.profiling!;
    this.profiling = undefined;
    try {
      this.session!.endProfiling();
      const files = await readdir(dir);
      const events = JSON.parse(await readFile(join(dir, files[0]!), 'utf8')) as Array<{ args?: { provider?: string } }>;
      const seen = new Set<string>();
      for (const e of events) if (e.args?.provider) seen.add(profilerNames[e.args.provider] ?? e.args.provider);
      this.ranOn = [...seen];
    } catch (e) {
      this.log('warn', `onnxruntime: could not read the provider profile (${(e as Error).message}); reporting the requested provider`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async dispose(): Promise<void> {
    if (this.profiling) await rm(this.profiling, { recursive: true, force: true });
    await this.session?.release();
    this.session = undefined;
    this.slots.clear();
  }
}

/** Output tensors and their channel counts (heatmaps and PAFs may share one tensor). */
function outputChannels(m: ModelManifest): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of [m.outputs.heatmaps, m.outputs.pafs])
    out.set(s.tensor, Math.max(out.get(s.tensor) ?? 0, s.offset + s.channels));
  return out;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
