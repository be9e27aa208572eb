import { describe, expect, it } from 'vitest';
import { engineBaseName, engineFileName, engineOutputDir, engineSearchDirs, sidecarFileName, timingCacheFileName } from '../../../src/runtime/engines/naming.js';

const key = {
  model: 'lightweight-openpose-coco18',
  sha256: '44f4a4890c76dec1c9fffadfffd4f9f9fcfb5cf3aace9b83266289dc0d4d7791',
  identity: { tensorrt: '8.5.2', gpu: { name: 'Orin', computeCapability: '8.7' } },
  precision: 'fp16' as const,
};

describe('engine naming', () => {
  it('names model, short sha, TensorRT version, GPU and precision', () => {
    expect(engineBaseName(key)).toBe('lightweight-openpose-coco18.44f4a4890c76.trt8.5.2.orin-sm87.fp16');
    expect(engineFileName(key)).toBe('lightweight-openpose-coco18.44f4a4890c76.trt8.5.2.orin-sm87.fp16.engine');
    expect(sidecarFileName(key)).toBe('lightweight-openpose-coco18.44f4a4890c76.trt8.5.2.orin-sm87.fp16.json');
  });

  it('gives different names to engines that cannot replace each other', () => {
    const names = new Set([
      engineBaseName(key),
      engineBaseName({ ...key, precision: 'fp32' }),
      engineBaseName({ ...key, identity: { ...key.identity, tensorrt: '10.3.0' } }),
      engineBaseName({ ...key, identity: { tensorrt: '8.5.2', gpu: { name: 'Xavier', computeCapability: '7.2' } } }),
      engineBaseName({ ...key, sha256: `0${key.sha256.slice(1)}` }),
    ]);
    expect(names.size).toBe(5);
  });

  it('shares one timing cache per TensorRT version and GPU', () => {
    expect(timingCacheFileName({ tensorrt: '8.2.1', gpu: { name: 'NVIDIA Tegra X2', computeCapability: '6.2' } })).toBe(
      'trt8.2.1.nvidia-tegra-x2-sm62.timing.cache',
    );
  });
});

describe('engine directories', () => {
  it('builds into the configured dir, else the package when writable, else the service state dir', () => {
    expect(engineOutputDir('/data/trt', () => false)).toBe('/data/trt');
    expect(engineOutputDir('', () => true)).toMatch(/models\/trt$/);
    expect(engineOutputDir('', () => false)).toBe('/var/lib/pafcast/trt');
  });

  it('searches the configured dir first, then the package, then the service state dir', () => {
    const dirs = engineSearchDirs('/data/trt');
    expect(dirs[0]).toBe('/data/trt');
    expect(dirs[1]).toMatch(/models\/trt$/);
    expect(dirs[2]).toBe('/var/lib/pafcast/trt');
    expect(engineSearchDirs('')).toHaveLength(2);
  });
});
