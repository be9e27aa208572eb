// Zones and lines in source pixels (compiled once per source size from the 0..1 config).

import type { LineConfig, ZoneConfig } from './config-schema.js';

export interface CompiledZone {
  readonly name: string;
  /** Corners as x0, y0, x1, y1, … in source pixels. */
  readonly xy: Float64Array;
  readonly excludesPersonDown: boolean;
  readonly excludesHandsUp: boolean;
  readonly excludesWave: boolean;
  readonly loiterMs: number;
}

export interface CompiledLine {
  readonly name: string;
  readonly ax: number;
  readonly ay: number;
  readonly dx: number;
  readonly dy: number;
  readonly length: number;
  /** Sign of the signed distance on the line's "in" side. */
  readonly inSign: 1 | -1;
  /** Half-width of the dead band, px. */
  readonly band: number;
}

export function compileZone(z: ZoneConfig, width: number, height: number): CompiledZone {
  const xy = new Float64Array(2 * z.polygon.length);
  z.polygon.forEach(([x, y], i) => {
    xy[2 * i] = x * width;
    xy[2 * i + 1] = y * height;
  });
  return {
    name: z.name,
    xy,
    excludesPersonDown: z.exclude_from.includes('person_down'),
    excludesHandsUp: z.exclude_from.includes('hands_up'),
    excludesWave: z.exclude_from.includes('wave'),
    loiterMs: z.loiter_s * 1000,
  };
}

export function compileLine(l: LineConfig, width: number, height: number): CompiledLine {
  const ax = l.a[0] * width, ay = l.a[1] * height;
  const dx = l.b[0] * width - ax, dy = l.b[1] * height - ay;
  // Signed distance = cross(b − a, p − a) / |b − a|. Far to the left of the image (x → −∞) its sign is sign(dy);
  // far above (y → −∞) it is −sign(dx) (y grows downwards).
  const left = Math.sign(dy) as 1 | -1, below = Math.sign(dx) as 1 | -1;
  const inSign = l.in === 'left' ? left : l.in === 'right' ? (-left as 1 | -1) : l.in === 'below' ? below : (-below as 1 | -1);
  return { name: l.name, ax, ay, dx, dy, length: Math.hypot(dx, dy), inSign, band: l.hysteresis * height };
}

/** Even–odd rule; a point exactly on an edge may fall either way (zones use time hysteresis anyway). */
export function insidePolygon(xy: Float64Array, x: number, y: number): boolean {
  if (x !== x || y !== y) return false;
  let inside = false;
  const n = xy.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Which side of the line (x, y) is on: +1 / -1 by the sign of the signed distance, 0 inside the dead band, and 2 when
 * the point is beside the segment (past either end by more than the band): sides there are not crossings.
 */
export function lineSide(l: CompiledLine, x: number, y: number): -1 | 0 | 1 | 2 {
  if (x !== x || y !== y) return 0;
  const px = x - l.ax, py = y - l.ay;
  const along = (px * l.dx + py * l.dy) / l.length;
  if (along < -l.band || along > l.length + l.band) return 2;
  const d = (l.dx * py - l.dy * px) / l.length;
  if (d > l.band) return 1;
  if (d < -l.band) return -1;
  return 0;
}
