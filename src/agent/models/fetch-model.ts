// `pafcast models fetch`: puts the file a manifest names into a model directory, verified.
// Bytes land in `.<file>.part` beside the target and are renamed into place only after their
// size and sha256 match the manifest, so a partial or wrong download never replaces a good file.

import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../../runtime/manifest.js';
import { downloadWithResume } from './download.js';

export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface FetchModelOptions {
  destDir: string;
  /** A base URL or a directory holding the file, tried instead of the manifest's own URLs. */
  from?: string;
  retries?: number;
  retryDelayMs?: number;
  onProgress?(received: number, total: number | null): void;
  onNotice?(text: string): void;
}

export interface FetchOutcome {
  name: string;
  path: string;
  action: 'up-to-date' | 'installed';
  source?: string;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Null when the file at `path` is exactly what the manifest names, else why not. */
async function mismatch(path: string, m: ModelManifest): Promise<string | null> {
  const size = statSync(path).size;
  if (m.size_bytes !== undefined && size !== m.size_bytes) return `size ${size} bytes, expected ${m.size_bytes}`;
  const sha = await sha256Of(path);
  return sha === m.sha256 ? null : `sha256 ${sha}, expected ${m.sha256}`;
}

type Source = { kind: 'url'; location: string } | { kind: 'file'; location: string };

/** Where to look for the file: `--from` (a base URL or directory), else the manifest's URLs. */
export function sourcesFor(m: ModelManifest, from?: string): Source[] {
  const file = m.file!;
  if (from) {
    if (/^https?:\/\//i.test(from)) return [{ kind: 'url', location: `${from.replace(/\/+$/, '')}/${encodeURIComponent(file)}` }];
    const dir = from.startsWith('file:') ? fileURLToPath(from) : from;
    return [{ kind: 'file', location: join(isAbsolute(dir) ? dir : resolve(dir), file) }];
  }
  return (m.source.urls ?? []).map((u) => ({ kind: 'url', location: u }) as Source);
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function fetchInto(source: Source, part: string, m: ModelManifest, options: FetchModelOptions): Promise<{ resumed: boolean }> {
  if (source.kind === 'file') {
    if (!exists(source.location)) throw new FetchError(`${source.location}: no such file`);
    await pipeline(createReadStream(source.location), createWriteStream(part));
    return { resumed: false };
  }
  const r = await downloadWithResume({
    url: source.location,
    partPath: part,
    retries: options.retries ?? 4,
    retryDelayMs: options.retryDelayMs ?? 1000,
    maxBytes: m.size_bytes,
    onProgress: options.onProgress,
    onRetry: (n, e) => options.onNotice?.(`${m.name}: ${e.message}; retry ${n} (resuming)`),
  });
  return { resumed: r.resumed };
}

export async function fetchModel(m: ModelManifest, options: FetchModelOptions): Promise<FetchOutcome> {
  if (m.layout_only || !m.file || !m.sha256) throw new FetchError(`model "${m.name}" is a layout-only manifest: there is no file to fetch`);
  mkdirSync(options.destDir, { recursive: true });
  const target = join(options.destDir, m.file);
  if (exists(target) && (await mismatch(target, m)) === null) return { name: m.name, path: target, action: 'up-to-date' };

  const sources = sourcesFor(m, options.from);
  if (!sources.length)
    throw new FetchError(`model "${m.name}" names no download URL (source.urls is empty); pass --from URL|DIR (upstream: ${m.source.upstream})`);

  const part = join(options.destDir, `.${m.file}.part`);
  const failures: string[] = [];
  for (const source of sources) {
    // A resumed download that fails verification may owe its bad bytes to the earlier run: one
    // clean retry from scratch before giving up on this source.
    for (let fresh = 0; fresh < 2; fresh++) {
      let resumed = false;
      try {
        ({ resumed } = await fetchInto(source, part, m, options));
      } catch (e) {
        failures.push(`${source.location}: ${(e as Error).message}`);
        break;
      }
      const wrong = await mismatch(part, m);
      if (wrong === null) {
        fsyncPath(part, 'r');
        renameSync(part, target);
        fsyncPath(options.destDir, 'r');
        return { name: m.name, path: target, action: 'installed', source: source.location };
      }
      rmSync(part, { force: true });
      if (!resumed) {
        failures.push(`${source.location}: downloaded file rejected: ${wrong}`);
        break;
      }
      options.onNotice?.(`${m.name}: resumed download failed verification (${wrong}); downloading again from the start`);
    }
  }
  throw new FetchError(`could not fetch model "${m.name}"${exists(target) ? ` (the existing ${target} was left as it was)` : ''}:\n  ${failures.join('\n  ')}`);
}
