// Reads `pafcast detect` output (JSON Lines, one image per line) as COCO keypoint detections:
//   {"source": "dir/000000000785.jpg", "width", "height", "model"?, "people": [{"score", "pose_keypoints_2d": [x, y, c × K]}]}
// Lines are matched to ground-truth images by the file name of `source`.

import type { KeypointDetection } from './cocoeval.js';
import { detectionsOf } from './coco-detections.js';
import type { KeypointGroundTruth } from './ground-truth.js';

export interface PredictedPerson {
  score: number;
  /** K × (x, y, c) in the model's part order, source pixels. */
  keypoints: number[];
}

export interface PredictionLine {
  /** 1-based line number in the file, for messages. */
  line: number;
  source: string;
  model?: string;
  people: PredictedPerson[];
}

/** What the evaluator must know about the model that wrote a line. */
export interface KeypointLayout {
  name: string;
  /** Number of model keypoints K. */
  keypoints: number;
  coco17: readonly number[];
}

export class PredictionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictionsError';
  }
}

function fail(line: number, what: string): never {
  throw new PredictionsError(`predictions line ${line}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parsePerson(raw: unknown, line: number, j: number): PredictedPerson {
  if (!isObject(raw)) fail(line, `people[${j}] must be an object`);
  if (typeof raw.score !== 'number' || !Number.isFinite(raw.score)) fail(line, `people[${j}].score must be a number`);
  const kp = raw.pose_keypoints_2d;
  if (!Array.isArray(kp) || kp.length === 0 || kp.length % 3 !== 0)
    fail(line, `people[${j}].pose_keypoints_2d must be a non-empty array of x, y, c triples`);
  if (!kp.every((v) => typeof v === 'number' && Number.isFinite(v)))
    fail(line, `people[${j}].pose_keypoints_2d must hold only numbers`);
  return { score: raw.score, keypoints: kp as number[] };
}

/** Parses JSON Lines text; blank lines are skipped. Throws PredictionsError naming the first bad line. */
export function parsePredictions(text: string): PredictionLine[] {
  const lines: PredictionLine[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = i + 1;
    if (rawLine.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(rawLine);
    } catch {
      fail(line, 'not valid JSON');
    }
    if (!isObject(data)) fail(line, 'must be a JSON object');
    if (typeof data.source !== 'string' || data.source === '') fail(line, '"source" must be a non-empty string');
    if (data.model !== undefined && typeof data.model !== 'string') fail(line, '"model" must be a string');
    if (!Array.isArray(data.people)) fail(line, '"people" must be an array');
    lines.push({
      line,
      source: data.source,
      model: data.model as string | undefined,
      people: data.people.map((p, j) => parsePerson(p, line, j)),
    });
  });
  return lines;
}

/** File name of a path written on any OS. */
export function fileNameOf(source: string): string {
  return source.slice(Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\')) + 1);
}

export interface MatchedPredictions {
  detections: KeypointDetection[];
  /** Sources naming no ground-truth image (their lines are not evaluated). */
  unknownSources: string[];
  /** Ground-truth file names no line names (they count with zero detections). */
  imagesWithoutLine: string[];
}

/**
 * Turns parsed lines into COCO-17 detections on ground-truth image ids. `layoutOf(model)` gives the
 * part layout for a line's `model` (undefined = the default model) and throws for an unknown name.
 */
export function matchPredictions(
  lines: PredictionLine[],
  gt: KeypointGroundTruth,
  layoutOf: (model: string | undefined) => KeypointLayout,
): MatchedPredictions {
  const idByName = new Map(gt.images.map((img) => [fileNameOf(img.fileName), img.id]));
  const seenAt = new Map<number, number>();
  const detections: KeypointDetection[] = [];
  const unknownSources: string[] = [];
  for (const entry of lines) {
    const imageId = idByName.get(fileNameOf(entry.source));
    if (imageId === undefined) {
      unknownSources.push(entry.source);
      continue;
    }
    const first = seenAt.get(imageId);
    if (first !== undefined) fail(entry.line, `second line for image ${fileNameOf(entry.source)} (first at line ${first})`);
    seenAt.set(imageId, entry.line);
    let layout: KeypointLayout;
    try {
      layout = layoutOf(entry.model);
    } catch (e) {
      fail(entry.line, (e as Error).message);
    }
    entry.people.forEach((p, j) => {
      if (p.keypoints.length !== layout.keypoints * 3)
        fail(entry.line, `people[${j}] has ${p.keypoints.length / 3} keypoints but model ${layout.name} has ${layout.keypoints}`);
    });
    detections.push(...detectionsOf(imageId, entry.people, layout.coco17));
  }
  const imagesWithoutLine = gt.images.filter((img) => !seenAt.has(img.id)).map((img) => img.fileName);
  return { detections, unknownSources, imagesWithoutLine };
}
