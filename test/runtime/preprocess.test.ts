import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../../src/runtime/manifest.js';
import { placeSource, Preprocessor } from '../../src/runtime/preprocess.js';
import type { RawFrame } from '../../src/runtime/types.js';
import { sharedPath } from '../support/shared.js';

const bgrRaw: InputSpec = { name: 'data', layout: 'NCHW', colour: 'BGR', mean: [0, 0, 0], scale: [1, 1, 1] };

function solid(width: number, height: number, rgb: [number, number, number]): RawFrame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width, height, order: 'rgb' };
}

describe('placeSource', () => {
  it('keeps the aspect, rounds the width up to the stride and pads', () => {
    expect(placeSource(1280, 720, 256, 8)).toEqual({ width: 456, height: 256, scale: 256 / 720, contentWidth: 455, contentHeight: 256 });
    expect(placeSource(640, 425, 368, 8).width).toBe(560); // 554.2 → 554 → 560
    expect(() => placeSource(640, 480, 250, 8)).toThrow(/multiple of the stride/);
  });
});

describe('Preprocessor', () => {
  it('writes planes in the network colour order with mean/scale, and pads with grey', () => {
    const frame = solid(100, 50, [10, 20, 30]);
    const p = placeSource(100, 50, 32, 8); // content 64 wide → net 64; use 90×50 for padding below
    const input = new Float32Array(3 * p.width * p.height);
    new Preprocessor(bgrRaw).run(frame, p, input);
    const plane = p.width * p.height;
    expect(input[0]).toBeCloseTo(30, 4); // B first
    expect(input[plane]).toBeCloseTo(20, 4);
    expect(input[2 * plane + plane - 1]).toBeCloseTo(10, 4);

    const rgbNorm: InputSpec = { name: 'x', layout: 'NCHW', colour: 'RGB', mean: [128, 128, 128], scale: [0.5, 0.25, 1] };
    const q = placeSource(90, 50, 16, 8); // content 29 → width 32, 3 padded columns
    const buf = new Float32Array(3 * q.width * q.height);
    new Preprocessor(rgbNorm).run(frame, q, buf);
    expect(q.contentWidth).toBe(29);
    expect(buf[0]).toBeCloseTo((10 - 128) * 0.5, 4);
    expect(buf[q.width * q.height]).toBeCloseTo((20 - 128) * 0.25, 4);
    expect(buf[q.width - 1]).toBe(0); // padding = grey 128 → (128-128)*0.5
  });

  it('is plain bilinear (pixel-centre convention) for reductions down to half size', async () => {
    const path = sharedPath('media', 'images', 'p1.jpg');
    const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const frame: RawFrame = { data, width: info.width, height: info.height, order: 'rgb' };
    const p = placeSource(info.width, info.height, 160, 8); // 232 → 160: scale 0.69
    const input = new Float32Array(3 * p.width * p.height);
    new Preprocessor({ ...bgrRaw, colour: 'RGB' }).run(frame, p, input);
    const sx = info.width / p.contentWidth, sy = info.height / p.contentHeight;
    let worst = 0;
    for (let y = 0; y < p.contentHeight; y++)
      for (let x = 0; x < p.contentWidth; x++) {
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), info.width - 1);
        const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), info.height - 1);
        const x0 = Math.floor(fx), y0 = Math.floor(fy), x1 = Math.min(x0 + 1, info.width - 1), y1 = Math.min(y0 + 1, info.height - 1);
        const ax = fx - x0, ay = fy - y0;
        for (let c = 0; c < 3; c++) {
          const at = (xx: number, yy: number) => data[(yy * info.width + xx) * 3 + c]!;
          const ref = (at(x0, y0) * (1 - ax) + at(x1, y0) * ax) * (1 - ay) + (at(x0, y1) * (1 - ax) + at(x1, y1) * ax) * ay;
          worst = Math.max(worst, Math.abs(input[c * p.width * p.height + y * p.width + x]! - ref));
        }
      }
    expect(worst).toBeLessThan(1e-3);
  });

  it('averages like a reference resampler for large reductions (mean error < 3 grey levels)', async () => {
    const path = sharedPath('media', 'images', 'p1.jpg');
    const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const frame: RawFrame = { data, width: info.width, height: info.height, order: 'rgb' };
    const p = placeSource(info.width, info.height, 64, 8); // scale 0.28: the widened filter
    const input = new Float32Array(3 * p.width * p.height);
    const pre = new Preprocessor({ ...bgrRaw, colour: 'RGB' });
    pre.run(frame, p, input);
    const ref = await sharp(path).removeAlpha().resize(p.contentWidth, p.contentHeight, { kernel: 'linear', fit: 'fill' }).raw().toBuffer();
    let err = 0;
    for (let y = 0; y < p.contentHeight; y++)
      for (let x = 0; x < p.contentWidth; x++)
        for (let c = 0; c < 3; c++) err += Math.abs(input[c * p.width * p.height + y * p.width + x]! - ref[(y * p.contentWidth + x) * 3 + c]!);
    expect(err / (p.contentWidth * p.contentHeight * 3)).toBeLessThan(3);
    // Reusing the tables for the next frame gives the same result bit for bit.
    const again = new Float32Array(input.length);
    pre.run(frame, p, again);
    expect(again).toEqual(input);
  });

  it('copies a frame that is already at the net size pixel for pixel (capture delivers the top step)', () => {
    const frame: RawFrame = { data: new Uint8Array(60 * 32 * 3).map((_, i) => (i * 37) % 251), width: 60, height: 32, order: 'rgb' };
    const p = placeSource(60, 32, 32, 8); // 60 wide → net 64, 4 padded columns
    const input = new Float32Array(3 * p.width * p.height);
    new Preprocessor(bgrRaw).run(frame, p, input);
    const plane = p.width * p.height;
    for (const [x, y] of [[0, 0], [59, 31], [17, 5]] as const) {
      const i = (y * 60 + x) * 3;
      expect([input[y * 64 + x], input[plane + y * 64 + x], input[2 * plane + y * 64 + x]]).toEqual([frame.data[i + 2], frame.data[i + 1], frame.data[i]]);
    }
    expect(input[63]).toBe(128);
  });

  it('rejects buffers that are too small with a clear message', () => {
    const p = placeSource(64, 64, 64, 8);
    expect(() => new Preprocessor(bgrRaw).run(solid(64, 64, [0, 0, 0]), p, new Float32Array(10))).toThrow(/input buffer holds 10 floats/);
    const short: RawFrame = { data: new Uint8Array(5), width: 64, height: 64, order: 'rgb' };
    expect(() => new Preprocessor(bgrRaw).run(short, p, new Float32Array(3 * 64 * 64))).toThrow(/frame buffer holds 5 bytes/);
  });
});
