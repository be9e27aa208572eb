// Reading what a Jetson says about itself: /proc/device-tree/model, /etc/nv_tegra_release and the
// installed TensorRT headers. Formats and the L4T -> JetPack table come from recorded boards and
// jetson_stats' table (shared/jetson: device-tree-models.txt, nv_tegra_release.txt, l4t-to-jetpack.tsv).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function readText(root: string, path: string): Promise<string | null> {
  try {
    return await readFile(join(root, path), 'utf8');
  } catch {
    return null;
  }
}

/** The model string; the file ends with a NUL byte on every board. */
export async function readBoardModel(root: string): Promise<string | null> {
  const text = await readText(root, 'proc/device-tree/model');
  const model = text?.replace(/\0/g, '').trim();
  return model ? model : null;
}

/** Line 1 of /etc/nv_tegra_release: `# R36 (release), REVISION: 4.3, GCID: ..., BOARD: generic, ...`. */
export function parseTegraRelease(text: string): { major: number; revision: string; version: string } | null {
  const m = /^#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+(?:\.\d+)*)/m.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), revision: m[2], version: `${m[1]}.${m[2]}` };
}

/** L4T -> JetPack for the releases pafcast cares about (jetson_stats' NVIDIA_JETPACK table). */
const JETPACK_OF_L4T: Record<string, string> = {
  '32.6.1': '4.6', '32.7.1': '4.6.1', '32.7.2': '4.6.2', '32.7.3': '4.6.3', '32.7.4': '4.6.4', '32.7.5': '4.6.5', '32.7.6': '4.6.6',
  '35.1.0': '5.0.2', '35.2.1': '5.1', '35.3.1': '5.1.1', '35.4.1': '5.1.2', '35.5.0': '5.1.3', '35.6.0': '5.1.4', '35.6.1': '5.1.5',
  '35.6.2': '5.1.5', '35.6.3': '5.1.5', '35.6.4': '5.1.6',
  '36.2.0': '6.0 DP', '36.3.0': '6.0', '36.4.0': '6.1', '36.4.2': '6.1', '36.4.3': '6.2', '36.4.4': '6.2.1', '36.4.7': '6.2.1', '36.5.0': '6.2.2',
};

export function jetpackOf(l4t: string): string | null {
  const known = JETPACK_OF_L4T[l4t] ?? JETPACK_OF_L4T[`${l4t}.0`];
  if (known) return known;
  const major = Number(l4t.split('.')[0]);
  return ({ 32: '4.x', 34: '5.0 DP', 35: '5.x', 36: '6.x', 38: '7.x', 39: '7.x' } as Record<number, string>)[major] ?? null;
}

/** Where TensorRT's headers live on JetPack (arch dir) and on tarball installs. */
export const TRT_HEADER_PATHS = [
  'usr/include/aarch64-linux-gnu/NvInferVersion.h',
  'usr/include/x86_64-linux-gnu/NvInferVersion.h',
  'usr/include/NvInferVersion.h',
  'usr/local/tensorrt/include/NvInferVersion.h',
];

/** "8.5.2" from the NV_TENSORRT_MAJOR/MINOR/PATCH defines of NvInferVersion.h. */
export function parseTrtHeaderVersion(text: string): string | null {
  const get = (what: string) => new RegExp(`^#define\\s+NV_TENSORRT_${what}\\s+(\\d+)`, 'm').exec(text)?.[1];
  const [major, minor, patch] = [get('MAJOR'), get('MINOR'), get('PATCH')];
  return major && minor && patch ? `${major}.${minor}.${patch}` : null;
}

/** Which Jetson family a model string names (substring match: the exact strings change between releases). */
export function boardFamily(model: string): 'orin-nano' | 'orin' | 'xavier' | 'tx2' | 'nano' | 'thor' | 'other' {
  const m = model.toLowerCase();
  if (m.includes('orin nano')) return 'orin-nano';
  if (m.includes('orin')) return 'orin';
  if (m.includes('xavier') || m === 'jetson-agx') return 'xavier';
  if (m.includes('tx2') || m === 'quill' || m.startsWith('lanai')) return 'tx2';
  if (m.includes('nano')) return 'nano';
  if (m.includes('thor')) return 'thor';
  return 'other';
}
