// Decodes frames of a video with ffmpeg into RGB buffers for the benchmarks.

import { spawn } from 'node:child_process';
import type { RawFrame } from '../src/runtime/types.js';

/** Reads `count` frames of `video`, scaled to `height` (aspect kept, even width), as RGB frames. */
export async function decodeFrames(video: string, count: number, height: number): Promise<RawFrame[]> {
  const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', video]);
  const [w, h] = probe.toString().trim().split(',').map(Number) as [number, number];
  const width = Math.round((w * height) / h / 2) * 2;
  const raw = await run('ffmpeg', ['-v', 'error', '-i', video, '-an', '-frames:v', String(count), '-vf', `scale=${width}:${height}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-']);
  const size = width * height * 3;
  const frames: RawFrame[] = [];
  for (let o = 0; o + size <= raw.length; o += size) frames.push({ data: raw.subarray(o, o + size), width, height, order: 'rgb' });
  return frames;
}

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} exited ${code}: ${err.trim()}`))));
  });
}
