// Shared test helpers: shared data location, a recording logger, small process utilities.

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureLogger } from '../../../src/agent/capture/capture-source.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const shared = process.env.PAFCAST_SHARED ?? resolve(repoRoot, '../shared');
export const streetAvi = resolve(shared, 'media/street.avi');
export const imagesDir = resolve(shared, 'media/images');

export interface Recorded {
  level: 'info' | 'warn' | 'error';
  msg: string;
  obj?: object;
}

export function recordingLogger(): CaptureLogger & { lines: Recorded[] } {
  const lines: Recorded[] = [];
  const at = (level: Recorded['level']) => (objOrMsg: object | string, msg?: string) => {
    if (typeof objOrMsg === 'string') lines.push({ level, msg: objOrMsg });
    else lines.push({ level, msg: msg ?? '', obj: objOrMsg });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Independent facts about a media file, straight from ffprobe. */
export function ffprobeStream(path: string, countFrames = false): { width: number; height: number; frames: number } {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json'];
  if (countFrames) args.unshift('-count_frames');
  const s = (JSON.parse(execFileSync('ffprobe', [...args, path], { encoding: 'utf8' })) as {
    streams: Array<{ width: number; height: number; nb_read_frames?: string }>;
  }).streams[0];
  return { width: s.width, height: s.height, frames: Number(s.nb_read_frames ?? NaN) };
}

/** True while a process with this id exists (a zombie counts: it still has a /proc entry). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function hasProgram(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `predicate` holds, polling (tests bound the wait with vitest's own timeout). */
export async function until(predicate: () => boolean, stepMs = 20): Promise<void> {
  while (!predicate()) await sleep(stepMs);
}
