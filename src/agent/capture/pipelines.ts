// The capture commands, as argv templates. Each writes raw frames of exactly {width}×{height}×3 bytes to stdout.
// A template argument that is exactly "{name}" of a list value is replaced by that list (possibly nothing);
// "{name}" inside an argument is replaced by the value's text. config `source.pipeline` replaces the template.

import { pathToFileURL } from 'node:url';
import type { CaptureConfig } from './config-schema.js';
import type { SourceInfo } from './probe.js';
import type { SourceSpec } from './source-uri.js';
import type { Backend, CaptureTools } from './tools.js';

export type Template = readonly string[];

const FFMPEG_HEAD = ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error'];
const FFMPEG_TAIL = ['-an', '-sn', '-dn', '-vf', '{filters}', '-pix_fmt', '{pix_fmt}', '-f', 'rawvideo', 'pipe:1'];
// `-q` keeps gst-launch's status text off stdout, which carries the frames.
const GST_HEAD = ['gst-launch-1.0', '-q'];
// {rate} comes first: gst-launch-1.0 cannot parse its caps filter directly before the output caps.
// {crop}: videocrop (source.crop), before the scaler so that it scales only the region.
const GST_SOFT_TAIL = ['{rate}', 'videoconvert', '!', '{crop}', 'videoscale', '!', 'video/x-raw,format={gst_format},width={width},height={height}', '!', 'fdsink', 'fd=1', 'sync={sync}'];
// nvvidconv scales on the VIC and emits BGRx; videoconvert only drops the padding byte. {nv_crop}: nvvidconv's
// left/right/top/bottom (the crop rectangle's edges in input pixels, right and bottom exclusive), cut on the VIC too.
const GST_NV_TAIL = ['nvvidconv', '{nv_crop}', '!', 'video/x-raw,width={width},height={height},format=BGRx', '!', '{rate}', 'videoconvert', '!', 'video/x-raw,format={gst_format}', '!', 'fdsink', 'fd=1', 'sync={sync}'];

/** Built-in templates by backend and source kind ("gstreamer-nv": Jetson hardware decode and scaling). */
export const TEMPLATES: Record<'ffmpeg' | 'gstreamer' | 'gstreamer-nv', Partial<Record<SourceSpec['kind'], Template>>> = {
  ffmpeg: {
    file: [...FFMPEG_HEAD, '{input_opts}', '-i', '{input}', '-map', '0:v:0', ...FFMPEG_TAIL],
    images: [...FFMPEG_HEAD, '-i', '{input}', '-frames:v', '1', ...FFMPEG_TAIL],
    v4l2: [...FFMPEG_HEAD, '-f', 'v4l2', '-i', '{input}', ...FFMPEG_TAIL],
    stream: [...FFMPEG_HEAD, '{input_opts}', '-i', '{input}', '-map', '0:v:0', ...FFMPEG_TAIL],
    test: [...FFMPEG_HEAD, '{input_opts}', '-f', 'lavfi', '-i', '{pattern}=size={source_width}x{source_height}:rate={gst_fps}', ...FFMPEG_TAIL],
  },
  gstreamer: {
    file: [...GST_HEAD, 'filesrc', 'location={input}', '!', 'decodebin', '!', ...GST_SOFT_TAIL],
    images: [...GST_HEAD, 'filesrc', 'location={input}', '!', 'decodebin', '!', ...GST_SOFT_TAIL],
    v4l2: [...GST_HEAD, 'v4l2src', 'device={input}', '!', ...GST_SOFT_TAIL],
    stream: [...GST_HEAD, 'uridecodebin', 'uri={uri}', '!', ...GST_SOFT_TAIL],
    test: [...GST_HEAD, 'videotestsrc', 'is-live={sync}', '!', 'video/x-raw,width={source_width},height={source_height},framerate={gst_fps}', '!', ...GST_SOFT_TAIL],
  },
  'gstreamer-nv': {
    file: [...GST_HEAD, 'filesrc', 'location={input}', '!', 'parsebin', '!', 'nvv4l2decoder', '!', ...GST_NV_TAIL],
    stream: [...GST_HEAD, 'uridecodebin', 'uri={uri}', '!', ...GST_NV_TAIL],
    csi: [...GST_HEAD, 'nvarguscamerasrc', 'sensor-id={sensor}', '!', 'video/x-raw(memory:NVMM),width={source_width},height={source_height},framerate={gst_fps}', '!', ...GST_NV_TAIL],
  },
};

export type PlaceholderValues = Record<string, string | string[]>;

/** Fills a template; throws on an unknown placeholder so a typo in a configured pipeline is reported, not run. */
export function fillTemplate(template: Template, values: PlaceholderValues): string[] {
  const argv: string[] = [];
  for (const arg of template) {
    const whole = /^\{(\w+)\}$/.exec(arg);
    if (whole && Array.isArray(values[whole[1]])) {
      argv.push(...(values[whole[1]] as string[]));
      continue;
    }
    argv.push(
      arg.replace(/\{(\w+)\}/g, (_, name: string) => {
        const v = values[name];
        if (v === undefined) throw new Error(`unknown placeholder {${name}} in capture pipeline`);
        return Array.isArray(v) ? v.join(' ') : v;
      }),
    );
  }
  return argv;
}

/**
 * Output frame size: `outputHeight` rows (0 = native), width from the source aspect rounded to a
 * multiple of `align`. ffmpeg writes packed rows (align 2, for the chroma of the decoders' formats);
 * GStreamer pads every row of a raw video buffer to 4 bytes, so a BGR width must be a multiple of 4
 * there (654 px wide frames arrived as 1964-byte rows, not 1962, and every frame boundary slipped).
 */
export function outputSize(source: SourceInfo, outputHeight: number, align: 2 | 4 = 2): { width: number; height: number } {
  if (outputHeight <= 0) return align === 4 && source.width % 4 ? { width: Math.max(4, source.width - (source.width % 4)), height: source.height } : { width: source.width, height: source.height };
  const width = Math.max(align, align * Math.round((source.width * outputHeight) / source.height / align));
  return { width, height: outputHeight };
}

/** Frame rate as a GStreamer fraction ("30/1", "30000/1001"-like). */
function fraction(fps: number): string {
  return Number.isInteger(fps) ? `${fps}/1` : `${Math.round(fps * 1000)}/1000`;
}

export interface CommandPlan {
  argv: string[];
  width: number;
  height: number;
  source: SourceInfo;
  backend: Backend;
  /** Source frames kept under fps_cap: `num` of every `den`, run frame k = source frame ceil(k · den / num) (files). */
  keep: { num: number; den: number };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Which frames of a file fps_cap keeps, as whole numbers so capture can name each kept frame exactly:
 * `num` of every `den` (rates to 1/1000 fps). ffmpeg keeps source frame n when (n · num) mod den < num, i.e.
 * n = ceil(k · den / num) for output frame k; GStreamer's `videorate drop-only` keeps the first frame at or after
 * each output time, the same frames (checked by pixel hashes on street.avi at 6.25, 7, 12.5 and 30 fps).
 */
export function keptFrames(sourceFps: number, capFps: number): { num: number; den: number } {
  if (!(capFps > 0 && sourceFps > 0)) return { num: 1, den: 1 };
  const num = Math.round(capFps * 1000), den = Math.round(sourceFps * 1000);
  if (num >= den) return { num: 1, den: 1 };
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

/**
 * ffmpeg filters that keep exactly the frames keptFrames() names. The fps filter would pick the frame nearest
 * each output time (frame 1, 5, 9… of street.avi at 12.5 fps) and cannot be mirrored exactly; `select` on the
 * frame number can. setpts + fps then give the kept frames a constant rate, or rawvideo output (constant frame
 * rate) would duplicate them back to the source rate.
 */
function selectFilters(keep: { num: number; den: number }, capFps: number): string {
  return `select='lt(mod(n*${keep.num},${keep.den}),${keep.num})',settb=1/1000000,setpts=N/(${capFps}*TB),fps=${capFps},`;
}

export interface PlanInput {
  spec: SourceSpec;
  /** For image directories: the image this run decodes. */
  input?: string;
  source: SourceInfo;
  backend: Backend;
  tools: CaptureTools;
  config: Pick<CaptureConfig, 'mode' | 'output_height' | 'fps_cap' | 'pixel_order' | 'pipeline'> & { crop?: CaptureConfig['crop'] };
}

export interface CropRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The region source.crop cuts from a `source`-sized frame (width/height 0 = to the edge), or null for the whole
 * frame. Throws when it does not fit: a crop outside the picture is a config error, said once per attempt.
 */
export function cropRegion(source: Pick<SourceInfo, 'width' | 'height'>, crop: CaptureConfig['crop'] | undefined): CropRegion | null {
  if (!crop) return null;
  const width = crop.width || source.width - crop.x, height = crop.height || source.height - crop.y;
  if (crop.x === 0 && crop.y === 0 && width === source.width && height === source.height) return null;
  if (width < 2 || height < 2 || crop.x + width > source.width || crop.y + height > source.height)
    throw new Error(
      `source.crop ${width}x${height} at ${crop.x},${crop.y} does not fit the ${source.width}x${source.height} source ` +
        '(x + width must be ≤ the source width, y + height ≤ its height)',
    );
  return { x: crop.x, y: crop.y, width, height };
}

/** The command that captures `spec` with the given backend, and the frame size it will write. */
export function planCommand(p: PlanInput): CommandPlan {
  const { spec, config } = p;
  // The crop is the source from here on: frames, keypoints and the published source size are the region's.
  const region = cropRegion(p.source, config.crop);
  const source: SourceInfo = region ? { width: region.width, height: region.height, fps: p.source.fps } : p.source;
  const { width, height } = outputSize(source, config.output_height, p.backend === 'gstreamer' ? 4 : 2);
  const realtime = config.mode === 'realtime';
  const paced = realtime && (spec.kind === 'file' || spec.kind === 'test');
  const capFps = config.fps_cap > 0 && (source.fps === 0 || config.fps_cap < source.fps) ? config.fps_cap : 0;
  // Files of a known rate keep an exact frame selection, so each frame's source index is known (frame-pool.ts).
  const keep = spec.kind === 'file' ? keptFrames(source.fps, capFps) : { num: 1, den: 1 };
  const exactSelect = keep.den > 1;
  const input =
    p.input ??
    (spec.kind === 'file' ? spec.path : spec.kind === 'v4l2' ? spec.device : spec.kind === 'stream' ? spec.url : '');
  const inputOpts: string[] = [];
  if (paced) inputOpts.push('-re');
  if (spec.kind === 'stream' && /^rtsps?:/i.test(spec.url)) inputOpts.push('-rtsp_transport', 'tcp');
  const values: PlaceholderValues = {
    input,
    uri: spec.kind === 'stream' ? spec.url : input ? pathToFileURL(input).href : '',
    width: String(width),
    height: String(height),
    source_width: String(p.source.width),
    source_height: String(p.source.height),
    crop_x: String(region?.x ?? 0),
    crop_y: String(region?.y ?? 0),
    crop_width: String(source.width),
    crop_height: String(source.height),
    crop: region
      ? ['videocrop', `left=${region.x}`, `right=${p.source.width - region.x - region.width}`, `top=${region.y}`, `bottom=${p.source.height - region.y - region.height}`, '!']
      : [],
    nv_crop: region ? [`left=${region.x}`, `right=${region.x + region.width}`, `top=${region.y}`, `bottom=${region.y + region.height}`] : [],
    fps: String(capFps || source.fps),
    gst_fps: fraction(capFps || source.fps || 30),
    pix_fmt: config.pixel_order === 'rgb' ? 'rgb24' : 'bgr24',
    gst_format: config.pixel_order === 'rgb' ? 'RGB' : 'BGR',
    sensor: spec.kind === 'csi' ? String(spec.sensor) : '0',
    pattern: spec.kind === 'test' ? spec.pattern : 'testsrc2',
    input_opts: inputOpts,
    filters: `${exactSelect ? selectFilters(keep, capFps) : capFps ? `fps=${capFps},` : ''}${region ? `crop=${region.width}:${region.height}:${region.x}:${region.y}:exact=1,` : ''}scale=${width}:${height}:flags=bilinear`,
    rate: capFps ? ['videorate', 'drop-only=true', '!', `video/x-raw,framerate=${fraction(capFps)}`, '!'] : [],
    sync: paced ? 'true' : 'false',
  };
  let template: Template | undefined = config.pipeline.length ? config.pipeline : undefined;
  if (!template && p.backend === 'gstreamer') {
    const nv = p.tools.nvvidconv && (spec.kind !== 'file' || p.tools.nvv4l2decoder);
    template = (nv ? TEMPLATES['gstreamer-nv'][spec.kind] : undefined) ?? TEMPLATES.gstreamer[spec.kind];
  }
  template ??= TEMPLATES[p.backend][spec.kind];
  if (!template) throw new Error(`no ${p.backend} pipeline for ${spec.kind} sources`);
  return { argv: fillTemplate(template, values), width, height, source, backend: p.backend, keep };
}
