// Image in, people out: manifest → located model → backend → preprocess → PAF parser → source pixels.
// The one object the CLI and the agent hold; it never knows which backend runs underneath.

import type { InferenceBackend, NetSize } from './backend.js';
import { OutputShapeError } from './backend.js';
import type { InferenceConfig } from './backends/config-schema.js';
import { selectBackend, type SelectBackendOptions } from './backends/select.js';
import { DEFAULT_MODEL, layoutOf, loadManifest, type ModelLayout, type ModelManifest, type ParserParams } from './manifest.js';
import { locateModel } from './model-locator.js';
import { PafParser } from './paf/parser.js';
import { placeSource, Preprocessor, type Placement } from './preprocess.js';
import type { Person, PoseResult, RawFrame } from './types.js';

export type RuntimeLog = (level: 'info' | 'warn', msg: string) => void;

export interface PoseRuntimeOptions {
  /** Manifest name or path; default: the default model. */
  model?: string;
  /** Extra directories searched for the model file. */
  modelPath?: string[];
  /** Net heights this runtime will be asked for (e.g. the scale ladder); prepared up front. */
  heights?: number[];
  /** Source size the heights are prepared for (sizes depend on the aspect); default 16:9. */
  sourceSize?: { width: number; height: number };
  inference?: Partial<InferenceConfig>;
  /** Use this backend instead of selecting one from config (tests, embedding). */
  backend?: InferenceBackend;
  /** Parser thresholds overriding the manifest's defaults. */
  parser?: Partial<ParserParams>;
  /**
   * Refuse frames whose net size was not prepared (`heights` at `sourceSize`) instead of preparing it
   * mid-run. The agent sets it: TensorRT cannot run an unprepared size, and onnxruntime would allocate
   * in the frame loop. The CLI leaves it off (every image has its own size).
   */
  strictSizes?: boolean;
  /** Seams of backend selection (a stand-in TensorRT addon and engine directory in tests). */
  selection?: Pick<SelectBackendOptions, 'addonLoader' | 'engineDirs' | 'createOnnxRuntime'>;
  log?: RuntimeLog;
}

const defaultInference: InferenceConfig = {
  model: DEFAULT_MODEL,
  model_path: [],
  height: 0,
  backend: 'auto',
  onnxruntime: { providers: ['cpu'], threads: 0 },
  parser: {},
  tensorrt: { engine_dir: '', precision: 'fp16' },
};

export class PoseRuntime {
  readonly layout: ModelLayout;
  private readonly preprocessor: Preprocessor;
  private readonly parser: PafParser;
  private params: ParserParams;
  /** Last placement, reused while the source size and height stay the same. */
  private placement: Placement | undefined;
  private placementKey = '';
  /** Net sizes prepared at create() ("WxH"), checked when strictSizes is on. */
  private prepared: ReadonlySet<string> = new Set();
  private strict = false;

  private constructor(
    readonly manifest: ModelManifest,
    readonly backend: InferenceBackend,
    /** Why this backend was chosen (for logs and stats). */
    readonly backendReason: string,
  ) {
    this.layout = layoutOf(manifest);
    this.params = { ...manifest.parser };
    this.preprocessor = new Preprocessor(manifest.input);
    this.parser = new PafParser(this.layout, this.params);
  }

  static async create(opts: PoseRuntimeOptions = {}): Promise<PoseRuntime> {
    const inference: InferenceConfig = {
      ...defaultInference,
      ...opts.inference,
      onnxruntime: { ...defaultInference.onnxruntime, ...opts.inference?.onnxruntime },
      tensorrt: { ...defaultInference.tensorrt, ...opts.inference?.tensorrt },
      parser: { ...opts.inference?.parser },
    };
    const manifest = loadManifest(opts.model ?? inference.model);
    const log = opts.log ?? (() => {});
    const modelPath = await locateModel(manifest, [...(opts.modelPath ?? []), ...inference.model_path]);
    const src = opts.sourceSize ?? { width: 1280, height: 720 };
    const heights = opts.heights?.length ? opts.heights : [inference.height || manifest.input_size.default_height];
    for (const h of heights) checkHeight(manifest, h);
    const sizes: NetSize[] = heights.map((h) => placeSource(src.width, src.height, h, manifest.stride));
    let backend = opts.backend;
    let reason = 'backend given by the caller';
    if (backend) await backend.load(manifest, modelPath, sizes);
    else ({ backend, reason } = await selectBackend({ inference, manifest, modelPath, sizes, log, ...opts.selection }));
    const runtime = new PoseRuntime(manifest, backend, reason);
    runtime.prepared = new Set(sizes.map((z) => `${z.width}x${z.height}`));
    runtime.strict = opts.strictSizes ?? false;
    const parser = { ...inference.parser, ...opts.parser };
    if (Object.keys(parser).length) runtime.setParserParams(parser);
    return runtime;
  }

  get parserParams(): Readonly<ParserParams> {
    return this.params;
  }

  /** Changes parser thresholds live (remote config); takes effect on the next frame. */
  setParserParams(p: Partial<ParserParams>): void {
    const next = { ...this.params, ...p };
    this.parser.setParams(next); // throws on an invalid value and keeps the old ones
    this.params = next;
  }

  /** Net input size for a source at `height` (default: the manifest's default height). */
  netSize(srcWidth: number, srcHeight: number, height = this.manifest.input_size.default_height): NetSize {
    const p = placeSource(srcWidth, srcHeight, height, this.manifest.stride);
    return { width: p.width, height: p.height };
  }

  private place(w: number, h: number, height: number): Placement {
    const key = `${w}x${h}@${height}`;
    if (key !== this.placementKey) {
      checkHeight(this.manifest, height);
      const placement = placeSource(w, h, height, this.manifest.stride);
      if (this.strict && !this.prepared.has(`${placement.width}x${placement.height}`))
        throw new RangeError(
          `net size ${placement.width}x${placement.height} (a ${w}x${h} frame at height ${height}) was not prepared; prepared: ${[...this.prepared].join(', ')}`,
        );
      this.placement = placement;
      this.placementKey = key;
    }
    return this.placement!;
  }

  /** Detects people in one frame; keypoints come back in the frame's pixels. */
  async estimate(frame: RawFrame, height = this.manifest.input_size.default_height): Promise<PoseResult> {
    const p = this.place(frame.width, frame.height, height);
    const t0 = performance.now();
    this.preprocessor.run(frame, p, this.backend.input(p));
    const t1 = performance.now();
    const out = await this.backend.run(p);
    const t2 = performance.now();
    const m = this.manifest;
    const hm = out.tensors[m.outputs.heatmaps.tensor];
    const paf = out.tensors[m.outputs.pafs.tensor];
    if (!hm || !paf) throw new OutputShapeError(`backend returned no "${m.outputs.heatmaps.tensor}"/"${m.outputs.pafs.tensor}" output`);
    const parsed = this.parser.parse({
      heatmaps: hm,
      heatmapOffset: m.outputs.heatmaps.offset,
      pafs: paf,
      pafOffset: m.outputs.pafs.offset,
      width: out.mapWidth,
      height: out.mapHeight,
    });
    const people = this.toSource(parsed, p);
    const t3 = performance.now();
    return {
      people,
      width: frame.width,
      height: frame.height,
      net: { width: p.width, height: p.height },
      timing_ms: { preprocess_ms: t1 - t0, inference_ms: t2 - t1, parse_ms: t3 - t2 },
    };
  }

  /**
   * Map cells → source pixels. The parser reports peaks with integer coordinates at cell centres;
   * cell m covers net pixels [m·s, (m+1)·s), whose centre is m·s + (s−1)/2 in pixel-centre terms,
   * and net pixel n samples source position (n + 0.5)/scale − 0.5.
   */
  private toSource(parsed: ReturnType<PafParser['parse']>, p: Placement): Person[] {
    const K = this.layout.numParts;
    const s = this.manifest.stride;
    const people: Person[] = new Array(parsed.count);
    const k3 = parsed.keypoints;
    for (let i = 0; i < parsed.count; i++) {
      const kp = new Float32Array(K * 3);
      for (let k = 0; k < K; k++) {
        const o = (i * K + k) * 3;
        const c = k3[o + 2]!;
        if (c <= 0) continue;
        kp[k * 3] = (k3[o]! * s + (s - 1) / 2 + 0.5) / p.scale - 0.5;
        kp[k * 3 + 1] = (k3[o + 1]! * s + (s - 1) / 2 + 0.5) / p.scale - 0.5;
        kp[k * 3 + 2] = c;
      }
      people[i] = { score: parsed.scores[i]!, parts: parsed.partCounts[i]!, keypoints: kp };
    }
    return people;
  }

  /** Decodes an image file (EXIF orientation applied) and detects people in it. */
  async estimateImage(path: string, height?: number): Promise<PoseResult> {
    const frame = await decodeImage(path);
    return this.estimate(frame, height);
  }

  async dispose(): Promise<void> {
    await this.backend.dispose();
  }
}

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

/**
 * Decodes an image file into an RGB frame with sharp (libvips). Imported on first use: the agent
 * decodes video in its capture process and must not need libvips (its prebuilt wants glibc 2.28).
 */
export async function decodeImage(path: string): Promise<RawFrame> {
  try {
    const { default: sharp } = await import('sharp');
    const { data, info } = await sharp(path).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data, width: info.width, height: info.height, order: 'rgb' };
  } catch (e) {
    throw new ImageDecodeError(`cannot read image ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
}

function checkHeight(m: ModelManifest, h: number): void {
  const { min_height, max_height } = m.input_size;
  if (!Number.isInteger(h) || h % m.stride !== 0 || h < min_height || h > max_height)
    throw new RangeError(`net height ${h} is not usable for "${m.name}": it must be a multiple of ${m.stride} in ${min_height}..${max_height}`);
}
