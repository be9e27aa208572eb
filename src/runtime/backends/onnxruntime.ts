// InferenceBackend over onnxruntime-node. One session serves every net size (the networks are fully
// convolutional with dynamic H/W); per size the input and output buffers are allocated once. The
// session lives in a worker thread (onnxruntime-worker.js says why), so inference never blocks the
// agent's event loop; buffers are SharedArrayBuffers both threads see.

import { Worker } from 'node:worker_threads';
import {
  BackendUnavailableError,
  OutputShapeError,
  type BackendInfo,
  type InferenceBackend,
  type NetOutputs,
  type NetSize,
} from '../backend.js';
import type { ModelManifest } from '../manifest.js';
import { disableOnnxRuntimeTelemetry } from './ort-env.js';

export type BackendLog = (level: 'info' | 'warn', msg: string) => void;

export interface OnnxRuntimeOptions {
  /** Execution providers tried in order; the first whose library loads is used. */
  providers?: string[];
  /** Intra-op threads; 0 or undefined = onnxruntime's default (one per core). */
  threads?: number;
  log?: BackendLog;
}

/** Buffers for one net size, created once and reused for every frame of that size. */
interface SizeSlot {
  key: string;
  input: Float32Array;
  outputs: NetOutputs;
}

interface WorkerReply {
  id: number;
  ok: boolean;
  message?: string;
  provider?: string | null;
  failures?: string[];
  inputNames?: string[];
  outputNames?: string[];
  version?: string;
  ranOn?: string[];
  profileError?: string;
}

const sharedFloats = (n: number) => new Float32Array(new SharedArrayBuffer(n * Float32Array.BYTES_PER_ELEMENT));

export class OnnxRuntimeBackend implements InferenceBackend {
  private worker: Worker | undefined;
  private manifest: ModelManifest | undefined;
  private readonly slots = new Map<string, SizeSlot>();
  private readonly providers: string[];
  private readonly threads: number;
  private readonly log: BackendLog;
  private provider = 'none';
  private version = '';
  /** Set after the first run: providers that executed nodes, read from onnxruntime's own profile. */
  private ranOn: string[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

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
      detail: `onnxruntime-node ${this.version} provider=${ran} threads=${this.threads || 'auto'}`,
    };
  }

  private startWorker(): Worker {
    disableOnnxRuntimeTelemetry();
    const worker = new Worker(new URL('./onnxruntime-worker.js', import.meta.url));
    worker.on('message', (reply: WorkerReply) => {
      const resolve = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      resolve?.(reply);
    });
    // Only a call in flight keeps the process alive: a runtime nobody disposed must not hang an exit.
    worker.unref();
    // A dead worker fails every waiting call instead of leaving it hanging.
    const fail = (message: string) => {
      for (const [id, resolve] of this.pending) resolve({ id, ok: false, message });
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', (e) => fail(`onnxruntime worker failed: ${e.message}`));
    worker.on('exit', (code) => fail(`onnxruntime worker exited (${code})`));
    return worker;
  }

  private call(msg: Record<string, unknown>): Promise<WorkerReply> {
    const worker = this.worker;
    if (!worker) return Promise.resolve({ id: -1, ok: false, message: 'onnxruntime backend used before load() or after dispose()' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, resolve);
      worker.postMessage({ ...msg, id });
    });
  }

  async load(manifest: ModelManifest, modelPath: string, sizes: NetSize[]): Promise<void> {
    this.manifest = manifest;
    this.worker ??= this.startWorker();
    const reply = await this.call({ type: 'load', modelPath, providers: this.providers, threads: this.threads, input: manifest.input.name });
    if (!reply.ok || !reply.provider) {
      await this.dispose();
      const why = reply.ok ? (reply.failures ?? []).join('; ') : reply.message;
      throw new BackendUnavailableError(`onnxruntime could not load ${modelPath} with any provider (${why})`);
    }
    this.provider = reply.provider;
    this.version = reply.version ?? '';
    if (reply.failures?.length)
      this.log('warn', `onnxruntime: provider(s) unavailable, using ${this.provider}: ${reply.failures.join('; ')}`);
    try {
      this.checkNames(manifest, reply.inputNames ?? [], reply.outputNames ?? []);
      for (const size of sizes) this.slot(size);
    } catch (e) {
      await this.dispose();
      throw e;
    }
  }

  private checkNames(m: ModelManifest, inputs: string[], outputs: string[]): void {
    if (!inputs.includes(m.input.name))
      throw new OutputShapeError(`model "${m.name}": input "${m.input.name}" from the manifest is not in the network (it has ${inputs.join(', ')})`);
    for (const t of [m.outputs.heatmaps.tensor, m.outputs.pafs.tensor])
      if (!outputs.includes(t))
        throw new OutputShapeError(`model "${m.name}": output "${t}" from the manifest is not in the network (it has ${outputs.join(', ')})`);
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
    const input = sharedFloats(3 * size.width * size.height);
    const tensors: Record<string, Float32Array> = {};
    const outputs: Array<{ name: string; shared: Float32Array; dims: number[] }> = [];
    for (const [name, channels] of outputChannels(m)) {
      const shared = sharedFloats(channels * mapWidth * mapHeight);
      tensors[name] = shared;
      outputs.push({ name, shared, dims: [1, channels, mapHeight, mapWidth] });
    }
    // Registered with the worker before any run of this size (messages are handled in order).
    void this.call({ type: 'slot', key, input: { shared: input, dims: [1, 3, size.height, size.width] }, outputs });
    slot = { key, input, outputs: { tensors, mapWidth, mapHeight } };
    this.slots.set(key, slot);
    return slot;
  }

  input(size: NetSize): Float32Array {
    return this.slot(size).input;
  }

  async run(size: NetSize): Promise<NetOutputs> {
    const slot = this.slot(size);
    const reply = await this.call({ type: 'run', key: slot.key });
    if (!reply.ok) {
      const msg = reply.message ?? 'unknown error';
      if (/shape|dimension/i.test(msg))
        throw new OutputShapeError(`model "${this.manifest!.name}" at ${slot.key}: the network's outputs do not match the manifest (${msg})`);
      throw new Error(`onnxruntime: ${msg}`);
    }
    if (reply.ranOn) this.ranOn = reply.ranOn;
    if (reply.profileError) this.log('warn', `onnxruntime: could not read the provider profile (${reply.profileError}); reporting the requested provider`);
    return slot.outputs;
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.call({ type: 'release' });
    this.worker = undefined;
    await worker.terminate();
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
