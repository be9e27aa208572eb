import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGpuLoadPath, parseGpuLoad, readGpuLoad } from '../../src/telemetry/gpu-load.js';
import { boardRoot } from './paths.js';

describe('GPU load from sysfs', () => {
  const cases: Array<[string, string, number]> = [
    ['tx2-jp46', 'sys/devices/gpu.0/load', 31.2],
    // Xavier has both files; platform/gpu.0 is preferred.
    ['xavier-jp51', 'sys/devices/platform/gpu.0/load', 32],
    ['orin-nano-jp6', 'sys/devices/platform/gpu.0/load', 63],
    ['agx-orin-jp5', 'sys/devices/platform/gpu.0/load', 0],
    ['agx-orin-jp6', 'sys/devices/platform/gpu.0/load', 39],
  ];
  it.each(cases)('%s: finds %s and reads %f %%', async (board, rel, pct) => {
    const path = await findGpuLoadPath(boardRoot(board));
    expect(path).toBe(join(boardRoot(board), rel));
    expect(await readGpuLoad(path!)).toBe(pct);
  });

  it('falls back to the JP6 bus address, then to a devfreq device whose of_node is an iGPU', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pafcast-gpu-'));
    const devfreq = join(root, 'sys/class/devfreq');
    // A non-GPU devfreq device first (sorted order), which must be skipped.
    await mkdir(join(devfreq, '13e40000.host1x/device/of_node'), { recursive: true });
    await writeFile(join(devfreq, '13e40000.host1x/device/of_node/name'), 'host1x\0');
    await writeFile(join(devfreq, '13e40000.host1x/device/load'), '999\n');
    await mkdir(join(devfreq, '17000000.ga10b/device/of_node'), { recursive: true });
    await writeFile(join(devfreq, '17000000.ga10b/device/of_node/name'), 'ga10b\0');
    await writeFile(join(devfreq, '17000000.ga10b/device/load'), '774\n');
    const viaDevfreq = await findGpuLoadPath(root);
    expect(viaDevfreq).toBe(join(devfreq, '17000000.ga10b/device/load'));
    expect(await readGpuLoad(viaDevfreq!)).toBe(77.4);

    await mkdir(join(root, 'sys/devices/platform/bus@0/17000000.gpu'), { recursive: true });
    await writeFile(join(root, 'sys/devices/platform/bus@0/17000000.gpu/load'), '5\n');
    expect(await findGpuLoadPath(root)).toBe(join(root, 'sys/devices/platform/bus@0/17000000.gpu/load'));
  });

  it('null when no load file exists; per-mille parsing', async () => {
    expect(await findGpuLoadPath(join(tmpdir(), 'pafcast-nothing-here'))).toBeNull();
    expect(await readGpuLoad(join(tmpdir(), 'pafcast-nothing-here/load'))).toBeNull();
    expect(parseGpuLoad('150\n')).toBe(15);
    expect(parseGpuLoad('1000')).toBe(100);
    expect(parseGpuLoad('')).toBeNull();
    expect(parseGpuLoad('-1')).toBeNull();
  });
});
