import { describe, expect, it } from 'vitest';
import { parseFfprobe, parseGstDiscoverer, probeSource } from '../../../src/agent/capture/probe.js';
import { classifySource } from '../../../src/agent/capture/source-uri.js';
import { detectTools } from '../../../src/agent/capture/tools.js';
import { ffprobeStream, streetAvi } from './helpers.js';

const csi = { width: 1920, height: 1080, fps: 30 };

describe('probe', () => {
  it('reads size and rate of street.avi with ffprobe', async () => {
    const truth = ffprobeStream(streetAvi);
    const info = await probeSource(classifySource(streetAvi), await detectTools(), csi);
    expect(info).toEqual({ width: truth.width, height: truth.height, fps: 50 });
  });

  it('swaps width and height for a quarter-turn rotation (ffmpeg rotates while decoding)', () => {
    const json = JSON.stringify({ streams: [{ width: 1920, height: 1080, avg_frame_rate: '30000/1001', side_data_list: [{ rotation: -90 }] }] });
    const info = parseFfprobe(json)!;
    expect([info.width, info.height]).toEqual([1080, 1920]);
    expect(info.fps).toBeCloseTo(29.97, 2);
    expect(parseFfprobe('{"streams":[]}')).toBeNull();
    expect(parseFfprobe('not json')).toBeNull();
  });

  it('parses gst-discoverer-1.0 output', () => {
    const text = ['Analyzing file:///v/a.mp4', 'Done discovering file:///v/a.mp4', '', 'Properties:', '  Duration: 0:00:04.100000000',
      '  Seekable: yes', '  Live: no', '  container #0: Quicktime', '    video #1: H.264 (High Profile)', '      Stream ID: 1',
      '      Width: 1280', '      Height: 720', '      Depth: 24', '      Frame rate: 50/1', '      Pixel aspect ratio: 1/1'].join('\n');
    expect(parseGstDiscoverer(text)).toEqual({ width: 1280, height: 720, fps: 50 });
    expect(parseGstDiscoverer('Analyzing ... error')).toBeNull();
  });

  it('test patterns and CSI cameras need no probe', async () => {
    const tools = await detectTools();
    expect(await probeSource(classifySource('test://?size=320x240&rate=15'), tools, csi)).toEqual({ width: 320, height: 240, fps: 15 });
    expect(await probeSource({ kind: 'csi', sensor: 0 }, tools, csi)).toEqual(csi);
  });
});
