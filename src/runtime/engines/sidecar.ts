// The JSON file written next to every engine: how it was built and what it covers. Selection and
// staleness checks read only this file, so they never have to deserialise an engine to judge it.

import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrtIdentity } from './identity.js';
import type { InputProfile } from './ladder.js';
import type { EnginePrecision } from './naming.js';

export const SIDECAR_FORMAT = 1;

export interface EngineSidecar {
  format: typeof SIDECAR_FORMAT;
  /** File name of the engine, in the same directory. */
  engine: string;
  model: { name: string; sha256: string; file: string };
  identity: TrtIdentity;
  precision: EnginePrecision;
  /** Input tensor the profile applies to. */
  input: string;
  profile: InputProfile;
  ladder: { heights: number[]; aspect: string };
  /** The exact trtexec invocation (argv[0] is the binary). */
  command: string[];
  built_at: string;
  build_seconds: number;
}

/** A sidecar found on disk, with where it is and whether its engine file is there. */
export interface EngineEntry {
  dir: string;
  sidecarPath: string;
  enginePath: string;
  engineExists: boolean;
  sidecar: EngineSidecar;
}

function isSidecar(v: unknown): v is EngineSidecar {
  const s = v as Partial<EngineSidecar> | null;
  return !!s && s.format === SIDECAR_FORMAT && typeof s.engine === 'string' && typeof s.model?.sha256 === 'string' &&
    typeof s.identity?.tensorrt === 'string' && typeof s.identity?.gpu?.computeCapability === 'string' &&
    Array.isArray(s.profile?.min) && Array.isArray(s.profile?.max) && typeof s.input === 'string';
}

export async function writeSidecar(path: string, sidecar: EngineSidecar): Promise<void> {
  await writeFile(path, `${JSON.stringify(sidecar, null, 2)}\n`);
}

/** Every readable sidecar in `dirs` (missing directories are skipped); unreadable ones are reported in `skipped`. */
export async function scanEngines(dirs: string[]): Promise<{ entries: EngineEntry[]; skipped: string[] }> {
  const entries: EngineEntry[] = [];
  const skipped: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const sidecarPath = join(dir, name);
      let data: unknown;
      try {
        data = JSON.parse(await readFile(sidecarPath, 'utf8'));
      } catch (e) {
        skipped.push(`${sidecarPath}: ${(e as Error).message}`);
        continue;
      }
      if (!isSidecar(data)) {
        skipped.push(`${sidecarPath}: not a pafcast engine sidecar (format ${SIDECAR_FORMAT})`);
        continue;
      }
      const enginePath = join(dir, data.engine);
      const engineExists = await stat(enginePath).then((s) => s.isFile() && s.size > 0, () => false);
      entries.push({ dir, sidecarPath, enginePath, engineExists, sidecar: data });
    }
  }
  return { entries, skipped };
}
