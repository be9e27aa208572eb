// Drawing primitives on an RGB image (height × width × 3), clipped to the image. Pure typed-array code.

import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font.js';

export type Rgb = readonly [number, number, number];

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A line of thickness 2·radius with round caps: every pixel whose centre is within `radius` of the segment. */
export function drawLine(img: RgbImage, x0: number, y0: number, x1: number, y1: number, radius: number, c: Rgb): void {
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - radius));
  const maxX = Math.min(img.width - 1, Math.ceil(Math.max(x0, x1) + radius));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - radius));
  const maxY = Math.min(img.height - 1, Math.ceil(Math.max(y0, y1) + radius));
  if (minX > maxX || minY > maxY) return;
  const dx = x1 - x0, dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const r2 = radius * radius;
  const d = img.data;
  for (let y = minY; y <= maxY; y++) {
    const py = y + 0.5 - y0;
    let o = (y * img.width + minX) * 3;
    for (let x = minX; x <= maxX; x++, o += 3) {
      const px = x + 0.5 - x0;
      // Projection of the pixel onto the segment, clamped to its ends.
      const t = len2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / len2)) : 0;
      const ex = px - t * dx, ey = py - t * dy;
      if (ex * ex + ey * ey <= r2) {
        d[o] = c[0];
        d[o + 1] = c[1];
        d[o + 2] = c[2];
      }
    }
  }
}

export function fillDisc(img: RgbImage, cx: number, cy: number, radius: number, c: Rgb): void {
  drawLine(img, cx, cy, cx, cy, radius, c);
}

/** Darkens a rectangle to a quarter of its brightness: a backdrop that keeps text legible on any scene. */
export function shadeRect(img: RgbImage, x: number, y: number, w: number, h: number): void {
  const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + w)), y1 = Math.min(img.height, Math.floor(y + h));
  const d = img.data;
  for (let yy = y0; yy < y1; yy++) {
    const end = (yy * img.width + x1) * 3;
    for (let o = (yy * img.width + x0) * 3; o < end; o++) d[o] >>= 2;
  }
}

/** Writes `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` block. */
export function drawText(img: RgbImage, text: string, x: number, y: number, scale: number, c: Rgb): void {
  const d = img.data;
  let gx = Math.round(x);
  const top = Math.round(y);
  for (const ch of text) {
    const rows = glyph(ch);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = rows[row];
      if (!bits) continue;
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (!(bits & (0x10 >> col))) continue;
        for (let sy = 0; sy < scale; sy++) {
          const py = top + row * scale + sy;
          if (py < 0 || py >= img.height) continue;
          for (let sx = 0; sx < scale; sx++) {
            const px = gx + col * scale + sx;
            if (px < 0 || px >= img.width) continue;
            const o = (py * img.width + px) * 3;
            d[o] = c[0];
            d[o + 1] = c[1];
            d[o + 2] = c[2];
          }
        }
      }
    }
    gx += (GLYPH_WIDTH + 1) * scale;
  }
}
