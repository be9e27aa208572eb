import { describe, expect, it } from 'vitest';
import { Annotator, limbColours } from '../../../src/agent/preview/annotate.js';
import { textWidth } from '../../../src/agent/preview/font.js';
import { drawLine, drawText } from '../../../src/agent/preview/raster.js';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';

const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
const W = 320, H = 180;
const px = (d: Uint8Array, x: number, y: number) => [d[(y * W + x) * 3], d[(y * W + x) * 3 + 1], d[(y * W + x) * 3 + 2]];

describe('limbColours', () => {
  it('gives every limb a distinct, fully saturated colour', () => {
    const c = limbColours(19);
    expect(new Set(c.map((x) => x.join())).size).toBe(19);
    for (const [r, g, b] of c) {
      expect(Math.max(r, g, b)).toBe(255);
      expect(Math.min(r, g, b)).toBe(0);
    }
  });
});

describe('raster', () => {
  it('draws a thick line covering pixels within the radius and nothing beyond', () => {
    const img = { data: new Uint8Array(W * H * 3), width: W, height: H };
    drawLine(img, 10, 50, 100, 50, 3, [255, 0, 0]);
    expect(px(img.data, 50, 50)).toEqual([255, 0, 0]);
    expect(px(img.data, 50, 52)).toEqual([255, 0, 0]);
    expect(px(img.data, 50, 54)).toEqual([0, 0, 0]);
    expect(px(img.data, 105, 50)).toEqual([0, 0, 0]);
    // Off-image segments are clipped, not written out of bounds.
    drawLine(img, -50, -50, 1000, 1000, 4, [0, 255, 0]);
    expect(img.data.length).toBe(W * H * 3);
  });

  it('writes text pixels only where glyphs have them', () => {
    const img = { data: new Uint8Array(W * H * 3), width: W, height: H };
    drawText(img, '1', 0, 0, 1, [255, 255, 255]);
    // Glyph "1": row 0 has only the centre column set.
    expect(px(img.data, 2, 0)).toEqual([255, 255, 255]);
    expect(px(img.data, 0, 0)).toEqual([0, 0, 0]);
    expect(textWidth('12', 2)).toBe(22);
  });
});

describe('Annotator', () => {
  it('draws each limb in its colour at the placement-mapped position, plus the status line', () => {
    const img = { data: new Uint8Array(W * H * 3), width: W, height: H };
    const kp = new Float32Array(layout.numParts * 3);
    // Neck (1) at source (200, 100), right shoulder (2) at (300, 100): limb 0 is 1→2.
    kp.set([200, 100, 0.9], 3);
    kp.set([300, 100, 0.8], 6);
    const a = new Annotator(layout, H);
    a.draw(img, [{ id: 7, keypoints: kp }], { scale: 0.5, offsetX: 10, offsetY: 20, contentWidth: 300, contentHeight: 160 }, { fps: 12.5, netWidth: 456, netHeight: 256 });
    const limb0 = layout.limbA[0] === 1 && layout.limbB[0] === 2 ? 0 : -1;
    expect(limb0).toBe(0);
    // Midpoint of the limb in preview pixels: x = 10 + 250·0.5 = 135, y = 20 + 100·0.5 = 70.
    expect(px(img.data, 135, 70)).toEqual([...limbColours(layout.numLimbs)[0]]);
    // Joint disc is white.
    expect(px(img.data, 110, 70)).toEqual([255, 255, 255]);
    // Some white pixels in the status line at the top-left, none far right of it on that row band.
    const status = img.data.subarray(0, W * 3 * 10);
    expect(status.some((v) => v === 255)).toBe(true);
    // The id label "#7" sits above the person.
    let labelPixels = 0;
    for (let y = 40; y < 68; y++) for (let x = 110; x < 160; x++) if (px(img.data, x, y).every((v) => v === 255)) labelPixels++;
    expect(labelPixels).toBeGreaterThan(5);
  });

  it('skips missing parts and people whose keypoint array does not fit the layout', () => {
    const img = { data: new Uint8Array(W * H * 3), width: W, height: H };
    const a = new Annotator(layout, H);
    const onlyNeck = new Float32Array(layout.numParts * 3);
    onlyNeck.set([200, 200, 0.9], 3);
    a.draw(img, [{ id: 1, keypoints: onlyNeck }, { id: 2, keypoints: new Float32Array(3) }], { scale: 0.5, offsetX: 0, offsetY: 0, contentWidth: W, contentHeight: H }, { fps: 0, netWidth: 0, netHeight: 0 });
    const colours = new Set(limbColours(layout.numLimbs).map((c) => c.join()));
    let limbPixels = 0;
    for (let i = 0; i < img.data.length; i += 3) if (colours.has(`${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`)) limbPixels++;
    expect(limbPixels).toBe(0);
  });
});
