// Model manifests: everything the runtime needs to know about a network is data in models/*.json.
// The parser, preprocessing and backends read the layout from here and never hard-code a topology.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { packageRoot } from './package-root.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';

/** How raw pixels become the network input: value = (pixel - mean[c]) * scale[c], in `colour` order. */
export interface InputSpec {
  name: string;
  /** Only planar float32 NCHW is supported by the preprocessors. */
  layout: 'NCHW';
  colour: 'BGR' | 'RGB';
  mean: [number, number, number];
  scale: [number, number, number];
}

/** Where a group of maps lives: a named output tensor and the channel range inside it. */
export interface MapSlice {
  tensor: string;
  /** First channel of this group inside `tensor` (non-zero when heatmaps and PAFs share one tensor). */
  offset: number;
  channels: number;
}

export interface LimbSpec {
  /** Keypoint names; the field points from `from` to `to`. */
  from: string;
  to: string;
  /** PAF channels (relative to the PAF slice) holding the x and y component of the field. */
  paf: { x: number; y: number };
  /** Redundant limbs (ear–shoulder) may join parts to existing people but never create or split one. */
  redundant?: boolean;
}

export interface ParserParams {
  /** Heatmap peak threshold (OpenPose `thre1`). */
  nms_threshold: number;
  /** PAF sample score a sample must reach to count as agreeing (OpenPose `thre2`). */
  inter_threshold: number;
  /** Share of samples that must agree for a candidate pair to count. */
  inter_min_above_threshold: number;
  /** Minimum number of parts a person must have. */
  min_subset_cnt: number;
  /** Minimum mean score (person score / parts) a person must have. */
  min_subset_score: number;
  /** Keep at most this many people (highest score first); 0 = no limit. */
  number_people_max: number;
  /** Sampling of the PAF line integral: at least `min`, at most `max` samples, one per `per_cells` cells. */
  paf_samples: { min: number; max: number; per_cells: number };
  /** Distance prior: pairs longer than `max_limb_ratio` × map height are penalised (OpenPose halves the height). */
  max_limb_ratio: number;
}

export interface InputSizeSpec {
  /** Net input height range the network accepts, and its default. Heights are multiples of `stride`. */
  min_height: number;
  max_height: number;
  default_height: number;
  /** Width the network was trained at for its default height (documentation; widths follow the image aspect). */
  native_width?: number;
}

export interface ModelManifest {
  name: string;
  description: string;
  /** A layout-only manifest describes a network's tensors for the parser; it has no file to run. */
  layout_only: boolean;
  file?: string;
  sha256?: string;
  size_bytes?: number;
  licence: string;
  source: { upstream: string; notes?: string; urls?: string[] };
  input: InputSpec;
  outputs: { heatmaps: MapSlice; pafs: MapSlice };
  stride: number;
  keypoints: string[];
  /** Heatmap channel holding the background map, or null when the network has none. */
  background_channel: number | null;
  limbs: LimbSpec[];
  /** For each COCO-17 keypoint, the index of the model keypoint that corresponds to it. */
  coco17: number[];
  input_size: InputSizeSpec;
  parser: ParserParams;
}

/** A manifest with names resolved to indices, ready for the hot path. */
export interface ModelLayout {
  manifest: ModelManifest;
  numParts: number;
  numLimbs: number;
  /** Per limb: part index of A and B, PAF x and y channel (absolute inside the PAF slice), redundant flag. */
  limbA: Int32Array;
  limbB: Int32Array;
  pafX: Int32Array;
  pafY: Int32Array;
  redundant: Uint8Array;
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Directory holding the shipped manifests (models/ at the package root). */
export const manifestDir = join(packageRoot, 'models');
const schemaPath = join(manifestDir, 'schema', 'manifest.schema.json');

let validator: ReturnType<Ajv2020['compile']> | undefined;
function validate(data: unknown): ErrorObject[] {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  }
  return validator(data) ? [] : (validator.errors ?? []);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'required') return `${where}: missing "${String(e.params.missingProperty)}"`;
  if (e.keyword === 'enum') return `${where}: must be one of ${JSON.stringify(e.params.allowedValues)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** Checks what a schema cannot: names that must exist, channels inside their slices, consistent sizes. */
function crossCheck(m: ModelManifest): string[] {
  const errors: string[] = [];
  const names = new Set(m.keypoints);
  if (names.size !== m.keypoints.length) errors.push('/keypoints: names must be unique');
  const hmNeeded = m.keypoints.length + (m.background_channel === null ? 0 : 1);
  if (m.outputs.heatmaps.channels !== hmNeeded)
    errors.push(`/outputs/heatmaps/channels: ${m.outputs.heatmaps.channels} but ${m.keypoints.length} keypoints` +
      `${m.background_channel === null ? '' : ' + background'} need ${hmNeeded}`);
  if (m.background_channel !== null && m.background_channel < m.keypoints.length)
    errors.push(`/background_channel: ${m.background_channel} collides with keypoint channels 0..${m.keypoints.length - 1}`);
  if (m.background_channel !== null && m.background_channel >= m.outputs.heatmaps.channels)
    errors.push(`/background_channel: ${m.background_channel} is outside the ${m.outputs.heatmaps.channels} heatmap channels`);
  const usedPaf = new Set<number>();
  m.limbs.forEach((l, i) => {
    for (const end of ['from', 'to'] as const)
      if (!names.has(l[end])) errors.push(`/limbs/${i}/${end}: "${l[end]}" is not a keypoint name`);
    if (l.from === l.to) errors.push(`/limbs/${i}: a limb must join two different keypoints`);
    for (const c of ['x', 'y'] as const) {
      const ch = l.paf[c];
      if (ch >= m.outputs.pafs.channels) errors.push(`/limbs/${i}/paf/${c}: channel ${ch} is outside the ${m.outputs.pafs.channels} PAF channels`);
      if (usedPaf.has(ch)) errors.push(`/limbs/${i}/paf/${c}: channel ${ch} is used twice`);
      usedPaf.add(ch);
    }
  });
  if (m.outputs.pafs.channels !== 2 * m.limbs.length)
    errors.push(`/outputs/pafs/channels: ${m.outputs.pafs.channels} but ${m.limbs.length} limbs need ${2 * m.limbs.length}`);
  if (m.outputs.heatmaps.tensor === m.outputs.pafs.tensor) {
    const h = m.outputs.heatmaps, p = m.outputs.pafs;
    if (h.offset < p.offset + p.channels && p.offset < h.offset + h.channels)
      errors.push('/outputs: heatmap and PAF channel ranges overlap inside the shared tensor');
  }
  m.coco17.forEach((k, i) => {
    if (k >= m.keypoints.length) errors.push(`/coco17/${i}: ${k} is not a keypoint index`);
  });
  const s = m.input_size;
  for (const key of ['min_height', 'max_height', 'default_height'] as const)
    if (s[key] % m.stride !== 0) errors.push(`/input_size/${key}: ${s[key]} is not a multiple of the stride ${m.stride}`);
  if (!(s.min_height <= s.default_height && s.default_height <= s.max_height))
    errors.push('/input_size: need min_height <= default_height <= max_height');
  if (!m.layout_only && (!m.file || !m.sha256)) errors.push('(root): a runnable manifest needs "file" and "sha256"');
  return errors;
}

/** Validates a parsed manifest; throws one ManifestError listing every problem. */
export function parseManifest(data: unknown, origin = 'manifest'): ModelManifest {
  const schemaErrors = validate(data).map(describe);
  if (schemaErrors.length) throw new ManifestError(`${origin} is invalid:\n  ${schemaErrors.join('\n  ')}`);
  const m = data as ModelManifest;
  const errors = crossCheck(m);
  if (errors.length) throw new ManifestError(`${origin} is invalid:\n  ${errors.join('\n  ')}`);
  return m;
}

export function loadManifestFile(path: string): ModelManifest {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ManifestError(`cannot read manifest ${path}: ${(e as Error).message}`);
  }
  return parseManifest(data, path);
}

/** Names of the manifests shipped in models/. */
export function listManifests(dir = manifestDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/** Loads a shipped manifest by name, or a manifest file by path. */
export function loadManifest(nameOrPath: string, dir = manifestDir): ModelManifest {
  if (nameOrPath.endsWith('.json')) return loadManifestFile(nameOrPath);
  const known = listManifests(dir);
  if (!known.includes(nameOrPath))
    throw new ManifestError(`unknown model "${nameOrPath}"; known models: ${known.join(', ')}`);
  return loadManifestFile(join(dir, `${nameOrPath}.json`));
}

/** Resolves keypoint names to indices once, so the parser's loops touch only typed arrays. */
export function layoutOf(m: ModelManifest): ModelLayout {
  const index = new Map(m.keypoints.map((n, i) => [n, i]));
  const n = m.limbs.length;
  const layout: ModelLayout = {
    manifest: m,
    numParts: m.keypoints.length,
    numLimbs: n,
    limbA: new Int32Array(n),
    limbB: new Int32Array(n),
    pafX: new Int32Array(n),
    pafY: new Int32Array(n),
    redundant: new Uint8Array(n),
  };
  m.limbs.forEach((l, i) => {
    layout.limbA[i] = index.get(l.from)!;
    layout.limbB[i] = index.get(l.to)!;
    layout.pafX[i] = l.paf.x;
    layout.pafY[i] = l.paf.y;
    layout.redundant[i] = l.redundant ? 1 : 0;
  });
  return layout;
}

/** The default model when config names none. */
export const DEFAULT_MODEL = 'lightweight-openpose-coco18';
