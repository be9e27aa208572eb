// Drawing primitives straight on an I420 image (the frame handed to the encoder), clipped to the image.
// Luma is drawn per pixel; chroma per 2×2 block, set where the shape covers the block's centre (lines, discs)
// or touches the block (text, shading). Pure typed-array code, no allocation per call.

import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font.js';
import type { I420Frame, Yuv } from './i420.js';

export type Rgb = readonly [number, number, number];

// The x-interval of the current row inside the capsule, written by capsuleSpan (no allocation per row).
let spanLo = 0;
let spanHi = 0;

/**
 * Sets spanLo..spanHi to the x-range where the horizontal line at height `py` meets the capsule
 * (all points within `radius` of segment a→b); returns false when it misses. The capsule is convex, so the
 * range is the hull of the ranges through its two end discs and its straight body.
 */
function capsuleSpan(ax: number, ay: number, dx: number, dy: number, len2: number, radius: number, py: number): boolean {
  let lo = Infinity, hi = -Infinity;
  const v = py - ay;
  const r2 = radius * radius;
  // End discs.
  if (v * v <= r2) {
    const half = Math.sqrt(r2 - v * v);
    lo = ax - half;
    hi = ax + half;
  }
  const w = v - dy;
  if (w * w <= r2) {
    const half = Math.sqrt(r2 - w * w);
    lo = Math.min(lo, ax + dx - half);
    hi = Math.max(hi, ax + dx + half);
  }
  if (len2 > 0) {
    // Body, in u = x - ax: 0 ≤ u·dx + v·dy ≤ len2 (between the ends) and |dx·v − dy·u| ≤ radius·len.
    let bl = -Infinity, bh = Infinity;
    if (dx !== 0) {
      const e0 = (-v * dy) / dx, e1 = (len2 - v * dy) / dx;
      bl = Math.min(e0, e1);
      bh = Math.max(e0, e1);
    } else if (v * dy < 0 || v * dy > len2) bh = -Infinity;
    const rl = radius * Math.sqrt(len2);
    if (dy !== 0) {
      const s0 = (dx * v - rl) / dy, s1 = (dx * v + rl) / dy;
      bl = Math.max(bl, Math.min(s0, s1));
      bh = Math.min(bh, Math.max(s0, s1));
    } else if (Math.abs(dx * v) > rl) bh = -Infinity;
    if (bl <= bh) {
      lo = Math.min(lo, ax + bl);
      hi = Math.max(hi, ax + bh);
    }
  }
  spanLo = lo;
  spanHi = hi;
  return lo <= hi;
}

/** A line of thickness 2·radius with round caps: every pixel whose centre is within `radius` of the segment. */
export function drawLine(img: I420Frame, x0: number, y0: number, x1: number, y1: number, radius: number, c: Yuv): void {
  const { width: w, height: h, data: d } = img;
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - radius));
  const maxY = Math.min(h - 1, Math.ceil(Math.max(y0, y1) + radius));
  if (minY > maxY || Math.max(x0, x1) + radius < 0 || Math.min(x0, x1) - radius > w) return;
  const dx = x1 - x0, dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  // Luma: pixel centres (x + 0.5, y + 0.5).
  for (let y = minY; y <= maxY; y++) {
    if (!capsuleSpan(x0, y0, dx, dy, len2, radius, y + 0.5)) continue;
    const a = Math.max(0, Math.ceil(spanLo - 0.5)), b = Math.min(w - 1, Math.floor(spanHi - 0.5));
    for (let o = y * w + a, end = y * w + b; o <= end; o++) d[o] = c.y;
  }
  // Chroma: block centres (2·cx + 1, 2·cy + 1).
  const cw = w >> 1, ch = h >> 1;
  const uBase = w * h, vBase = uBase + cw * ch;
  for (let cy = minY >> 1; cy <= maxY >> 1 && cy < ch; cy++) {
    if (!capsuleSpan(x0, y0, dx, dy, len2, radius, 2 * cy + 1)) continue;
    const a = Math.max(0, Math.ceil((spanLo - 1) / 2)), b = Math.min(cw - 1, Math.floor((spanHi - 1) / 2));
    for (let o = cy * cw + a, end = cy * cw + b; o <= end; o++) {
      d[uBase + o] = c.u;
      d[vBase + o] = c.v;
    }
  }
}

export function fillDisc(img: I420Frame, cx: number, cy: number, radius: number, c: Yuv): void {
  drawLine(img, cx, cy, cx, cy, radius, c);
}

/** Darkens a rectangle to about a quarter of its brightness and saturation: a backdrop that keeps text legible. */
export function shadeRect(img: I420Frame, x: number, y: number, rw: number, rh: number): void {
  const { width: w, height: h, data: d } = img;
  const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(w, Math.floor(x + rw)), y1 = Math.min(h, Math.floor(y + rh));
  if (x0 >= x1 || y0 >= y1) return;
  for (let yy = y0; yy < y1; yy++) {
    const end = yy * w + x1;
    for (let o = yy * w + x0; o < end; o++) d[o] = ((d[o] - 16) >> 2) + 16;
  }
  const cw = w >> 1;
  const uBase = w * h, vBase = uBase + cw * (h >> 1);
  const cx0 = x0 >> 1, cx1 = (x1 + 1) >> 1;
  for (let cy = y0 >> 1; cy < (y1 + 1) >> 1; cy++) {
    for (let o = cy * cw + cx0, end = cy * cw + cx1; o < end; o++) {
      d[uBase + o] = ((d[uBase + o] - 128) >> 2) + 128;
      d[vBase + o] = ((d[vBase + o] - 128) >> 2) + 128;
    }
  }
}

/** Writes `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` block. */
export function drawText(img: I420Frame, text: string, x: number, y: number, scale: number, c: Yuv): void {
  const { width: w, height: h, data: d } = img;
  const cw = w >> 1;
  const uBase = w * h, vBase = uBase + cw * (h >> 1);
  let gx = Math.round(x);
  const top = Math.round(y);
  for (let n = 0; n < text.length; n++, gx += (GLYPH_WIDTH + 1) * scale) {
    const rows = glyph(text[n]);
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = rows[row];
      if (!bits) continue;
      const py0 = Math.max(0, top + row * scale), py1 = Math.min(h, top + (row + 1) * scale);
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (!(bits & (0x10 >> col))) continue;
        const px0 = Math.max(0, gx + col * scale), px1 = Math.min(w, gx + (col + 1) * scale);
        if (px0 >= px1 || py0 >= py1) continue;
        for (let py = py0; py < py1; py++) for (let o = py * w + px0, end = py * w + px1; o < end; o++) d[o] = c.y;
        for (let cy = py0 >> 1; cy <= (py1 - 1) >> 1; cy++) {
          for (let o = cy * cw + (px0 >> 1), end = cy * cw + ((px1 - 1) >> 1); o <= end; o++) {
            d[uBase + o] = c.u;
            d[vBase + o] = c.v;
          }
        }
      }
    }
  }
}
