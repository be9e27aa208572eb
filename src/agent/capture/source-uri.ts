// What a source URI names: the kind of source decides which capture pipeline runs.

import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SourceSpec =
  | { kind: 'file'; path: string }
  | { kind: 'images'; dir: string; files: string[] }
  | { kind: 'v4l2'; device: string }
  | { kind: 'stream'; url: string }
  | { kind: 'csi'; sensor: number }
  | { kind: 'test'; width: number; height: number; fps: number; pattern: string };

/** A source that cannot be opened now (it may appear later, so capture retries). */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.ppm', '.pgm']);
const TEST_DEFAULTS = { width: 1280, height: 720, fps: 30, pattern: 'testsrc2' };

function testPattern(uri: string): SourceSpec {
  const url = new URL(uri);
  const size = url.searchParams.get('size');
  let { width, height } = TEST_DEFAULTS;
  if (size) {
    const m = /^(\d+)x(\d+)$/.exec(size);
    if (!m || +m[1] < 16 || +m[2] < 16) throw new SourceError(`test source: size must look like 1280x720, got "${size}"`);
    width = +m[1];
    height = +m[2];
  }
  const fps = Number(url.searchParams.get('rate') ?? TEST_DEFAULTS.fps);
  if (!(fps > 0 && fps <= 240)) throw new SourceError(`test source: rate must be 1..240, got "${url.searchParams.get('rate')}"`);
  const pattern = url.hostname || TEST_DEFAULTS.pattern;
  if (!/^[a-z0-9_]+$/i.test(pattern)) throw new SourceError(`test source: bad pattern name "${pattern}"`);
  return { kind: 'test', width, height, fps, pattern };
}

function localPath(path: string): SourceSpec {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SourceError(`video file or image directory ${path} not found`);
  }
  if (!st.isDirectory()) return { kind: 'file', path };
  const files = readdirSync(path)
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new SourceError(`image directory ${path} has no images (${[...IMAGE_EXTENSIONS].join(' ')})`);
  return { kind: 'images', dir: path, files };
}

/** Classifies a source URI, checking that local files and devices exist; throws SourceError saying what is missing. */
export function classifySource(uri: string): SourceSpec {
  const trimmed = uri.trim();
  if (!trimmed) throw new SourceError('no source configured (source.uri is empty)');
  if (/^test:/i.test(trimmed)) return testPattern(trimmed);
  if (/^csi:/i.test(trimmed)) {
    const m = /^csi:\/\/(\d+)$/i.exec(trimmed);
    if (!m) throw new SourceError(`CSI source must look like csi://0, got "${trimmed}"`);
    return { kind: 'csi', sensor: Number(m[1]) };
  }
  if (/^(rtsps?|rtmp|https?|udp|srt):\/\//i.test(trimmed)) return { kind: 'stream', url: trimmed };
  if (/^\/dev\/video\d+$/.test(trimmed)) {
    try {
      statSync(trimmed);
    } catch {
      throw new SourceError(`camera ${trimmed} not found`);
    }
    return { kind: 'v4l2', device: trimmed };
  }
  if (/^file:/i.test(trimmed)) return localPath(fileURLToPath(trimmed));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) throw new SourceError(`unsupported source URI scheme in "${trimmed}"`);
  return localPath(resolve(trimmed));
}

/** Whether the source ends by itself (and so can loop). */
export function endsByItself(spec: SourceSpec): boolean {
  return spec.kind === 'file' || spec.kind === 'images';
}
