// source.crop: the region of interest is cut in the capture process (ffmpeg crop, GStreamer videocrop, nvvidconv
// on Jetson), before scaling, and the region becomes the source (its size is what frames report).

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureSource, resolveCaptureOptions, type CaptureOptions } from '../../../src/agent/capture/capture-source.js';
import { cropRegion, planCommand, type PlanInput } from '../../../src/agent/capture/pipelines.js';
import type { CaptureTools } from '../../../src/agent/capture/tools.js';
import { hasProgram, recordingLogger, shared } from './helpers.js';

const desktop: CaptureTools = { ffmpeg: true, ffprobe: true, gstLaunch: true, gstDiscoverer: false, nvv4l2decoder: false, nvvidconv: false, nvarguscamerasrc: false };
const jetson: CaptureTools = { ...desktop, nvv4l2decoder: true, nvvidconv: true, nvarguscamerasrc: true };
/** UR Fall cam0 clips: depth left, RGB right, 640x240 at 30 fps. */
const clip = resolve(shared, 'media/falls/fall-01-cam0.mp4');
const urFall = { width: 640, height: 240, fps: 30 };
const rightHalf = { x: 320, y: 0, width: 320, height: 240 };
const config: PlanInput['config'] = { mode: 'every-frame', output_height: 0, fps_cap: 0, pixel_order: 'bgr', pipeline: [], crop: rightHalf };
const spec = { kind: 'file' as const, path: clip };

describe('source.crop in the capture command', () => {
  it('ffmpeg crops before it scales; the region is the source the plan reports', () => {
    const p = planCommand({ spec, source: urFall, backend: 'ffmpeg', tools: desktop, config: { ...config, output_height: 368 } });
    expect(p.argv).toContain('crop=320:240:320:0:exact=1,scale=490:368:flags=bilinear');
    expect(p.source).toEqual({ width: 320, height: 240, fps: 30 });
    expect([p.width, p.height]).toEqual([490, 368]); // the region's 4:3, not the frame's 8:3
    const native = planCommand({ spec, source: urFall, backend: 'ffmpeg', tools: desktop, config });
    expect([native.width, native.height]).toEqual([320, 240]);
  });

  it('GStreamer crops with videocrop (pixels off each side); on a Jetson with nvvidconv (the edges of the rectangle)', () => {
    const soft = planCommand({ spec, source: urFall, backend: 'gstreamer', tools: desktop, config }).argv.join(' ');
    expect(soft).toContain('! videoconvert ! videocrop left=320 right=0 top=0 bottom=0 ! videoscale ! video/x-raw,format=BGR,width=320,height=240 !');
    const mid = { x: 100, y: 20, width: 200, height: 160 };
    const nv = planCommand({ spec, source: urFall, backend: 'gstreamer', tools: jetson, config: { ...config, crop: mid } }).argv.join(' ');
    expect(nv).toContain('nvv4l2decoder ! nvvidconv left=100 right=300 top=20 bottom=180 ! video/x-raw,width=200,height=160,format=BGRx');
    const csi = planCommand({ spec: { kind: 'csi', sensor: 0 }, source: { width: 1920, height: 1080, fps: 30 }, backend: 'gstreamer', tools: jetson,
      config: { ...config, output_height: 368, crop: { x: 480, y: 0, width: 960, height: 1080 } } });
    expect(csi.argv.join(' ')).toContain('nvvidconv left=480 right=1440 top=0 bottom=1080 ! video/x-raw,width=328,height=368,format=BGRx');
    expect(csi.source).toEqual({ width: 960, height: 1080, fps: 30 });
  });

  it('no crop, an all-zero crop and a crop of the whole frame change nothing', () => {
    const plain = planCommand({ spec, source: urFall, backend: 'ffmpeg', tools: desktop, config: { ...config, crop: undefined } });
    for (const crop of [{ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 640, height: 240 }]) {
      const p = planCommand({ spec, source: urFall, backend: 'ffmpeg', tools: desktop, config: { ...config, crop } });
      expect(p.argv).toEqual(plain.argv);
      expect(p.source).toEqual(urFall);
    }
    expect(planCommand({ spec, source: urFall, backend: 'gstreamer', tools: jetson, config: { ...config, crop: undefined } }).argv.join(' ')).toContain('nvvidconv ! video/x-raw');
  });

  it('width or height 0 runs to the edge; a region outside the frame is one clear error', () => {
    expect(cropRegion(urFall, { x: 320, y: 0, width: 0, height: 0 })).toEqual(rightHalf);
    expect(cropRegion(urFall, { x: 10, y: 40, width: 100, height: 0 })).toEqual({ x: 10, y: 40, width: 100, height: 200 });
    expect(() => cropRegion(urFall, { x: 320, y: 0, width: 400, height: 240 })).toThrow(
      'source.crop 400x240 at 320,0 does not fit the 640x240 source (x + width must be ≤ the source width, y + height ≤ its height)',
    );
    expect(() => cropRegion(urFall, { x: 700, y: 0, width: 0, height: 0 })).toThrow('does not fit');
  });

  it('a configured pipeline gets the region as {crop_x} {crop_y} {crop_width} {crop_height}', () => {
    const p = planCommand({ spec, source: urFall, backend: 'ffmpeg', tools: desktop,
      config: { ...config, pipeline: ['grab', '{input}', '--roi', '{crop_x},{crop_y},{crop_width}x{crop_height}', '--out', '{width}x{height}', '--full', '{source_width}x{source_height}'] } });
    expect(p.argv).toEqual(['grab', clip, '--roi', '320,0,320x240', '--out', '320x240', '--full', '640x240']);
  });

  it('the config section validates the crop', () => {
    expect(resolveCaptureOptions({ uri: clip }).crop).toEqual({ x: 0, y: 0, width: 0, height: 0 });
    expect(() => resolveCaptureOptions({ uri: clip, crop: { x: -1, y: 0, width: 0, height: 0 } })).toThrow('/crop/x');
    expect(() => resolveCaptureOptions({ uri: clip, crop: { x: 0, y: 0, width: 0, height: 0, w: 3 } as never })).toThrow('/crop');
  });
});

const sources: CaptureSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

/** The first `n` frames of a capture run. */
async function firstFrames(opts: CaptureOptions, n: number) {
  const s = new CaptureSource(opts, recordingLogger());
  sources.push(s);
  s.start();
  const frames: Array<{ data: Buffer; width: number; height: number; sourceWidth: number; sourceHeight: number }> = [];
  for (let f = await s.next(); f && frames.length < n; f = await s.next())
    frames.push({ data: Buffer.from(f.data), width: f.width, height: f.height, sourceWidth: f.sourceWidth, sourceHeight: f.sourceHeight });
  await s.stop();
  return frames;
}

/** Frame 0 of the clip cut by ffmpeg on its own, BGR. */
function reference(x: number): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', clip, '-vf', `crop=320:240:${x}:0`, '-frames:v', '1', '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1']);
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

describe('source.crop with the real capture processes', () => {
  it('ffmpeg delivers exactly the right half of the UR Fall frame, reported as a 320x240 source', async () => {
    const [f] = await firstFrames({ uri: clip, mode: 'every-frame', output_height: 0, crop: rightHalf }, 1);
    expect([f.width, f.height, f.sourceWidth, f.sourceHeight]).toEqual([320, 240, 320, 240]);
    expect(f.data.equals(reference(320))).toBe(true);
  });

  it.skipIf(!hasProgram('gst-launch-1.0'))('GStreamer (videocrop) delivers the same region', async () => {
    const [f] = await firstFrames({ uri: clip, mode: 'every-frame', output_height: 0, backend: 'gstreamer', crop: rightHalf }, 1);
    expect([f.width, f.height, f.sourceWidth, f.sourceHeight]).toEqual([320, 240, 320, 240]);
    // Another decoder and colour converter: close to ffmpeg's right half, far from the depth map on the left.
    const right = meanAbsDiff(f.data, reference(320)), left = meanAbsDiff(f.data, reference(0));
    expect(right).toBeLessThan(4);
    expect(left).toBeGreaterThan(20);
  });
});
