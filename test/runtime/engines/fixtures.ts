// Shared helpers for engine tests: a manifest from the repository and sidecars written into temp dirs.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../../../src/runtime/manifest.js';
import type { TrtIdentity } from '../../../src/runtime/engines/identity.js';
import { engineBaseName } from '../../../src/runtime/engines/naming.js';
import { SIDECAR_FORMAT, type EngineSidecar } from '../../../src/runtime/engines/sidecar.js';

export const manifest = loadManifest('lightweight-openpose-coco18');
export const orinJp51: TrtIdentity = { tensorrt: '8.5.2', gpu: { name: 'Orin', computeCapability: '8.7' } };

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'pafcast-engines-'));
}

/** Writes a sidecar (and, unless told otherwise, a non-empty engine file) like `engines build` would. */
export async function writeEngine(dir: string, patch: Partial<EngineSidecar> = {}, withEngineFile = true): Promise<EngineSidecar> {
  const identity = patch.identity ?? orinJp51;
  const precision = patch.precision ?? 'fp16';
  const sha256 = patch.model?.sha256 ?? manifest.sha256!;
  const base = engineBaseName({ model: manifest.name, sha256, identity, precision });
  const sidecar: EngineSidecar = {
    format: SIDECAR_FORMAT,
    engine: `${base}.engine`,
    model: { name: manifest.name, sha256, file: manifest.file! },
    identity,
    precision,
    input: 'data',
    profile: { min: [1, 3, 160, 288], opt: [1, 3, 256, 456], max: [1, 3, 368, 656] },
    ladder: { heights: [160, 224, 256, 320, 368], aspect: '16:9' },
    command: ['/usr/src/tensorrt/bin/trtexec', '--onnx=x.onnx'],
    built_at: '2026-01-01T00:00:00.000Z',
    build_seconds: 100,
    ...patch,
  };
  await writeFile(join(dir, `${base}.json`), JSON.stringify(sidecar));
  if (withEngineFile) await writeFile(join(dir, sidecar.engine), 'not a real engine');
  return sidecar;
}
