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
const GST_SOFT_TAIL = ['videoconvert', '!', 'videoscale', '!', '{rate}', 'video/x-raw,format={gst_format},width={width},height={height}', '!', 'fdsink', 'fd=1', 'sync={sync}'];
// nvvidconv scales on the VIC and emits BGRx; videoconvert only drops the padding byte.
const GST_NV_TAIL = ['nvvidconv', '!', 'video/x-raw,width={width},height={height},format=BGRx', '!', '{rate}', 'videoconvert', '!', 'video/x-raw,format={gst_format}', '!', 'fdsink', 'fd=1', 'sync={sync}'];

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

/** Output frame size: `outputHeight` rows (0 = native), width from the source aspect rounded to an even number. */
export function outputSize(source: SourceInfo, outputHeight: number): { width: number; height: number } {
  if (outputHeight <= 0) return { width: source.width, height: source.height };
  const width = Math.max(2, 2 * Math.round((source.width * outputHeight) / source.height / 2));
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
}

export interface PlanInput {
  spec: SourceSpec;
  /** For image directories: the image this run decodes. */
  input?: string;
  source: SourceInfo;
  backend: Backend;
  tools: CaptureTools;
  config: Pick<CaptureConfig, 'mode' | 'output_height' | 'fps_cap' | 'pixel_order' | 'pipeline'>;
}

/** The command that captures `spec` with the given backend, and the frame size it will write. */
export function planCommand(p: PlanInput): CommandPlan {
  const { spec, source, config } = p;
  const { width, height } = outputSize(source, config.output_height);
  const realtime = config.mode === 'realtime';
  const paced = realtime && (spec.kind === 'file' || spec.kind === 'test');
  const capFps = config.fps_cap > 0 && (source.fps === 0 || config.fps_cap < source.fps) ? config.fps_cap : 0;
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
    source_width: String(source.width),
    source_height: String(source.height),
    fps: String(capFps || source.fps),
    gst_fps: fraction(capFps || source.fps || 30),
    pix_fmt: config.pixel_order === 'rgb' ? 'rgb24' : 'bgr24',
    gst_format: config.pixel_order === 'rgb' ? 'RGB' : 'BGR',
    sensor: spec.kind === 'csi' ? String(spec.sensor) : '0',
    pattern: spec.kind === 'test' ? spec.pattern : 'testsrc2',
    input_opts: inputOpts,
    filters: `${capFps ? `fps=${capFps},` : ''}scale=${width}:${height}:flags=bilinear`,
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
  return { argv: fillTemplate(template, values), width, height, source, backend: p.backend };
}
