// What board and OS this is, read once at start. From files rather than systeminformation.osInfo(),
// which runs `hostname -f` through execSync (DNS can stall it, blocking the event loop) and does not
// know Jetson board names or L4T releases. Root is configurable like every other sensor.

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

export interface DeviceInfo {
  /** /proc/device-tree/model without its trailing NUL, e.g. "NVIDIA Jetson AGX Orin Developer Kit"; null off-Jetson. */
  model: string | null;
  /** L4T release from /etc/nv_tegra_release, e.g. "36.4.3"; null when absent. */
  l4t: string | null;
  /** PRETTY_NAME from /etc/os-release, e.g. "Ubuntu 22.04.4 LTS". */
  os: string | null;
  kernel: string;
  arch: string;
  hostname: string;
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** `# R36 (release), REVISION: 4.3, ...` → "36.4.3". */
export function parseL4tRelease(text: string): string | null {
  const m = /^#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+(?:\.\d+)*)/m.exec(text);
  return m ? `${m[1]}.${m[2]}` : null;
}

/** PRETTY_NAME (else NAME VERSION) from os-release text. */
export function parseOsRelease(text: string): string | null {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2].replace(/^"(.*)"$/, '$1'));
  }
  return kv.get('PRETTY_NAME') ?? ([kv.get('NAME'), kv.get('VERSION')].filter(Boolean).join(' ') || null);
}

export async function readDeviceInfo(root: string): Promise<DeviceInfo> {
  const [model, release, osRelease] = await Promise.all([
    readOptional(join(root, 'proc/device-tree/model')),
    readOptional(join(root, 'etc/nv_tegra_release')),
    readOptional(join(root, 'etc/os-release')),
  ]);
  return {
    model: model === null ? null : model.replace(/\0/g, '').trim() || null,
    l4t: release === null ? null : parseL4tRelease(release),
    os: osRelease === null ? null : parseOsRelease(osRelease),
    kernel: os.release(),
    arch: os.arch(),
    hostname: os.hostname(),
  };
}
