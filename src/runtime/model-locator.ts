// Finds a manifest's model file on the model search path and proves it is the right file (sha256).
// Model files are never part of the package: they are fetched (`pafcast models fetch`) or provided.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packageRoot } from './package-root.js';
import type { ModelManifest } from './manifest.js';

export const MODEL_PATH_ENV = 'PAFCAST_MODEL_PATH';

export class ModelNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotFoundError';
  }
}


/**
 * The model search path, first match wins: directories from config, then $PAFCAST_MODEL_PATH
 * (colon-separated), the package's models/, the service's state directory, and ../shared/models
 * beside the checkout (where development and CI keep the files).
 */
export function modelSearchPath(extraDirs: string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env[MODEL_PATH_ENV] ?? '').split(':').filter(Boolean);
  const dirs = [
    ...extraDirs,
    ...fromEnv,
    join(packageRoot, 'models'),
    '/var/lib/pafcast/models',
    resolve(packageRoot, '..', 'shared', 'models'),
    resolve(process.cwd(), '..', 'shared', 'models'),
  ].map((d) => resolve(d));
  return [...new Set(dirs)];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Verified files, keyed by path + size + mtime, so a restart of a stage does not hash 16 MB again. */
const verified = new Map<string, string>();

function howToGet(m: ModelManifest): string {
  return `get it with \`pafcast models fetch ${m.name}\`` +
    (m.source.urls?.length ? ` (from ${m.source.urls[0]})` : '') +
    ` or copy it into one of those directories; upstream: ${m.source.upstream}`;
}

/** Returns the path of the verified model file, or throws a ModelNotFoundError that says where it looked and what it expected. */
export async function locateModel(m: ModelManifest, extraDirs: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (m.layout_only || !m.file || !m.sha256)
    throw new ModelNotFoundError(`model "${m.name}" is a layout-only manifest: it describes tensors for the parser and has no file to run`);
  const searched: string[] = [];
  const mismatched: string[] = [];
  for (const dir of modelSearchPath(extraDirs, env)) {
    const path = join(dir, m.file);
    searched.push(path);
    let info;
    try {
      info = await stat(path);
    } catch {
      continue;
    }
    if (!info.isFile()) continue;
    const key = `${path}:${info.size}:${info.mtimeMs}`;
    const digest = verified.get(key) ?? (await sha256File(path));
    if (digest === m.sha256) {
      verified.set(key, digest);
      return path;
    }
    mismatched.push(`${path} has sha256 ${digest}`);
  }
  const lines = [
    `model file ${m.file} for "${m.name}" not found or corrupt.`,
    `  expected sha256 ${m.sha256}${m.size_bytes ? ` (${m.size_bytes} bytes)` : ''}`,
    ...mismatched.map((s) => `  wrong file: ${s}`),
    `  searched: ${searched.join(', ')}`,
    `  ${howToGet(m)}; extra directories: config inference.model_path or $${MODEL_PATH_ENV}`,
  ];
  throw new ModelNotFoundError(lines.join('\n'));
}
