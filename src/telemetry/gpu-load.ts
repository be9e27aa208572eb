// Jetson iGPU load from the GPU device's `load` file. Read from sysfs because nothing else has it
// without root: systeminformation only knows discrete NVIDIA GPUs (via nvidia-smi), and tegrastats
// is a child process we only start when this file is missing (see sampler.ts).
// The value is per-mille, 0..1000 ("150 meaning 15.0% load"; see shared/jetson/gpu-load-scale.txt).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Fixed locations in the order that covers the most boards (shared/jetson/gpu-load-paths.tsv):
 * JP5.1+ and JP6/JP7 Orin have platform/gpu.0; Nano/TX2/Xavier (R32) have gpu.0; JP6 Orin also
 * exposes the device under its bus address.
 */
export const GPU_LOAD_CANDIDATES = [
  'sys/devices/platform/gpu.0/load',
  'sys/devices/gpu.0/load',
  'sys/devices/platform/bus@0/17000000.gpu/load',
] as const;

/** Device-tree node names of Jetson iGPUs, for the devfreq scan (TX2 gp10b, Xavier gv11b, Orin ga10b, Thor gb10b). */
const IGPU_NODE_NAMES = new Set(['gp10b', 'gv11b', 'ga10b', 'gb10b', 'gpu']);

async function readable(path: string): Promise<boolean> {
  try {
    await readFile(path, 'utf8');
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the `load` file under `root` (absolute path), or null when the board has none.
 * After the fixed paths it scans /sys/class/devfreq for a device whose of_node is an iGPU, which
 * catches layouts no one has recorded yet.
 */
export async function findGpuLoadPath(root: string): Promise<string | null> {
  for (const rel of GPU_LOAD_CANDIDATES) {
    const path = join(root, rel);
    if (await readable(path)) return path;
  }
  const devfreq = join(root, 'sys/class/devfreq');
  let devices: string[];
  try {
    devices = await readdir(devfreq);
  } catch {
    return null;
  }
  for (const dev of devices.sort()) {
    let nodeName: string;
    try {
      nodeName = (await readFile(join(devfreq, dev, 'device/of_node/name'), 'utf8')).replace(/\0/g, '').trim();
    } catch {
      continue;
    }
    const path = join(devfreq, dev, 'device/load');
    if (IGPU_NODE_NAMES.has(nodeName) && (await readable(path))) return path;
  }
  return null;
}

/** Converts the per-mille `load` value to percent; null when the text is not a number. */
export function parseGpuLoad(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  return Math.min(1000, Number(t)) / 10;
}

/** Reads GPU load in percent from a path found by findGpuLoadPath; null when the read fails. */
export async function readGpuLoad(path: string): Promise<number | null> {
  try {
    return parseGpuLoad(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}
