// A stand-in for native/tensorrt's addon: same exports, no GPU. It records every call so tests can
// check what the backend asks of the addon, and its run() writes values derived from the input into
// the bound output buffers so tests can see data flow through the caller-owned memory.

import type { TrtAddon, TrtAddonInfo, TrtEngineHandle, TrtTensorDesc } from '../../../src/runtime/backends/tensorrt.js';

export interface FakeAddonOptions {
  info?: Partial<TrtAddonInfo>;
  /** Profile of the engine input (NCHW); default spans 160x288 .. 368x656. */
  profile?: { min: number[]; opt: number[]; max: number[] };
  inputName?: string;
  /** Heatmap channels the fake engine reports (19 matches the COCO-18 manifests). */
  heatmapChannels?: number;
  /** Throw from the Engine constructor (e.g. "engine built by another TensorRT"). */
  engineError?: string;
}

export interface FakeAddon extends TrtAddon {
  calls: string[];
  allocations: number[];
}

export function fakeTrtAddon(opts: FakeAddonOptions = {}): FakeAddon {
  const calls: string[] = [];
  const allocations: number[] = [];
  const info: TrtAddonInfo = {
    compiledWith: '8.5.2',
    runtime: '8.5.2',
    api: 'named-tensors',
    gpu: { name: 'Orin', computeCapability: '8.7', integrated: true },
    ...opts.info,
  };
  const profile = opts.profile ?? { min: [1, 3, 160, 288], opt: [1, 3, 256, 456], max: [1, 3, 368, 656] };
  const inputName = opts.inputName ?? 'data';
  const hmChannels = opts.heatmapChannels ?? 19;

  class FakeEngine implements TrtEngineHandle {
    private shape: number[] | null = null;
    private readonly bound = new Map<string, ArrayBuffer>();
    constructor(path: string) {
      calls.push(`Engine(${path})`);
      if (opts.engineError) throw new Error(opts.engineError);
    }
    tensors(): TrtTensorDesc[] {
      calls.push('tensors');
      return [
        { name: inputName, input: true, dims: [1, 3, -1, -1], profile },
        { name: 'heatmaps', input: false, dims: [1, hmChannels, -1, -1] },
        { name: 'pafs', input: false, dims: [1, 38, -1, -1] },
      ];
    }
    private shapes(dims: number[]): Record<string, number[]> {
      const [, , h, w] = dims;
      return { [inputName]: dims, heatmaps: [1, hmChannels, h / 8, w / 8], pafs: [1, 38, h / 8, w / 8] };
    }
    allocate(bytes: number): ArrayBuffer {
      calls.push(`allocate(${bytes})`);
      allocations.push(bytes);
      return new ArrayBuffer(bytes);
    }
    bind(name: string, buffer: ArrayBuffer): void {
      calls.push(`bind(${name},${buffer.byteLength})`);
      this.bound.set(name, buffer);
    }
    setInputShape(name: string, dims: number[]): Record<string, number[]> {
      calls.push(`setInputShape(${name},${dims.join('x')})`);
      const inside = dims.every((d, i) => d >= profile.min[i] && d <= profile.max[i]);
      if (!inside) throw new Error(`shape ${dims.join('x')} is outside the engine's profile`);
      this.shape = dims;
      return this.shapes(dims);
    }
    async run(): Promise<void> {
      calls.push(`run(${this.shape?.join('x')})`);
      if (!this.shape) throw new Error('input shape not set before run');
      const s = this.shapes(this.shape);
      // As the real addon (engine_session.cc): a bound buffer smaller than the current shape needs is refused, never overrun.
      for (const [name, dims] of Object.entries(s)) {
        const buf = this.bound.get(name);
        if (!buf) throw new Error(`tensor ${name} has no buffer bound`);
        if (buf.byteLength < dims.reduce((a, b) => a * b, 1) * 4) throw new Error(`buffer bound to ${name} is smaller than the current shape needs`);
      }
      const input = new Float32Array(this.bound.get(inputName)!, 0, 3 * this.shape[2] * this.shape[3]);
      const hm = new Float32Array(this.bound.get('heatmaps')!, 0, s.heatmaps.reduce((a, b) => a * b, 1));
      hm.fill(input[0] + 1);
    }
    dispose(): void {
      calls.push('dispose');
    }
  }

  return {
    calls,
    allocations,
    info() {
      calls.push('info');
      return info;
    },
    Engine: FakeEngine,
  };
}
