// Capture and encode tools: ffmpeg, GStreamer, and the NVIDIA GStreamer elements that do decode,
// colour conversion and CSI capture in hardware on a Jetson.

import { isJetson } from './board-checks.js';
import type { BoardFacts, CheckResult, DoctorContext } from './types.js';

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

export async function checkFfmpeg(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'ffmpeg', title: 'ffmpeg' };
  const res = await ctx.run('ffmpeg', ['-hide_banner', '-version']);
  if (!res || res.code !== 0) return { ...base, verdict: 'WARN', detail: res ? `ffmpeg -version exited ${res.code}` : 'not found', fix: 'sudo apt install ffmpeg (file and RTSP sources use it when GStreamer is not used)' };
  return { ...base, verdict: 'OK', detail: firstLine(res.stdout) };
}

export async function checkGstreamer(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'gstreamer', title: 'GStreamer' };
  const res = await ctx.run('gst-launch-1.0', ['--version']);
  if (!res || res.code !== 0) return { ...base, verdict: 'WARN', detail: res ? `gst-launch-1.0 --version exited ${res.code}` : 'gst-launch-1.0 not found', fix: 'sudo apt install gstreamer1.0-tools gstreamer1.0-plugins-good (CSI cameras need GStreamer)' };
  return { ...base, verdict: 'OK', detail: firstLine(res.stdout) };
}

/** nvv4l2decoder: hardware decode; nvvidconv: hardware scale/convert; nvarguscamerasrc: CSI cameras through libargus. */
export const NVIDIA_ELEMENTS = ['nvv4l2decoder', 'nvvidconv', 'nvarguscamerasrc'];

export async function checkNvidiaElements(ctx: DoctorContext, b: BoardFacts): Promise<CheckResult> {
  const base = { id: 'gstreamer.nvidia', title: 'NVIDIA GStreamer elements' };
  const found: string[] = [];
  const missing: string[] = [];
  for (const el of NVIDIA_ELEMENTS) {
    const res = await ctx.run('gst-inspect-1.0', [el]);
    (res && res.code === 0 ? found : missing).push(el);
  }
  if (!missing.length) return { ...base, verdict: 'OK', detail: found.join(', ') };
  if (!isJetson(b)) return { ...base, verdict: 'OK', detail: `not a Jetson: software decode (missing ${missing.join(', ')} is expected)` };
  return {
    ...base, verdict: 'WARN', detail: `missing: ${missing.join(', ')}${found.length ? `; found: ${found.join(', ')}` : ''}`,
    fix: 'sudo apt install nvidia-l4t-gstreamer (then rm ~/.cache/gstreamer-1.0/registry.*.bin); without them decode runs on the CPU and CSI cameras do not work',
  };
}
