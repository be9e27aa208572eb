// `npm run bench`: prints tables of medians. Nothing here asserts on time; the numbers are for people.
//   PAFCAST_BENCH=runtime,parser,events,tracking,e2e,preview  choose sections (default: all)
//   PAFCAST_BENCH_FRAMES=60                   street.avi frames per runtime row

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../src/runtime/package-root.js';
import { decodeFrames } from './frames.js';
import { benchParser } from './parser.js';
import { benchRuntime } from './runtime.js';
import { table, type Row } from './table.js';

const shared = process.env.PAFCAST_SHARED ?? resolve(packageRoot, '..', 'shared');
const video = resolve(shared, 'media', 'street.avi');
const sections = (process.env.PAFCAST_BENCH ?? 'runtime,parser,events,tracking,e2e,preview').split(',');
const frameCount = Number(process.env.PAFCAST_BENCH_FRAMES ?? 60);

/** Sections written later or elsewhere are imported by computed path, so a missing one is reported, not a build error. */
function optional(name: string): string {
  return new URL(`./${name}.js`, import.meta.url).href;
}

async function section(name: string, title: string, fn: () => Promise<Row[]>): Promise<void> {
  if (!sections.includes(name)) return;
  const t0 = Date.now();
  try {
    process.stdout.write(`${table(title, await fn())}(${((Date.now() - t0) / 1000).toFixed(0)} s)\n\n`);
  } catch (e) {
    process.stdout.write(`## ${title}\nskipped: ${(e as Error).message}\n\n`);
  }
}

async function main(): Promise<void> {
  if (!existsSync(video)) throw new Error(`${video} not found: set PAFCAST_SHARED to the shared data directory`);
  process.stdout.write(`pafcast bench — node ${process.version}, ${process.arch}, medians over ${frameCount} frames of street.avi\n\n`);
  await section('runtime', 'Runtime per model and net height (street.avi, frames pre-scaled to 368 px as capture delivers them)', async () => {
    const frames = await decodeFrames(video, frameCount, 368);
    return benchRuntime({
      models: ['lightweight-openpose-coco18', 'mobilenet-v2-small-coco18'],
      heights: [160, 256, 368],
      frames,
      warmup: 20,
    });
  });
  await section('parser', 'Parse time against people count (synthetic maps, COCO-18 layout)', () => benchParser());
  await section('events', 'Pose events: PoseEvents.update per frame (4 zones, 2 lines, falls and gestures on)', async () => {
    const mod = (await import(optional('events'))) as { benchEvents(): Promise<Row[]> };
    return mod.benchEvents();
  });
  await section('tracking', 'Tracking on street.avi: share of the eye-checked people\'s frames carrying their majority id', async () => {
    const mod = (await import(optional('tracking'))) as { benchTracking(): Promise<Row[]> };
    return mod.benchTracking();
  });
  await section('e2e', 'End to end: pafcast run on street.avi at net height 256', async () => {
    const mod = (await import(optional('e2e'))) as { benchEndToEnd(video: string): Promise<Row[]> };
    return mod.benchEndToEnd(video);
  });
  await section('preview', 'Live view: agent and encoder CPU and FPS with 0, 1 and 3 viewers', async () => {
    const mod = (await import(optional('preview'))) as { benchPreview(): Promise<Row[]> };
    return mod.benchPreview();
  });
  await section('preview', 'Live view alone (no inference): CPU per frame of drawing, encoder and WebRTC with 0, 1 and 3 viewers', async () => {
    const mod = (await import(optional('preview'))) as { benchPreviewAlone(): Promise<Row[]> };
    return mod.benchPreviewAlone();
  });
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(1);
  },
);
