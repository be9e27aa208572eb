import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseL4tRelease, parseOsRelease, readDeviceInfo } from '../../src/telemetry/device-info.js';
import { jetsonDir } from './paths.js';

describe('device identity', () => {
  it('reads the L4T release from every recorded nv_tegra_release first line', () => {
    const rows = readFileSync(join(jetsonDir, 'nv_tegra_release.txt'), 'utf8').trim().split('\n').slice(1).map((r) => r.split('\t'));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) expect(parseL4tRelease(row[5]), row[5]).toBe(row[0]);
  });

  it('reads model (NUL-terminated), release and OS from a board root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pafcast-device-'));
    await mkdir(join(root, 'proc/device-tree'), { recursive: true });
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'proc/device-tree/model'), 'NVIDIA Jetson AGX Orin Developer Kit\0');
    await writeFile(join(root, 'etc/nv_tegra_release'), '# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025\n# KERNEL_VARIANT: oot\n');
    await writeFile(join(root, 'etc/os-release'), 'NAME="Ubuntu"\nVERSION="22.04.5 LTS (Jammy Jellyfish)"\nPRETTY_NAME="Ubuntu 22.04.5 LTS"\n');
    const d = await readDeviceInfo(root);
    expect(d).toMatchObject({ model: 'NVIDIA Jetson AGX Orin Developer Kit', l4t: '36.4.3', os: 'Ubuntu 22.04.5 LTS' });
    expect(d.kernel).toBeTruthy();
  });

  it('off-Jetson: no model, no release', async () => {
    const d = await readDeviceInfo(join(tmpdir(), 'pafcast-no-root'));
    expect(d).toMatchObject({ model: null, l4t: null, os: null });
    expect(parseOsRelease('NAME=Debian\nVERSION=12\n')).toBe('Debian 12');
  });
});
