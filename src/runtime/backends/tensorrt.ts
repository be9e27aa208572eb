// InferenceBackend over pafcast's TensorRT addon (native/tensorrt). The addon is optional and built
// only on machines with TensorRT, so it is loaded at run time and a missing or broken addon becomes
// a BackendUnavailableError that says why and how to build it.
// Buffers: per tensor one pinned buffer sized for the largest ladder size is allocated and bound at
// load(); each ladder size gets Float32Array views of it, so a frame allocates nothing.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { BackendUnavailableError, OutputShapeError, type BackendInfo, type InferenceBackend, type NetOutputs, type NetSize } from '../backend.js';
import type { ModelManifest } from '../manifest.js';
import { packageRoot } from '../package-root.js';
import type { TrtIdentity } from '../engines/identity.js';
import { formatSize } from '../engines/ladder.js';
import type { EnginePrecision } from '../engines/naming.js';

/** What `info()` of the addon answers. */
export interface TrtAddonInfo {
  /** TensorRT version of the headers the addon was compiled against. */
  compiledWith: string;
  /** TensorRT version of the libnvinfer loaded now. */
  runtime: string;
  api: 'bindings' | 'named-tensors';
  gpu: { name: string; computeCapability: string; integrated: boolean };
}

export interface TrtTensorDesc {
  name: string;
  input: boolean;
  /** Engine dims, -1 where the size is chosen at run time. */
  dims: number[];
  profile?: { min: number[]; opt: number[]; max: number[] };
}

/** One engine + execution context + CUDA stream inside the addon. */
export interface TrtEngineHandle {
  tensors(): TrtTensorDesc[];
  /** Pinned host memory (mapped into the GPU on integrated boards). */
  allocate(bytes: number): ArrayBuffer;
  bind(tensor: string, buffer: ArrayBuffer): void;
  /** Selects the input shape; answers every tensor's shape at that input shape. */
  setInputShape(tensor: string, dims: number[]): Record<string, number[]>;
  run(): Promise<void>;
  dispose(): void;
}

/** The addon module's exports (native/tensorrt/src/addon.cc); tests inject a stand-in with this shape. */
export interface TrtAddon {
  info(): TrtAddonInfo;
  Engine: new (enginePath: string) => TrtEngineHandle;
}

export const TRT_ADDON_PATH = join(packageRoot, 'native', 'tensorrt', 'build', 'Release', 'pafcast_trt.node');

/** Loads the compiled addon, or throws a BackendUnavailableError saying why it is not usable. */
export function loadTrtAddon(path = TRT_ADDON_PATH): TrtAddon {
  if (!existsSync(path))
    throw new BackendUnavailableError(
      `TensorRT addon not built (${path} missing); on a Jetson build it with scripts/build-tensorrt-addon.sh (needs the TensorRT headers and libnvinfer from JetPack)`,
    );
  try {
    return createRequire(import.meta.url)(path) as TrtAddon;
  } catch (e) {
    throw new BackendUnavailableError(
      `TensorRT addon ${path} does not load: ${(e as Error).message.split('\n')[0]}; if TensorRT was upgraded, rebuild it with scripts/build-tensorrt-addon.sh`,
    );
  }
}

/** The running TensorRT + GPU as the addon reports them (throws when there is no CUDA device). */
export function identityOf(addon: TrtAddon): TrtIdentity {
  const info = addon.info();
  return { tensorrt: info.runtime, gpu: { name: info.gpu.name, computeCapability: info.gpu.computeCapability } };
}

interface SizeSlot {
  size: NetSize;
  input: Float32Array;
  outputs: NetOutputs;
}

const key = (s: NetSize) => `${s.height}x${s.width}`;
const volume = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

export interface TensorRtBackendOptions {
  addon: TrtAddon;
  enginePath: string;
  precision: EnginePrecision;
}

export class TensorRtBackend implements InferenceBackend {
  private engine: TrtEngineHandle | undefined;
  private readonly slots = new Map<string, SizeSlot>();
  private inputName = '';
  private current = '';
  private infoValue: BackendInfo;

  constructor(private readonly opts: TensorRtBackendOptions) {
    this.infoValue = { name: 'tensorrt', device: 'not loaded', precision: opts.precision, detail: basename(opts.enginePath) };
  }

  get info(): BackendInfo {
    return this.infoValue;
  }

  async load(manifest: ModelManifest, _modelPath: string, sizes: NetSize[]): Promise<void> {
    const addonInfo = this.opts.addon.info();
    let engine: TrtEngineHandle;
    try {
      engine = new this.opts.addon.Engine(this.opts.enginePath);
    } catch (e) {
      throw new BackendUnavailableError(`TensorRT engine ${this.opts.enginePath} does not load: ${(e as Error).message}`);
    }
    this.engine = engine;
    const tensors = engine.tensors();
    const input = tensors.find((t) => t.input && t.name === manifest.input.name);
    if (!input?.profile)
      throw new OutputShapeError(`engine ${basename(this.opts.enginePath)} has no input "${manifest.input.name}" (inputs: ${tensors.filter((t) => t.input).map((t) => t.name).join(', ')})`);
    this.inputName = input.name;
    const outputs = tensors.filter((t) => !t.input);
    for (const slice of [manifest.outputs.heatmaps, manifest.outputs.pafs])
      if (!outputs.some((t) => t.name === slice.tensor))
        throw new OutputShapeError(`engine has no output "${slice.tensor}" (outputs: ${outputs.map((t) => t.name).join(', ')})`);

    // Ask the engine for every size's output shapes first, so buffers are sized once for the largest.
    const shapes = new Map<string, Record<string, number[]>>();
    for (const size of sizes) {
      let answer: Record<string, number[]>;
      try {
        answer = engine.setInputShape(input.name, [1, 3, size.height, size.width]);
      } catch (e) {
        throw new BackendUnavailableError(`engine ${basename(this.opts.enginePath)} cannot run ${formatSize(size)}: ${(e as Error).message}`);
      }
      this.checkShapes(manifest, size, answer);
      shapes.set(key(size), answer);
    }
    const buffers = new Map<string, ArrayBuffer>();
    for (const t of tensors) {
      const bytes = Math.max(...[...shapes.values()].map((s) => volume(s[t.name]))) * Float32Array.BYTES_PER_ELEMENT;
      const buf = engine.allocate(bytes);
      engine.bind(t.name, buf);
      buffers.set(t.name, buf);
    }
    for (const size of sizes) {
      const s = shapes.get(key(size))!;
      const tensorViews: Record<string, Float32Array> = {};
      for (const t of outputs) tensorViews[t.name] = new Float32Array(buffers.get(t.name)!, 0, volume(s[t.name]));
      const hm = s[manifest.outputs.heatmaps.tensor];
      this.slots.set(key(size), {
        size,
        input: new Float32Array(buffers.get(input.name)!, 0, volume(s[input.name])),
        outputs: { tensors: tensorViews, mapHeight: hm[2], mapWidth: hm[3] },
      });
    }
    this.current = '';
    this.infoValue = {
      name: 'tensorrt',
      device: `${addonInfo.gpu.name} (sm${addonInfo.gpu.computeCapability.replace('.', '')}${addonInfo.gpu.integrated ? ', mapped host memory' : ''})`,
      precision: this.opts.precision,
      detail: `TensorRT ${addonInfo.runtime} (${addonInfo.api} API, addon built with ${addonInfo.compiledWith}), engine ${basename(this.opts.enginePath)}`,
    };
  }

  private checkShapes(manifest: ModelManifest, size: NetSize, shapes: Record<string, number[]>): void {
    const mapH = size.height / manifest.stride;
    const mapW = size.width / manifest.stride;
    for (const [group, slice] of Object.entries(manifest.outputs)) {
      const dims = shapes[slice.tensor];
      if (!dims || dims.length !== 4 || dims[1] < slice.offset + slice.channels || dims[2] !== mapH || dims[3] !== mapW)
        throw new OutputShapeError(
          `engine output "${slice.tensor}" at ${formatSize(size)} is [${dims?.join(', ')}], the manifest's ${group} need ` +
          `[1, >=${slice.offset + slice.channels}, ${mapH}, ${mapW}]`,
        );
    }
  }

  private slot(size: NetSize): SizeSlot {
    const slot = this.slots.get(key(size));
    if (!slot) throw new Error(`net size ${formatSize(size)} was not in the sizes given to load() (${[...this.slots.keys()].join(', ')})`);
    return slot;
  }

  input(size: NetSize): Float32Array {
    return this.slot(size).input;
  }

  async run(size: NetSize): Promise<NetOutputs> {
    const slot = this.slot(size);
    const engine = this.engine!;
    const k = key(size);
    // Selecting a shape inside the profile is cheap, but there is no need to repeat it every frame.
    if (this.current !== k) {
      engine.setInputShape(this.inputName, [1, 3, size.height, size.width]);
      this.current = k;
    }
    await engine.run();
    return slot.outputs;
  }

  async dispose(): Promise<void> {
    this.engine?.dispose();
    this.engine = undefined;
    this.slots.clear();
  }
}
