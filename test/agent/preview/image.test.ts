import { describe, expect, it } from 'vitest';
import { allocI420, rgbToI420 } from '../../../src/agent/preview/i420.js';
import { FrameScaler } from '../../../src/agent/preview/scale.js';
import type { RawFrame } from '../../../src/runtime/types.js';

function solid(width: number, height: number, rgb: [number, number, number], order: 'rgb' | 'bgr' = 'rgb'): RawFrame {
  const data = new Uint8Array(width * height * 3);
  const px = order === 'rgb' ? rgb : [rgb[2], rgb[1], rgb[0]];
  for (let i = 0; i < data.length; i += 3) data.set(px, i);
  return { data, width, height, order };
}

const at = (img: Uint8Array, w: number, x: number, y: number) => [...img.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];

describe('FrameScaler', () => {
  it('halves a 16:9 frame exactly by 2×2 box averaging, with no bars', () => {
    const f = solid(8, 4, [0, 0, 0]);
    // Column 0 white, column 1 black: the 2× downscale must average them to mid-grey.
    for (let y = 0; y < 4; y++) f.data.set([255, 255, 255], (y * 8) * 3);
    const s = new FrameScaler(4, 2);
    const p = s.scale(f);
    expect(p).toMatchObject({ scale: 0.5, offsetX: 0, offsetY: 0, contentWidth: 4, contentHeight: 2 });
    expect(at(s.rgb, 4, 0, 0)).toEqual([128, 128, 128]);
    expect(at(s.rgb, 4, 1, 1)).toEqual([0, 0, 0]);
  });

  it('letterboxes a 4:3 frame into 16:9 with black bars left and right and swaps BGR to RGB', () => {
    const s = new FrameScaler(16, 6);
    s.rgb.fill(99); // stale content in the bars must be cleared
    const p = s.scale(solid(8, 6, [200, 100, 50], 'bgr'));
    expect(p).toMatchObject({ scale: 1, offsetX: 4, offsetY: 0, contentWidth: 8, contentHeight: 6 });
    expect(at(s.rgb, 16, 0, 3)).toEqual([0, 0, 0]);
    expect(at(s.rgb, 16, 15, 3)).toEqual([0, 0, 0]);
    expect(at(s.rgb, 16, 8, 3)).toEqual([200, 100, 50]);
  });

  it('refuses a frame whose buffer is shorter than its size says, and odd preview sizes', () => {
    const s = new FrameScaler(4, 2);
    expect(() => s.scale({ data: new Uint8Array(10), width: 8, height: 4, order: 'rgb' })).toThrow(/needs 96/);
    expect(() => new FrameScaler(5, 2)).toThrow(/even/);
  });
});

describe('rgbToI420', () => {
  it('maps white, black and pure red to BT.601 limited-range values', () => {
    const out = allocI420(4, 2);
    const rgb = new Uint8Array(4 * 2 * 3);
    // Left 2×2 block white, right block red.
    for (const [x, y] of [[0, 0], [1, 0], [0, 1], [1, 1]]) rgb.set([255, 255, 255], (y * 4 + x) * 3);
    for (const [x, y] of [[2, 0], [3, 0], [2, 1], [3, 1]]) rgb.set([255, 0, 0], (y * 4 + x) * 3);
    rgbToI420(rgb, out);
    const Y = out.data.subarray(0, 8), U = out.data.subarray(8, 10), V = out.data.subarray(10, 12);
    expect(Y[0]).toBe(235);
    expect(Y[2]).toBe(82);
    expect([U[0], V[0]]).toEqual([128, 128]);
    expect(U[1]).toBe(90);
    expect(V[1]).toBe(240);
    rgbToI420(new Uint8Array(24), out);
    expect(out.data[0]).toBe(16);
  });

  it('averages chroma over each 2×2 block and sizes the buffer at 1.5 bytes per pixel', () => {
    const out = allocI420(2, 2);
    expect(out.data.length).toBe(6);
    const rgb = new Uint8Array([0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 0, 0]); // half blue, half black
    rgbToI420(rgb, out);
    expect(out.data[4]).toBe(((-38 * 0 - 74 * 0 + 112 * 510 + 512) >> 10) + 128);
    expect(() => allocI420(3, 2)).toThrow(/even/);
  });
});
