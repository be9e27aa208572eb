import { describe, expect, it } from 'vitest';
import { Annotator, limbColours } from '../../../src/agent/preview/annotate.js';
import { textWidth } from '../../../src/agent/preview/font.js';
import { allocI420, rgbToYuv, type I420Frame } from '../../../src/agent/preview/i420.js';
import { drawLine, drawText, fillDisc, shadeRect } from '../../../src/agent/preview/raster.js';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';

const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
const W = 320, H = 180;

/** A black I420 image. */
function black(): I420Frame {
  const img = allocI420(W, H);
  img.data.fill(16, 0, W * H);
  img.data.fill(128, W * H);
  return img;
}

/** [Y, U, V] at pixel (x, y): its own luma and its 2×2 block's chroma. */
function px(img: I420Frame, x: number, y: number): number[] {
  const c = (y >> 1) * (W >> 1) + (x >> 1);
  return [img.data[y * W + x], img.data[W * H + c], img.data[W * H * 1.25 + c]];
}

const yuv = (rgb: readonly [number, number, number]) => { const c = rgbToYuv(rgb); return [c.y, c.u, c.v]; };
const BLACK = [16, 128, 128];
const WHITE = yuv([255, 255, 255]);

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

describe('raster (on I420)', () => {
  it('draws a thick line covering pixels within the radius and nothing beyond', () => {
    const img = black();
    const red = rgbToYuv([255, 0, 0]);
    drawLine(img, 10, 50, 100, 50, 3, red);
    expect(px(img, 50, 50)).toEqual(yuv([255, 0, 0]));
    expect(px(img, 50, 52)).toEqual(yuv([255, 0, 0]));
    expect(px(img, 50, 54)).toEqual(BLACK);
    expect(px(img, 105, 50)).toEqual(BLACK);
    // Round caps: (10 − 2.5, 50) is inside, (10 − 3.5, 50) is not.
    expect(img.data[50 * W + 7]).toBe(red.y);
    expect(img.data[50 * W + 6]).toBe(16);
    // Off-image segments are clipped, not written out of bounds.
    drawLine(img, -50, -50, 1000, 1000, 4, rgbToYuv([0, 255, 0]));
    expect(img.data.length).toBe(W * H * 1.5);
  });

  it('covers exactly the pixels whose centre lies within the radius of a slanted segment', () => {
    for (const [x0, y0, x1, y1, r] of [[20, 30, 90, 140, 3], [200, 10, 120, 60, 1.5], [50, 50, 50.2, 120, 2.5], [60, 60, 60, 60, 3.5]]) {
      const img = black();
      drawLine(img, x0, y0, x1, y1, r, rgbToYuv([255, 255, 255]));
      let wrong = 0;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const dx = x1 - x0, dy = y1 - y0, l2 = dx * dx + dy * dy;
          const t = l2 > 0 ? Math.min(1, Math.max(0, ((x + 0.5 - x0) * dx + (y + 0.5 - y0) * dy) / l2)) : 0;
          const ex = x + 0.5 - x0 - t * dx, ey = y + 0.5 - y0 - t * dy;
          const d2 = ex * ex + ey * ey;
          // Exact ties may go either way in floating point.
          if (Math.abs(d2 - r * r) < 1e-6) continue;
          if ((d2 < r * r) !== (img.data[y * W + x] === 235)) wrong++;
        }
      }
      expect(wrong, `${x0},${y0} → ${x1},${y1} r ${r}`).toBe(0);
    }
  });

  it('colours chroma where a shape covers the block centre, and shading darkens all three planes', () => {
    const img = black();
    fillDisc(img, 41, 41, 3, rgbToYuv([0, 0, 255]));
    expect(px(img, 40, 40)).toEqual(yuv([0, 0, 255]));
    expect(px(img, 48, 40)).toEqual(BLACK);
    img.data.fill(235, 0, W * H);
    img.data.fill(240, W * H);
    shadeRect(img, 0, 0, 10, 4);
    expect(px(img, 9, 3)).toEqual([((235 - 16) >> 2) + 16, ((240 - 128) >> 2) + 128, ((240 - 128) >> 2) + 128]);
    expect(px(img, 10, 3)).toEqual([235, 240, 240]);
  });

  it('writes text pixels only where glyphs have them, with neutral chroma', () => {
    const img = black();
    img.data.fill(200, W * H); // colourful background chroma
    drawText(img, '1', 0, 0, 1, rgbToYuv([255, 255, 255]));
    // Glyph "1": row 0 has only the centre column set.
    expect(px(img, 2, 0)).toEqual(WHITE);
    expect(img.data[0]).toBe(16);
    expect(textWidth('12', 2)).toBe(22);
  });

  it('draws letters in either case alike, and characters the font lacks as "?"', () => {
    const drawn = (text: string) => {
      const img = black();
      drawText(img, text, 0, 0, 2, rgbToYuv([255, 255, 255]));
      return img.data;
    };
    expect(drawn('fps')).toEqual(drawn('FPS'));
    expect(drawn('é~')).toEqual(drawn('??'));
    expect(drawn('?')).not.toEqual(drawn(' '));
  });
});

describe('Annotator', () => {
  it('draws each limb in its colour at the placement-mapped position, plus the status line', () => {
    const img = black();
    const kp = new Float32Array(layout.numParts * 3);
    // Neck (1) at source (200, 100), right shoulder (2) at (300, 100): limb 0 is 1→2.
    kp.set([200, 100, 0.9], 3);
    kp.set([300, 100, 0.8], 6);
    const a = new Annotator(layout, H);
    a.draw(img, [{ id: 7, keypoints: kp }], { scale: 0.5, offsetX: 10, offsetY: 20, contentWidth: 300, contentHeight: 160 }, { fps: 12.5, netWidth: 456, netHeight: 256 });
    const limb0 = layout.limbA[0] === 1 && layout.limbB[0] === 2 ? 0 : -1;
    expect(limb0).toBe(0);
    // Midpoint of the limb in preview pixels: x = 10 + 250·0.5 = 135, y = 20 + 100·0.5 = 70.
    expect(px(img, 135, 70)).toEqual(yuv(limbColours(layout.numLimbs)[0]));
    // Joint disc is white.
    expect(px(img, 110, 70)).toEqual(WHITE);
    // Some white pixels in the status line at the top-left.
    expect(img.data.subarray(0, W * 10).some((v) => v === 235)).toBe(true);
    // The id label "#7" sits above the person.
    let labelPixels = 0;
    for (let y = 40; y < 68; y++) for (let x = 110; x < 160; x++) if (img.data[y * W + x] === 235) labelPixels++;
    expect(labelPixels).toBeGreaterThan(5);
  });

  it('skips missing parts and people whose keypoint array does not fit the layout', () => {
    const img = black();
    const a = new Annotator(layout, H);
    const onlyNeck = new Float32Array(layout.numParts * 3);
    onlyNeck.set([200, 200, 0.9], 3);
    a.draw(img, [{ id: 1, keypoints: onlyNeck }, { id: 2, keypoints: new Float32Array(3) }], { scale: 0.5, offsetX: 0, offsetY: 0, contentWidth: W, contentHeight: H }, { fps: 0, netWidth: 0, netHeight: 0 });
    // Only neutral chroma anywhere: no limb was drawn (the joint and the text are white).
    const chroma = img.data.subarray(W * H);
    expect(chroma.every((v) => v === 128)).toBe(true);
  });

  it('draws the zones and lines of the pose events and marks a person who is down, in their own colours', () => {
    const img = black();
    const a = new Annotator(layout, H);
    const standing = new Float32Array(layout.numParts * 3);
    standing.set([100, 100, 0.9], 3); // neck
    standing.set([100, 200, 0.9], 8 * 3); // right hip
    const lying = new Float32Array(layout.numParts * 3);
    lying.set([400, 300, 0.9], 3);
    lying.set([500, 310, 0.9], 8 * 3);
    // A 640×360 source drawn at half size: 0..1 coordinates land at 0..320 × 0..180.
    const at = { scale: 0.5, offsetX: 0, offsetY: 0, contentWidth: W, contentHeight: H };
    a.draw(img, [{ id: 1, keypoints: standing }, { id: 2, keypoints: lying }], at, { fps: 10, netWidth: 456, netHeight: 256 }, {
      zones: [{ name: 'bed', polygon: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9], [0.5, 0.9]] }],
      lines: [{ name: 'door', a: [0.25, 0.1], b: [0.25, 0.9], in: 'right' }],
      sourceWidth: 640,
      sourceHeight: 360,
      isDown: (id) => id === 2,
    });
    const near = (x: number, y: number, c: number[], r = 1) => {
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (px(img, x + dx, y + dy).every((v, i) => Math.abs(v - c[i]) <= 2)) return true;
      return false;
    };
    // The zone's left edge at x = 160, between y = 90 and 162, cyan; the line at x = 80, yellow.
    expect(near(160, 130, yuv([0, 220, 255]))).toBe(true);
    expect(near(80, 140, yuv([255, 230, 0]))).toBe(true);
    // The arrow goes right of the line (the "in" side), not left of it.
    let right = 0, left = 0;
    for (let x = 83; x < 100; x++) if (near(x, 90, yuv([255, 230, 0]), 0)) right++;
    for (let x = 62; x < 78; x++) if (near(x, 90, yuv([255, 230, 0]), 0)) left++;
    expect(right).toBeGreaterThan(left);
    // A red box around the person who is down (parts at 200..250 × 150..155), none around the other one.
    const red = yuv([255, 0, 0]);
    let redPixels = 0;
    for (let y = 130; y < 175; y++) for (let x = 180; x < 275; x++) if (near(x, y, red, 0)) redPixels++;
    expect(redPixels).toBeGreaterThan(40);
    let redElsewhere = 0;
    for (let y = 40; y < 110; y++) for (let x = 30; x < 75; x++) if (near(x, y, red, 0)) redElsewhere++;
    expect(redElsewhere).toBe(0);
  });
});
