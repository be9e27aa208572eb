// The source's native frame size and rate, asked from ffprobe (or gst-discoverer where ffprobe is missing).
// Capture needs it to pick an output width with the source's aspect, and every frame reports it
// because published keypoints are in source pixels.

import { pathToFileURL } from 'node:url';
import type { CaptureConfig } from './config-schema.js';
import { lastLine, runCommand } from './exec.js';
import type { SourceSpec } from './source-uri.js';
import { SourceError } from './source-uri.js';
import type { CaptureTools } from './tools.js';

export interface SourceInfo {
  width: number;
  height: number;
  /** Frames per second; 0 when unknown (variable-rate streams, single images). */
  fps: number;
}

/** Streams may take a while to answer; local files answer at once. */
const PROBE_TIMEOUT_MS = 20_000;

function parseRate(rate: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(rate ?? '');
  if (!m) return 0;
  const den = m[2] === undefined ? 1 : Number(m[2]);
  return den > 0 ? Number(m[1]) / den : 0;
}

interface FfprobeStream {
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  tags?: { rotate?: string };
  side_data_list?: Array<{ rotation?: number }>;
}

/** Parses `ffprobe -of json -show_streams` output for the first video stream; null when it has none. */
export function parseFfprobe(json: string): SourceInfo | null {
  let streams: FfprobeStream[];
  try {
    streams = (JSON.parse(json) as { streams?: FfprobeStream[] }).streams ?? [];
  } catch {
    return null;
  }
  const s = streams.find((v) => (v.width ?? 0) > 0 && (v.height ?? 0) > 0);
  if (!s) return null;
  const rotation = Number(s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? s.tags?.rotate ?? 0);
  // ffmpeg applies rotation metadata while decoding, so a quarter turn swaps the delivered size.
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  const fps = parseRate(s.avg_frame_rate) || parseRate(s.r_frame_rate);
  return { width: quarterTurn ? s.height! : s.width!, height: quarterTurn ? s.width! : s.height!, fps };
}

/** Parses gst-discoverer-1.0 text output ("Width: 1280", "Height: 720", "Frame rate: 50/1"). */
export function parseGstDiscoverer(text: string): SourceInfo | null {
  const width = Number(/Width: (\d+)/.exec(text)?.[1] ?? 0);
  const height = Number(/Height: (\d+)/.exec(text)?.[1] ?? 0);
  if (!(width > 0 && height > 0)) return null;
  return { width, height, fps: parseRate(/Frame rate: ([\d./]+)/.exec(text)?.[1]) };
}

function inputOf(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'file':
      return spec.path;
    case 'v4l2':
      return spec.device;
    case 'stream':
      return spec.url;
    default:
      throw new Error(`no probe input for a ${spec.kind} source`);
  }
}

/** Probes one media input (file path, device, URL); throws SourceError with the tool's own last message. */
export async function probeInput(input: string, kind: SourceSpec['kind'], tools: CaptureTools): Promise<SourceInfo> {
  if (tools.ffprobe) {
    const argv = ['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_streams', '-of', 'json'];
    if (kind === 'v4l2') argv.push('-f', 'v4l2');
    if (/^rtsps?:/i.test(input)) argv.push('-rtsp_transport', 'tcp');
    const r = await runCommand([...argv, input], PROBE_TIMEOUT_MS);
    if (r.failure) throw new SourceError(`cannot probe ${input}: ${r.failure}`);
    if (r.code !== 0) throw new SourceError(`cannot read ${input}: ffprobe exited ${r.code}: ${lastLine(r.stderr)}`);
    const info = parseFfprobe(r.stdout);
    if (!info) throw new SourceError(`${input} has no video stream (ffprobe found none)`);
    return info;
  }
  if (tools.gstDiscoverer) {
    const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : pathToFileURL(input).href;
    const r = await runCommand(['gst-discoverer-1.0', uri], PROBE_TIMEOUT_MS);
    const info = r.code === 0 ? parseGstDiscoverer(r.stdout) : null;
    if (!info) throw new SourceError(`cannot read ${input}: gst-discoverer-1.0: ${r.failure ?? lastLine(r.stderr + r.stdout)}`);
    return info;
  }
  throw new SourceError('cannot learn the source size: neither ffprobe nor gst-discoverer-1.0 is installed');
}

/** Native size and rate of a source; image directories are probed image by image elsewhere. */
export async function probeSource(spec: SourceSpec, tools: CaptureTools, csi: CaptureConfig['csi']): Promise<SourceInfo> {
  switch (spec.kind) {
    case 'test':
      return { width: spec.width, height: spec.height, fps: spec.fps };
    case 'csi':
      return { width: csi.width, height: csi.height, fps: csi.fps };
    case 'images':
      return probeInput(spec.files[0], 'images', tools);
    default:
      return probeInput(inputOf(spec), spec.kind, tools);
  }
}
