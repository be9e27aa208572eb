import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifySource, endsByItself } from '../../../src/agent/capture/source-uri.js';
import { imagesDir, streetAvi } from './helpers.js';

describe('classifySource', () => {
  it('recognises every kind of source', () => {
    expect(classifySource(streetAvi)).toEqual({ kind: 'file', path: streetAvi });
    expect(classifySource(`file://${streetAvi}`)).toEqual({ kind: 'file', path: streetAvi });
    const images = classifySource(imagesDir);
    expect(images.kind).toBe('images');
    if (images.kind === 'images') {
      expect(images.files.length).toBeGreaterThan(1);
      expect([...images.files].sort()).toEqual(images.files);
    }
    expect(classifySource('rtsp://10.0.0.2:554/stream')).toEqual({ kind: 'stream', url: 'rtsp://10.0.0.2:554/stream' });
    expect(classifySource('https://example.org/live.m3u8').kind).toBe('stream');
    expect(classifySource('csi://1')).toEqual({ kind: 'csi', sensor: 1 });
    expect(classifySource('test://')).toEqual({ kind: 'test', width: 1280, height: 720, fps: 30, pattern: 'testsrc2' });
    expect(classifySource('test://smptebars?size=320x240&rate=10')).toEqual({ kind: 'test', width: 320, height: 240, fps: 10, pattern: 'smptebars' });
    expect(endsByItself(classifySource(streetAvi))).toBe(true);
    expect(endsByItself(classifySource('test://'))).toBe(false);
  });

  it('says clearly what is missing or wrong', () => {
    expect(() => classifySource('/dev/video9')).toThrow('camera /dev/video9 not found');
    expect(() => classifySource('/nonexistent/clip.mp4')).toThrow('video file or image directory /nonexistent/clip.mp4 not found');
    expect(() => classifySource('')).toThrow(/source.uri is empty/);
    expect(() => classifySource('csi://front')).toThrow(/csi:\/\/0/);
    expect(() => classifySource('test://?size=big')).toThrow(/size must look like 1280x720/);
    expect(() => classifySource('ftp://host/file')).toThrow(/unsupported source URI scheme/);
    const empty = mkdtempSync(join(tmpdir(), 'pafcast-noimg-'));
    writeFileSync(join(empty, 'notes.txt'), 'x');
    expect(() => classifySource(empty)).toThrow(/has no images/);
  });
});
