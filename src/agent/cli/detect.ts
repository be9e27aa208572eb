// `pafcast detect`: people in still images, one JSON line per image on stdout.

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { keypointList, openPoseDocument } from '../openpose-json.js';
import { renderSkeletons } from '../render.js';
import { PoseRuntime } from '../../runtime/pose-runtime.js';
import { cliError, inferenceFromFlags, intOption, listOption, parseCommandArgs, runtimeFlagOptions, runtimeFlagsHelp, stderrLog } from './common.js';

const help = `usage: pafcast detect [options] IMAGE...

Detects people in each image and prints one JSON line per image:
  {"source","width","height","model","net":{"width","height"},"timing_ms":{...},
   "people":[{"score","pose_keypoints_2d":[x,y,c × K]}]}
Keypoints are in source pixels, in the model's part order; a missing part is 0,0,0.

options:
  --model NAME|PATH     model manifest (default: lightweight-openpose-coco18)
  --height N            net input height (multiple of the stride; default: the model's)
  --render DIR          write each image with skeletons drawn to DIR
  --write-json DIR      write OpenPose-format <name>_keypoints.json files to DIR
  --normalized          also print keypoints normalised to 0..1 of the image size
${runtimeFlagsHelp}`;

export async function command(argv: string[]): Promise<number> {
  const args = parseCommandArgs('detect', argv, {
    model: { type: 'string' },
    height: { type: 'string' },
    render: { type: 'string' },
    'write-json': { type: 'string' },
    normalized: { type: 'boolean', default: false },
    ...runtimeFlagOptions,
    help: { type: 'boolean', short: 'h' },
  });
  if (!args) return 2;
  const o = args.values;
  if (o.help) {
    process.stdout.write(help);
    return 0;
  }
  if (args.positionals.length === 0) return cliError('detect', 'no images given (see --help)', 2);
  const clash = outputClash(args.positionals, Boolean(o['write-json'] || o.render));
  if (clash) return cliError('detect', clash, 2);

  let runtime: PoseRuntime;
  let height: number | undefined;
  try {
    height = intOption('--height', o.height);
    runtime = await PoseRuntime.create({
      model: o.model,
      modelPath: listOption(o['model-path']),
      heights: height ? [height] : undefined,
      inference: inferenceFromFlags(o),
      log: stderrLog,
    });
  } catch (e) {
    return cliError('detect', (e as Error).message, 1);
  }

  let failures = 0;
  try {
    for (const dir of [o.render, o['write-json']]) if (dir) await mkdir(dir, { recursive: true });
    for (const image of args.positionals) {
      try {
        const r = await runtime.estimateImage(image, height);
        const line = {
          source: image,
          width: r.width,
          height: r.height,
          model: runtime.manifest.name,
          net: r.net,
          timing_ms: roundTimings(r.timing_ms),
          people: r.people.map((p) => ({
            score: Math.round(p.score * 10000) / 10000,
            pose_keypoints_2d: keypointList(p.keypoints),
            ...(o.normalized ? { pose_keypoints_2d_normalized: normalised(p.keypoints, r.width, r.height) } : {}),
          })),
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
        const stem = basename(image, extname(image));
        if (o['write-json'])
          await writeFile(join(o['write-json'], `${stem}_keypoints.json`), JSON.stringify(openPoseDocument(r.people)));
        if (o.render) await renderSkeletons(image, join(o.render, `${stem}_rendered.png`), runtime.layout, r.people);
      } catch (e) {
        // One bad image never stops the batch.
        failures++;
        cliError('detect', (e as Error).message, 1);
      }
    }
  } finally {
    await runtime.dispose();
  }
  return failures ? 1 : 0;
}

/**
 * Output files are named after the image (OpenPose's `<name>_keypoints.json`), so two different
 * images with one name would overwrite each other's results: refuse before anything runs.
 */
function outputClash(images: string[], writes: boolean): string | null {
  if (!writes) return null;
  const byStem = new Map<string, Set<string>>();
  for (const image of images) {
    const stem = basename(image, extname(image));
    const set = byStem.get(stem) ?? new Set<string>();
    set.add(resolve(image));
    byStem.set(stem, set);
  }
  const clashes = [...byStem.entries()].filter(([, paths]) => paths.size > 1);
  if (!clashes.length) return null;
  const list = clashes.slice(0, 5).map(([stem, paths]) => `${[...paths].join(', ')} would all write ${stem}_*`);
  return `images with the same name would overwrite each other's output files:\n${list.join('\n')}${clashes.length > 5 ? `\n(and ${clashes.length - 5} more)` : ''}\nrename them, or run each directory with its own --write-json / --render directory`;
}

function roundTimings(t: object): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
}

function normalised(kp: Float32Array, w: number, h: number): number[] {
  const out = keypointList(kp);
  for (let i = 0; i < out.length; i += 3) {
    if (out[i + 2] === 0) continue;
    out[i] = Math.round((kp[i]! / w) * 1e5) / 1e5;
    out[i + 1] = Math.round((kp[i + 1]! / h) * 1e5) / 1e5;
  }
  return out;
}
