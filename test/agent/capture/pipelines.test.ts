import { describe, expect, it } from 'vitest';
import { fillTemplate, keptFrames, outputSize, planCommand, TEMPLATES, type PlanInput } from '../../../src/agent/capture/pipelines.js';
import type { CaptureTools } from '../../../src/agent/capture/tools.js';

const desktop: CaptureTools = { ffmpeg: true, ffprobe: true, gstLaunch: true, gstDiscoverer: false, nvv4l2decoder: false, nvvidconv: false, nvarguscamerasrc: false };
const jetson: CaptureTools = { ...desktop, nvv4l2decoder: true, nvvidconv: true, nvarguscamerasrc: true };
const config: PlanInput['config'] = { mode: 'realtime', output_height: 256, fps_cap: 0, pixel_order: 'bgr', pipeline: [] };
const hd = { width: 1280, height: 720, fps: 50 };

describe('capture pipelines', () => {
  it('fillTemplate splices list placeholders, substitutes inline ones, rejects unknown ones', () => {
    expect(fillTemplate(['a', '{opts}', 'x={w}x{h}'], { opts: ['-re', '-y'], w: '4', h: '2' })).toEqual(['a', '-re', '-y', 'x=4x2']);
    expect(fillTemplate(['{opts}', 'b'], { opts: [] })).toEqual(['b']);
    expect(() => fillTemplate(['{nope}'], {})).toThrow('unknown placeholder {nope} in capture pipeline');
  });

  it('outputSize keeps the aspect with an even width, or the native size for 0', () => {
    expect(outputSize(hd, 256)).toEqual({ width: 456, height: 256 });
    expect(outputSize({ width: 217, height: 232, fps: 0 }, 200)).toEqual({ width: 188, height: 200 });
    expect(outputSize(hd, 0)).toEqual({ width: 1280, height: 720 });
    // GStreamer pads BGR rows to 4 bytes: its widths are multiples of 4 (street.avi at 368: 656, not 654).
    expect(outputSize(hd, 368)).toEqual({ width: 654, height: 368 });
    expect(outputSize(hd, 368, 4)).toEqual({ width: 656, height: 368 });
    expect(outputSize({ width: 217, height: 232, fps: 0 }, 0, 4)).toEqual({ width: 216, height: 232 });
  });

  it('ffmpeg on a file: paced in realtime mode, not in every-frame mode, fps cap as a filter', () => {
    const spec = { kind: 'file' as const, path: '/v/a b.mp4' };
    const rt = planCommand({ spec, source: hd, backend: 'ffmpeg', tools: desktop, config });
    expect(rt.argv).toEqual(['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', '/v/a b.mp4', '-map', '0:v:0',
      '-an', '-sn', '-dn', '-vf', 'scale=456:256:flags=bilinear', '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1']);
    expect([rt.width, rt.height]).toEqual([456, 256]);
    const ef = planCommand({ spec, source: hd, backend: 'ffmpeg', tools: desktop, config: { ...config, mode: 'every-frame', fps_cap: 10, pixel_order: 'rgb' } });
    expect(ef.argv).not.toContain('-re');
    // A file keeps an exact frame selection (10 of 50 = 1 of 5) so that each frame's source index is known.
    expect(ef.argv).toContain("select='lt(mod(n*1,5),1)',settb=1/1000000,setpts=N/(10*TB),fps=10,scale=456:256:flags=bilinear");
    expect(ef.keep).toEqual({ num: 1, den: 5 });
    // Live sources keep ffmpeg's fps filter (their index is the capture sequence number).
    const cam = planCommand({ spec: { kind: 'v4l2', device: '/dev/video0' }, source: hd, backend: 'ffmpeg', tools: desktop, config: { ...config, fps_cap: 10 } });
    expect(cam.argv).toContain('fps=10,scale=456:256:flags=bilinear');
    expect(cam.keep).toEqual({ num: 1, den: 1 });
    expect(ef.argv).toContain('rgb24');
    // A cap above the source rate changes nothing.
    expect(planCommand({ spec, source: hd, backend: 'ffmpeg', tools: desktop, config: { ...config, fps_cap: 60 } }).argv).toContain('scale=456:256:flags=bilinear');
  });

  it('keptFrames: fps_cap as a whole-number selection of source frames', () => {
    expect(keptFrames(50, 12.5)).toEqual({ num: 1, den: 4 });
    expect(keptFrames(50, 30)).toEqual({ num: 3, den: 5 });
    expect(keptFrames(30000 / 1001, 10)).toEqual({ num: 1000, den: 2997 });
    expect(keptFrames(50, 0)).toEqual({ num: 1, den: 1 });
    expect(keptFrames(50, 60)).toEqual({ num: 1, den: 1 });
    expect(keptFrames(0, 10)).toEqual({ num: 1, den: 1 });
  });

  it('rtsp streams go over TCP', () => {
    const p = planCommand({ spec: { kind: 'stream', url: 'rtsp://cam/1' }, source: hd, backend: 'ffmpeg', tools: desktop, config });
    expect(p.argv.slice(5, 9)).toEqual(['-rtsp_transport', 'tcp', '-i', 'rtsp://cam/1']);
  });

  it('GStreamer on a desktop decodes in software; on a Jetson with nvv4l2decoder and nvvidconv', () => {
    const spec = { kind: 'file' as const, path: '/v/a.mp4' };
    const soft = planCommand({ spec, source: hd, backend: 'gstreamer', tools: desktop, config: { ...config, fps_cap: 15 } }).argv;
    expect(soft.slice(0, 2)).toEqual(['gst-launch-1.0', '-q']);
    // videorate right after the decoder: gst-launch-1.0 cannot parse its caps directly before the output caps.
    expect(soft.join(' ')).toBe('gst-launch-1.0 -q filesrc location=/v/a.mp4 ! decodebin ! videorate drop-only=true ! video/x-raw,framerate=15/1 ! ' +
      'videoconvert ! videoscale ! video/x-raw,format=BGR,width=456,height=256 ! fdsink fd=1 sync=true');
    const nv = planCommand({ spec, source: hd, backend: 'gstreamer', tools: jetson, config }).argv.join(' ');
    expect(nv).toContain('parsebin ! nvv4l2decoder ! nvvidconv ! video/x-raw,width=456,height=256,format=BGRx ! videoconvert ! video/x-raw,format=BGR');
  });

  it('CSI cameras use nvarguscamerasrc at the configured sensor mode', () => {
    const p = planCommand({ spec: { kind: 'csi', sensor: 1 }, source: { width: 1920, height: 1080, fps: 30 }, backend: 'gstreamer', tools: jetson, config });
    expect(p.argv.join(' ')).toContain('nvarguscamerasrc sensor-id=1 ! video/x-raw(memory:NVMM),width=1920,height=1080,framerate=30/1 ! nvvidconv');
    expect([p.width, p.height]).toEqual([456, 256]);
  });

  it('a configured pipeline replaces the template, with the same placeholders', () => {
    const p = planCommand({
      spec: { kind: 'v4l2', device: '/dev/video0' },
      source: { width: 640, height: 480, fps: 30 },
      backend: 'ffmpeg',
      tools: desktop,
      config: { ...config, output_height: 240, pipeline: ['my-grabber', '--dev', '{input}', '--size', '{width}x{height}', '--fmt', '{pix_fmt}'] },
    });
    expect(p.argv).toEqual(['my-grabber', '--dev', '/dev/video0', '--size', '320x240', '--fmt', 'bgr24']);
  });

  it('every built-in template fills without unknown placeholders', () => {
    for (const [backend, byKind] of Object.entries(TEMPLATES))
      for (const [kind, template] of Object.entries(byKind)) {
        const spec = { kind, path: '/a', device: '/dev/video0', url: 'http://x/y', sensor: 0, files: ['/a.jpg'], dir: '/', width: 64, height: 48, fps: 30, pattern: 'testsrc2' } as never;
        const argv = planCommand({ spec, source: hd, backend: backend === 'ffmpeg' ? 'ffmpeg' : 'gstreamer', tools: backend === 'gstreamer-nv' ? jetson : desktop, config: { ...config, pipeline: [...template!] } }).argv;
        expect(argv.join(' ')).not.toMatch(/[{}]/);
      }
  });
});
