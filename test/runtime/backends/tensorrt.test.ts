import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, OutputShapeError } from '../../../src/runtime/backend.js';
import { loadTrtAddon, TensorRtBackend } from '../../../src/runtime/backends/tensorrt.js';
import { ladderSizes } from '../../../src/runtime/engines/ladder.js';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { fakeTrtAddon } from './fake-trt-addon.js';

const manifest = loadManifest('lightweight-openpose-coco18');
const sizes = ladderSizes([160, 256, 368], 16 / 9, 8);

async function loaded(addon = fakeTrtAddon()) {
  const backend = new TensorRtBackend({ addon, enginePath: '/e/lw.engine', precision: 'fp16' });
  await backend.load(manifest, '/m/lw.onnx', sizes);
  return { backend, addon };
}

describe('TensorRtBackend over the addon', () => {
  it('allocates one buffer per tensor, sized for the largest ladder size, and binds it once', async () => {
    const { addon } = await loaded();
    const [largest] = [{ h: 368, w: 656 }];
    expect(addon.allocations).toEqual([
      3 * largest.h * largest.w * 4,
      19 * (largest.h / 8) * (largest.w / 8) * 4,
      38 * (largest.h / 8) * (largest.w / 8) * 4,
    ]);
    expect(addon.calls.filter((c) => c.startsWith('bind('))).toEqual([
      `bind(data,${3 * 368 * 656 * 4})`,
      `bind(heatmaps,${19 * 46 * 82 * 4})`,
      `bind(pafs,${38 * 46 * 82 * 4})`,
    ]);
  });

  it('runs frames without allocating, selecting the shape only when the size changes', async () => {
    const { backend, addon } = await loaded();
    const before = addon.calls.length;
    const small = sizes[0];
    backend.input(small)[0] = 41;
    const out = await backend.run(small);
    await backend.run(small);
    await backend.run(sizes[2]);
    expect(addon.calls.slice(before)).toEqual(['setInputShape(data,1x3x160x288)', 'run(1x3x160x288)', 'run(1x3x160x288)', 'setInputShape(data,1x3x368x656)', 'run(1x3x368x656)']);
    expect(addon.allocations).toHaveLength(3);
    // Outputs are views of the bound buffers, sized for this net size.
    expect(out.mapHeight).toBe(20);
    expect(out.mapWidth).toBe(36);
    expect(out.tensors.heatmaps.length).toBe(19 * 20 * 36);
    expect(out.tensors.pafs.length).toBe(38 * 20 * 36);
    expect(backend.input(small).length).toBe(3 * 160 * 288);
    expect(backend.input(small).buffer).toBe(backend.input(sizes[2]).buffer);
  });

  it('hands back what the engine wrote into the caller-visible output buffer', async () => {
    const { backend } = await loaded();
    backend.input(sizes[1])[0] = 6;
    const out = await backend.run(sizes[1]);
    expect(out.tensors.heatmaps[0]).toBe(7);
    expect(out.tensors.heatmaps[out.tensors.heatmaps.length - 1]).toBe(7);
  });

  it('reports the GPU, TensorRT versions and engine in info', async () => {
    const { backend } = await loaded();
    expect(backend.info).toEqual({
      name: 'tensorrt',
      device: 'Orin (sm87, mapped host memory)',
      precision: 'fp16',
      detail: 'TensorRT 8.5.2 (named-tensors API, addon built with 8.5.2), engine lw.engine',
    });
  });

  it('rejects sizes it was not loaded for', async () => {
    const { backend } = await loaded();
    expect(() => backend.input({ height: 224, width: 400 })).toThrow(/224x400 was not in the sizes given to load/);
  });

  it('refuses an engine whose outputs disagree with the manifest', async () => {
    const backend = new TensorRtBackend({ addon: fakeTrtAddon({ heatmapChannels: 18 }), enginePath: '/e/x.engine', precision: 'fp16' });
    await expect(backend.load(manifest, '', sizes)).rejects.toThrow(OutputShapeError);
    const wrongInput = new TensorRtBackend({ addon: fakeTrtAddon({ inputName: 'image' }), enginePath: '/e/x.engine', precision: 'fp16' });
    await expect(wrongInput.load(manifest, '', sizes)).rejects.toThrow(/has no input "data" \(inputs: image\)/);
  });

  it('says which size falls outside the engine profile', async () => {
    const addon = fakeTrtAddon({ profile: { min: [1, 3, 160, 288], opt: [1, 3, 256, 456], max: [1, 3, 256, 456] } });
    const backend = new TensorRtBackend({ addon, enginePath: '/e/x.engine', precision: 'fp16' });
    const err = await backend.load(manifest, '', sizes).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toMatch(/cannot run 368x656: shape 1x3x368x656 is outside/);
  });

  it('turns an engine that does not deserialise into a BackendUnavailableError', async () => {
    const backend = new TensorRtBackend({ addon: fakeTrtAddon({ engineError: 'cannot deserialise (built by another TensorRT version or for another GPU?)' }), enginePath: '/e/x.engine', precision: 'fp16' });
    await expect(backend.load(manifest, '', sizes)).rejects.toThrow(/TensorRT engine \/e\/x.engine does not load: cannot deserialise/);
  });
});

describe('loading the native addon', () => {
  it('explains a missing addon and how to build it', () => {
    expect(() => loadTrtAddon('/nonexistent/pafcast_trt.node')).toThrow(BackendUnavailableError);
    expect(() => loadTrtAddon('/nonexistent/pafcast_trt.node')).toThrow(
      'TensorRT addon not built (/nonexistent/pafcast_trt.node missing); on a Jetson build it with scripts/build-tensorrt-addon.sh (needs the TensorRT headers and libnvinfer from JetPack)',
    );
  });

  it('explains an addon file that does not load', async () => {
    // A .node file that is no shared object stands in for an addon linked against a removed libnvinfer.
    const path = join(await mkdtemp(join(tmpdir(), 'pafcast-addon-')), 'pafcast_trt.node');
    await writeFile(path, 'not an ELF file');
    expect(() => loadTrtAddon(path)).toThrow(/pafcast_trt.node does not load: .*rebuild it with scripts\/build-tensorrt-addon.sh/);
  });
});
