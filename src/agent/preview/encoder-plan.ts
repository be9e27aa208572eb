// Which encoder the live view runs and the exact command, as argv templates like capture's pipelines.
// One GStreamer child per live view: I420 frames on stdin → encoder → RTP payloader → rtpsession → RFC 4571
// framed RTP on stdout; RTCP from the agent on fd 3 reaches rtpsession, which turns a Picture Loss Indication
// into an upstream force-key-unit event: the encoder's next frame is an IDR (a joining viewer starts at once).
// Pure: what is installed comes in as EncoderTools (probed by encoder-probe.ts, or recorded in tests).

import { fillTemplate, type Template } from '../capture/pipelines.js';
import type { PreviewConfig } from './config-schema.js';
import type { VideoCodec } from './rtp.js';

export type EncoderName = 'nvv4l2h264enc' | 'x264enc' | 'openh264enc' | 'vp8enc';

/** What the machine has, as far as the encoder choice is concerned. */
export interface EncoderTools {
  gstLaunch: boolean;
  /** GStreamer elements `gst-inspect-1.0 <name>` found. */
  elements: ReadonlySet<string>;
  /** The NVENC device node, when the board has one (absent on Orin Nano and off Jetson). */
  nvencDevice: string | null;
}

/** Every element a built-in pipeline may use: what the probe asks gst-inspect-1.0 about. */
export const ENCODER_ELEMENTS = {
  common: ['fdsrc', 'rawvideoparse', 'rtpsession', 'rtpstreampay', 'rtpstreamdepay', 'fdsink', 'fakesink'],
  nvv4l2h264enc: ['nvvidconv', 'nvv4l2h264enc', 'rtph264pay'],
  x264enc: ['x264enc', 'rtph264pay'],
  openh264enc: ['openh264enc', 'rtph264pay'],
  vp8enc: ['vp8enc', 'rtpvp8pay'],
} as const;

/** Preference order for `auto`: hardware first, then the H.264 encoders every browser decodes, then VP8. */
export const AUTO_ORDER: readonly EncoderName[] = ['nvv4l2h264enc', 'x264enc', 'openh264enc', 'vp8enc'];

/** NVENC device nodes: L4T R32/R35 (TX2, Xavier, AGX/NX Orin on JetPack 5) and R36 (JetPack 6). */
export const NVENC_NODES = ['/dev/nvhost-msenc', '/dev/v4l2-nvenc'] as const;

/** Debian/Ubuntu packages that bring each encoder's elements (Jetson: nvidia-l4t-gstreamer). */
const PACKAGE: Record<EncoderName, string> = {
  nvv4l2h264enc: 'nvidia-l4t-gstreamer (JetPack)',
  x264enc: 'gstreamer1.0-plugins-ugly',
  openh264enc: 'gstreamer1.0-plugins-bad',
  vp8enc: 'gstreamer1.0-plugins-good',
};
const COMMON_PACKAGES = 'gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good';

export const CODEC_OF: Record<EncoderName, VideoCodec> = { nvv4l2h264enc: 'H264', x264enc: 'H264', openh264enc: 'H264', vp8enc: 'VP8' };

export interface EncoderChoice {
  /** Built-in encoder, or 'custom' for preview.encoder.pipeline. */
  encoder: EncoderName | 'custom';
  codec: VideoCodec;
  hardware: boolean;
  /** One sentence: why this one (and why not the ones before it). */
  why: string;
}

export class EncoderUnavailableError extends Error {}

function missing(tools: EncoderTools, name: EncoderName): string[] {
  return [...ENCODER_ELEMENTS.common, ...ENCODER_ELEMENTS[name]].filter((e) => !tools.elements.has(e));
}

/** Why `name` cannot run here, or undefined when it can. */
export function unusable(tools: EncoderTools, name: EncoderName): string | undefined {
  if (!tools.gstLaunch) return `gst-launch-1.0 is not installed (apt install ${COMMON_PACKAGES})`;
  if (name === 'nvv4l2h264enc' && !tools.nvencDevice)
    return `no NVENC device node (${NVENC_NODES.join(', ')}): this board has no hardware encoder (Orin Nano) or it is not a Jetson`;
  const gone = missing(tools, name);
  if (gone.length) return `gst-inspect-1.0 does not find ${gone.join(', ')} (${PACKAGE[name]}${gone.some((g) => (ENCODER_ELEMENTS.common as readonly string[]).includes(g)) ? `; ${COMMON_PACKAGES}` : ''})`;
  return undefined;
}

/** The encoder the live view will run, and why; throws EncoderUnavailableError with every reason when none can. */
export function chooseEncoder(cfg: PreviewConfig['encoder'], tools: EncoderTools): EncoderChoice {
  if (cfg.pipeline.length) {
    const codec: VideoCodec = cfg.codec === 'vp8' ? 'VP8' : 'H264';
    return { encoder: 'custom', codec, hardware: false, why: `preview.encoder.pipeline is set (${cfg.codec})` };
  }
  if (cfg.use !== 'auto') {
    const why = unusable(tools, cfg.use);
    if (why) throw new EncoderUnavailableError(`preview.encoder.use is ${cfg.use}, which cannot run here: ${why}`);
    return { encoder: cfg.use, codec: CODEC_OF[cfg.use], hardware: cfg.use === 'nvv4l2h264enc', why: 'preview.encoder.use names it' };
  }
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    const why = unusable(tools, name);
    if (why) {
      skipped.push(`not ${name}: ${why}`);
      continue;
    }
    const reason =
      name === 'nvv4l2h264enc'
        ? `NVENC (${tools.nvencDevice}) with nvv4l2h264enc and nvvidconv`
        : `software encoder${skipped.length ? ` (${skipped.join('; ')})` : ''}`;
    return { encoder: name, codec: CODEC_OF[name], hardware: name === 'nvv4l2h264enc', why: reason };
  }
  throw new EncoderUnavailableError(`no encoder for the live view: ${skipped.join('; ')}`);
}

// `-q`: gst-launch's status text would otherwise go to stdout, which carries the RTP stream.
const HEAD = ['gst-launch-1.0', '-q', 'fdsrc', 'fd=0', 'blocksize={frame_bytes}', '!',
  'rawvideoparse', 'width={width}', 'height={height}', 'format=i420', 'framerate={fps}', '!'];
// timestamp-offset=0 keeps RTP time = frame number × 90000 / fps, from which the agent finds each frame's capture time.
const PAY_OPTS = ['pt={pt}', 'ssrc={ssrc}', 'timestamp-offset=0', 'mtu={mtu}'];
// rtpsession: the payloader's packets pass through; RTCP arriving on fd 3 (Picture Loss Indication) makes it send a
// force-key-unit event upstream to the encoder. Its own sender reports go nowhere (the agent's WebRTC senders make theirs).
const TAIL = ['!', 'session.send_rtp_sink', 'rtpsession', 'name=session', 'session.send_rtp_src', '!', 'rtpstreampay', '!', 'fdsink', 'fd=1', 'sync=false',
  'fdsrc', 'fd=3', '!', 'application/x-rtcp-stream', '!', 'rtpstreamdepay', '!', 'session.recv_rtcp_sink',
  'session.send_rtcp_src', '!', 'fakesink', 'sync=false', 'async=false'];
// Constrained baseline: what Safari and phones decode in hardware, and what every WebRTC H.264 decoder takes.
const H264_CAPS = 'video/x-h264,stream-format=byte-stream,alignment=au';
// config-interval=-1: SPS and PPS before every IDR, so a viewer that starts at any keyframe can decode.
const H264_PAY = ['rtph264pay', ...PAY_OPTS, 'config-interval=-1'];

/** Built-in encoder commands. Properties used exist in GStreamer 1.14 (JetPack 4) and later. */
export const ENCODER_TEMPLATES: Record<EncoderName, Template> = {
  // Frames go to NVMM (hardware) memory through nvvidconv; insert-sps-pps as NVIDIA's RTSP samples do; profile 0 =
  // Baseline; preset 1 = UltraFast; control-rate 1 = constant bitrate; maxperf keeps the encoder clock up (latency).
  nvv4l2h264enc: [...HEAD, 'nvvidconv', '!', 'video/x-raw(memory:NVMM),format=I420', '!',
    'nvv4l2h264enc', 'insert-sps-pps=true', 'profile=0', 'preset-level=1', 'control-rate=1', 'maxperf-enable=true',
    'iframeinterval={keyint}', 'idrinterval={keyint}', '{bitrate_bps_opt}', '!', H264_CAPS, '!', ...H264_PAY, ...TAIL],
  // zerolatency: no lookahead or B-frames, each frame leaves the encoder as soon as it is in; ultrafast: the least CPU.
  // One thread up to 720p: 640×360 at 15 fps took 1.3 instead of 1.6 ms of CPU a frame (sliced threads cost more
  // than they save at that size; 300 frames, 2-core x86); above 720p x264 picks its own thread count.
  x264enc: [...HEAD, 'x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', 'key-int-max={keyint}', '{x264_threads}', '{bitrate_kbps_opt}', '!',
    `${H264_CAPS},profile=constrained-baseline`, '!', ...H264_PAY, ...TAIL],
  openh264enc: [...HEAD, 'openh264enc', 'usage-type=camera', 'complexity=low', 'gop-size={keyint}', '{bitrate_bps_opt}', '!',
    `${H264_CAPS},profile=constrained-baseline`, '!', ...H264_PAY, ...TAIL],
  // deadline=1: realtime; lag 0: no lookahead; cbr: hold the bitrate.
  vp8enc: [...HEAD, 'vp8enc', 'deadline=1', 'cpu-used=8', 'lag-in-frames=0', 'end-usage=cbr', 'keyframe-max-dist={keyint}',
    'error-resilient=default', '{target_bitrate_opt}', '!', 'rtpvp8pay', ...PAY_OPTS, 'picture-id-mode=15-bit', ...TAIL],
};

export interface EncoderParams {
  width: number;
  height: number;
  fps: number;
  /** 0 = the encoder's default. */
  bitrateKbps: number;
  keyframeIntervalS: number;
  ssrc: number;
  pt: number;
  mtu: number;
}

/** A frame rate as a GStreamer fraction; `fpsNum / fpsDen` is what RTP timestamps count frames in. */
export function fpsFraction(fps: number): { num: number; den: number } {
  return Number.isInteger(fps) ? { num: fps, den: 1 } : { num: Math.round(fps * 1000), den: 1000 };
}

export function keyframeIntervalFrames(p: Pick<EncoderParams, 'fps' | 'keyframeIntervalS'>): number {
  return Math.max(1, Math.round(p.fps * p.keyframeIntervalS));
}

/** The argv of the encoder child for `choice` (the configured pipeline for 'custom'). */
export function encoderCommand(choice: EncoderChoice, p: EncoderParams, custom: readonly string[] = []): string[] {
  const template = choice.encoder === 'custom' ? custom : ENCODER_TEMPLATES[choice.encoder];
  const { num, den } = fpsFraction(p.fps);
  const kbps = Math.round(p.bitrateKbps);
  const values = {
    width: String(p.width),
    height: String(p.height),
    fps: `${num}/${den}`,
    frame_bytes: String((p.width * p.height * 3) / 2),
    keyint: String(keyframeIntervalFrames(p)),
    ssrc: String(p.ssrc >>> 0),
    pt: String(p.pt),
    mtu: String(p.mtu),
    bitrate_kbps: String(kbps),
    bitrate_bps: String(kbps * 1000),
    bitrate_kbps_opt: kbps > 0 ? [`bitrate=${kbps}`] : [],
    bitrate_bps_opt: kbps > 0 ? [`bitrate=${kbps * 1000}`] : [],
    target_bitrate_opt: kbps > 0 ? [`target-bitrate=${kbps * 1000}`] : [],
    x264_threads: p.width * p.height <= 1280 * 720 ? ['threads=1'] : [],
  };
  try {
    return fillTemplate(template, values);
  } catch (e) {
    // fillTemplate speaks of the capture pipeline; only a configured encoder pipeline can have a bad placeholder.
    throw new Error(`preview.encoder.pipeline: ${(e as Error).message.replace(/ in capture pipeline$/, '')} (known: ${Object.keys(values).filter((k) => !k.endsWith('_opt')).map((k) => `{${k}}`).join(' ')})`);
  }
}

/** glibc's largest accepted mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX); a larger tunable is ignored. */
const MMAP_THRESHOLD_MAX = 32 << 20;

/**
 * glibc malloc settings for the encoder child. GStreamer allocates every frame-sized buffer anew, and with glibc's
 * defaults each one came from a fresh mmap or from heap that free() had just handed back to the kernel (madvise),
 * so every frame page-faulted its pages in again. 640×360 at 15 fps into x264enc, the child's user + system CPU
 * a frame (isolated live view, 10 s windows, this 2-core x86): defaults 2.7–2.9 + 1.5–2.5 ms; mmap threshold alone
 * 1.9–2.2 + 1.0–1.3; trim threshold alone unchanged; both 1.4–1.6 + 0.2. Frames stay below the mmap threshold
 * (4× a frame, at least 4 MiB) and the heap keeps up to twice that free before trimming.
 */
export function encoderMallocTunables(frameBytes: number): string {
  const mmap = Math.min(MMAP_THRESHOLD_MAX, Math.max(4 << 20, 4 * frameBytes));
  return `glibc.malloc.mmap_threshold=${mmap}:glibc.malloc.trim_threshold=${2 * mmap}`;
}

/** The encoder child's environment: ours, with the malloc tunables first so any GLIBC_TUNABLES already set still wins. */
export function encoderEnv(frameBytes: number, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const ours = encoderMallocTunables(frameBytes);
  return { ...env, GLIBC_TUNABLES: env.GLIBC_TUNABLES ? `${ours}:${env.GLIBC_TUNABLES}` : ours };
}
