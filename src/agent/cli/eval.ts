// `pafcast eval`: COCO keypoint AP/AR of a model on ground-truth images (one row per net height), or
// of a file of `pafcast detect` predictions. Scoring follows pycocotools' COCOeval exactly.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KeypointStats } from '../../runtime/eval/cocoeval.js';
import { evaluateKeypoints } from '../../runtime/eval/cocoeval.js';
import { parseKeypointGroundTruth, type KeypointGroundTruth } from '../../runtime/eval/ground-truth.js';
import { sweepHeights, type HeightResult, type SweepImage } from '../../runtime/eval/height-sweep.js';
import { fileNameOf, matchPredictions, parsePredictions, type KeypointLayout } from '../../runtime/eval/predictions.js';
import { DEFAULT_MODEL, loadManifest, type ModelManifest } from '../../runtime/manifest.js';
import { cliError, inferenceFromFlags, intListOption, listOption, runtimeFlagOptions, runtimeFlagsHelp, stderrLog } from './common.js';

const help = `usage: pafcast eval --gt FILE (--images DIR | --predictions FILE) [options]

Scores poses against COCO keypoint ground truth with COCOeval's rules (OKS, maxDets 20,
crowd and zero-keypoint people ignored) and prints AP, AP50, AP75, APm, APl, AR, AR50, AR75.

  --gt FILE             COCO keypoint ground truth (person_keypoints_*.json)
  --images DIR          run the model on every ground-truth image found in DIR; one row per height
                        with the median inference and parse time
  --predictions FILE    score \`pafcast detect\` output (JSON Lines, matched to images by file name)

options:
  --heights H,...       net heights to compare with --images (default: the model's)
  --model NAME|PATH     model manifest (default: ${DEFAULT_MODEL}); with --predictions, the
                        part layout of lines that name no model
${runtimeFlagsHelp}  --json                print one JSON object instead of the table
`;

/** An option or input problem: reported as one line with this exit code. */
class EvalInputError extends Error {
  constructor(message: string, readonly code: 1 | 2) {
    super(message);
  }
}

interface Report {
  gt: string;
  model: string;
  /** Images scored, and ground-truth people that count (not crowd, with keypoints). */
  images: number;
  gtPeople: number;
  source: { images: string; missing: string[] } | { predictions: string };
  rows: Array<{ height?: number; stats: KeypointStats; people: number; inferenceMsMedian?: number; parseMsMedian?: number }>;
}

export async function command(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        gt: { type: 'string' },
        images: { type: 'string' },
        predictions: { type: 'string' },
        heights: { type: 'string' },
        model: { type: 'string' },
        ...runtimeFlagOptions,
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return cliError('eval', (e as Error).message, 2);
  }
  const o = args.values;
  if (o.help) {
    process.stdout.write(help);
    return 0;
  }
  try {
    if (!o.gt) throw new EvalInputError('--gt FILE is required (see --help)', 2);
    if (Boolean(o.images) === Boolean(o.predictions))
      throw new EvalInputError('give exactly one of --images DIR and --predictions FILE', 2);
    if (o.heights !== undefined && !o.images) throw new EvalInputError('--heights needs --images', 2);
    const runtimeOptions = parseRuntimeOptions(o);
    const manifest = modelOption(o.model);
    const gt = readGroundTruth(o.gt);
    const report = o.predictions
      ? scorePredictions(o.gt, gt, manifest, o.predictions)
      : await scoreImages(o.gt, gt, manifest, o.images!, runtimeOptions);
    process.stdout.write(o.json ? `${JSON.stringify(toJson(report))}\n` : formatReport(report));
    return 0;
  } catch (e) {
    return cliError('eval', (e as Error).message, e instanceof EvalInputError ? e.code : 1);
  }
}

/** Checks every runtime option before any file is read, so a typo fails fast with exit code 2. */
function parseRuntimeOptions(o: { model?: string; heights?: string; 'model-path'?: string; backend?: string; providers?: string; threads?: string }): RuntimeOptions {
  try {
    const heights = intListOption('--heights', o.heights);
    if (heights && heights.length === 0) throw new Error('--heights needs at least one height');
    return { model: o.model, heights, modelPath: listOption(o['model-path']), inference: inferenceFromFlags(o) };
  } catch (e) {
    throw new EvalInputError((e as Error).message, 2);
  }
}

function modelOption(name: string | undefined): ModelManifest {
  try {
    return loadManifest(name ?? DEFAULT_MODEL);
  } catch (e) {
    throw new EvalInputError((e as Error).message, 2);
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new EvalInputError(`cannot read ${what} ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 1);
  }
}

function readGroundTruth(path: string): KeypointGroundTruth {
  const text = readText(path, 'ground truth');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new EvalInputError(`ground truth ${path} is not valid JSON`, 1);
  }
  try {
    return parseKeypointGroundTruth(data);
  } catch (e) {
    throw new EvalInputError(`ground truth ${path}: ${(e as Error).message}`, 1);
  }
}

function countedPeople(gt: KeypointGroundTruth, imageIds: Set<number>): number {
  return gt.people.filter((p) => !p.ignore && imageIds.has(p.imageId)).length;
}

function layoutOfManifest(m: ModelManifest): KeypointLayout {
  return { name: m.name, keypoints: m.keypoints.length, coco17: m.coco17 };
}

function scorePredictions(gtPath: string, gt: KeypointGroundTruth, manifest: ModelManifest, path: string): Report {
  const lines = parsePredictions(readText(path, 'predictions'));
  // Lines written by `pafcast detect` name their model; older or foreign files fall back to --model.
  const layouts = new Map<string, KeypointLayout>([[manifest.name, layoutOfManifest(manifest)]]);
  const layoutOf = (model: string | undefined): KeypointLayout => {
    const name = model ?? manifest.name;
    let layout = layouts.get(name);
    if (!layout) {
      layout = layoutOfManifest(loadManifest(name));
      layouts.set(name, layout);
    }
    return layout;
  };
  const matched = matchPredictions(lines, gt, layoutOf);
  if (matched.unknownSources.length)
    stderrLog('warn', `${matched.unknownSources.length} prediction line(s) name images not in the ground truth ` +
      `(first: ${matched.unknownSources[0]}); not scored`);
  if (matched.imagesWithoutLine.length)
    stderrLog('warn', `${matched.imagesWithoutLine.length} ground-truth image(s) have no prediction line ` +
      `(first: ${matched.imagesWithoutLine[0]}); they count with no detections`);
  const ids = new Set(gt.images.map((img) => img.id));
  return {
    gt: gtPath,
    model: manifest.name,
    images: ids.size,
    gtPeople: countedPeople(gt, ids),
    source: { predictions: path },
    rows: [{ stats: evaluateKeypoints(gt, matched.detections), people: matched.detections.length }],
  };
}

interface RuntimeOptions {
  /** --model as given (a name or a manifest path), passed on to the runtime. */
  model?: string;
  heights?: number[];
  modelPath?: string[];
  inference: ReturnType<typeof inferenceFromFlags>;
}

async function scoreImages(
  gtPath: string,
  gt: KeypointGroundTruth,
  manifest: ModelManifest,
  dir: string,
  opts: RuntimeOptions,
): Promise<Report> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new EvalInputError(`--images ${dir} is not a directory`, 1);
  const found: SweepImage[] = [];
  const missing: string[] = [];
  for (const img of gt.images) {
    const path = join(dir, fileNameOf(img.fileName));
    if (existsSync(path)) found.push({ id: img.id, path });
    else missing.push(img.fileName);
  }
  if (found.length === 0) throw new EvalInputError(`none of the ${gt.images.length} ground-truth images is in ${dir}`, 1);
  if (missing.length)
    stderrLog('warn', `${missing.length} of ${gt.images.length} ground-truth images are not in ${dir} ` +
      `(first: ${missing[0]}); scoring the ${found.length} found`);
  const heights = opts.heights ?? [manifest.input_size.default_height];
  const first = gt.images.find((img) => img.id === found[0].id)!;

  // Loaded only here, so that scoring a predictions file never needs onnxruntime or sharp.
  const { PoseRuntime } = await import('../../runtime/pose-runtime.js');
  let runtime;
  try {
    runtime = await PoseRuntime.create({
      model: opts.model,
      modelPath: opts.modelPath,
      heights,
      sourceSize: first.width && first.height ? { width: first.width, height: first.height } : undefined,
      inference: opts.inference,
      log: stderrLog,
    });
  } catch (e) {
    throw new EvalInputError((e as Error).message, e instanceof RangeError ? 2 : 1);
  }
  let rows: HeightResult[];
  try {
    rows = await sweepHeights(runtime, gt, found, heights, manifest.coco17, progress(found.length));
  } finally {
    await runtime.dispose();
  }
  return {
    gt: gtPath,
    model: manifest.name,
    images: found.length,
    gtPeople: countedPeople(gt, new Set(found.map((f) => f.id))),
    source: { images: dir, missing },
    rows,
  };
}

/** A one-line progress counter on an interactive stderr; silent in pipes and tests. */
function progress(total: number) {
  if (!process.stderr.isTTY) return undefined;
  let done = 0;
  return (height: number) => {
    done = (done % total) + 1;
    process.stderr.write(`\rheight ${height}: ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

const columns: Array<[string, (s: KeypointStats) => number]> = [
  ['AP', (s) => s.ap], ['AP50', (s) => s.ap50], ['AP75', (s) => s.ap75], ['APm', (s) => s.apMedium],
  ['APl', (s) => s.apLarge], ['AR', (s) => s.ar], ['AR50', (s) => s.ar50], ['AR75', (s) => s.ar75],
];

/** COCOeval reports -1 where no ground truth counts; a table shows that as "-". */
const metric = (v: number) => (v < 0 ? '-' : v.toFixed(4));
const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));

export function formatReport(r: Report): string {
  const timed = 'images' in r.source;
  const header = [...(timed ? ['height'] : []), ...columns.map(([name]) => name), 'people',
    ...(timed ? ['infer ms', 'parse ms'] : [])];
  const body = r.rows.map((row) => [
    ...(timed ? [String(row.height)] : []),
    ...columns.map(([, get]) => metric(get(row.stats))),
    String(row.people),
    ...(timed ? [ms(row.inferenceMsMedian), ms(row.parseMsMedian)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ').trimEnd();
  const what = 'predictions' in r.source ? `predictions ${r.source.predictions}` : `model ${r.model}`;
  return `${what}: ${r.images} image(s), ${r.gtPeople} ground-truth people counted (${r.gt})\n` +
    `${line(header)}\n${body.map(line).join('\n')}\n`;
}

const jsonMetric = (v: number) => (v < 0 ? null : v);
/** Timings to the microsecond, as `pafcast detect` writes them. */
const roundMs = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);

export function toJson(r: Report): object {
  return {
    gt: r.gt,
    model: r.model,
    ...('predictions' in r.source
      ? { predictions: r.source.predictions }
      : { images_dir: r.source.images, missing_images: r.source.missing }),
    images_scored: r.images,
    gt_people: r.gtPeople,
    rows: r.rows.map((row) => ({
      ...(row.height !== undefined ? { height: row.height } : {}),
      ap: jsonMetric(row.stats.ap),
      ap50: jsonMetric(row.stats.ap50),
      ap75: jsonMetric(row.stats.ap75),
      ap_medium: jsonMetric(row.stats.apMedium),
      ap_large: jsonMetric(row.stats.apLarge),
      ar: jsonMetric(row.stats.ar),
      ar50: jsonMetric(row.stats.ar50),
      ar75: jsonMetric(row.stats.ar75),
      ar_medium: jsonMetric(row.stats.arMedium),
      ar_large: jsonMetric(row.stats.arLarge),
      people: row.people,
      ...(row.inferenceMsMedian !== undefined
        ? { inference_ms_median: roundMs(row.inferenceMsMedian), parse_ms_median: roundMs(row.parseMsMedian) }
        : {}),
    })),
  };
}
