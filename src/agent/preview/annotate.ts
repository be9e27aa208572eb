// Draws what the agent sees onto a preview frame (I420, in place): skeletons (one colour per limb of the model's layout),
// joints, person ids, and a status line with the people count, pipeline FPS and current net size; with pose events
// configured also the zones (outlined, named), the lines (named, with an arrow to their "in" side) and a red box and
// "DOWN" label on a person who fell and is down.

import type { ModelLayout } from '../../runtime/manifest.js';
import { GLYPH_HEIGHT, textWidth } from './font.js';
import { rgbToYuv, type I420Frame, type Yuv } from './i420.js';
import { drawLine, drawText, fillDisc, shadeRect, type Rgb } from './raster.js';
import type { Placement } from './scale.js';

export interface PreviewPerson {
  id: number;
  /** K × (x, y, confidence) in source-frame pixels; confidence 0 = part missing. */
  keypoints: Float32Array;
}

export interface OverlayStats {
  fps: number;
  netWidth: number;
  netHeight: number;
}

type Point = readonly [number, number];

/** What the pose events watch, to draw over the picture (coordinates 0..1 of the source). */
export interface OverlayScene {
  zones: ReadonlyArray<{ name: string; polygon: ReadonlyArray<Point> }>;
  lines: ReadonlyArray<{ name: string; a: Point; b: Point; in: 'left' | 'right' | 'above' | 'below' }>;
  /** Size of the source the coordinates are fractions of (keypoints are in its pixels). */
  sourceWidth: number;
  sourceHeight: number;
  /** Whether the person with this id fell and is down now. */
  isDown(id: number): boolean;
}

const WHITE: Yuv = rgbToYuv([255, 255, 255]);
/** Zones cyan, lines yellow, a person down red: apart from each other and from the limb hues at their saturation. */
const ZONE: Yuv = rgbToYuv([0, 220, 255]);
const LINE: Yuv = rgbToYuv([255, 230, 0]);
const DOWN: Yuv = rgbToYuv([255, 0, 0]);

/** Evenly spaced, fully saturated hues: neighbouring limbs stay apart and survive the video codec's 4:2:0 chroma subsampling. */
export function limbColours(count: number): Rgb[] {
  const out: Rgb[] = [];
  for (let i = 0; i < count; i++) out.push(hueToRgb((360 * i) / Math.max(1, count)));
  return out;
}

function hueToRgb(hue: number): Rgb {
  const h = (hue % 360) / 60;
  const x = Math.round(255 * (1 - Math.abs((h % 2) - 1)));
  const sector = Math.floor(h);
  const table: Rgb[] = [[255, x, 0], [x, 255, 0], [0, 255, x], [0, x, 255], [x, 0, 255], [255, 0, x]];
  return table[sector] ?? table[0];
}

export class Annotator {
  /** Limb colours, converted once. */
  private readonly colours: Yuv[];
  /** Limb half-thickness and text scale follow the preview height so 360p and 1080p look alike. */
  private readonly lineRadius: number;
  private readonly textScale: number;

  constructor(private readonly layout: ModelLayout, previewHeight: number) {
    this.colours = limbColours(layout.numLimbs).map(rgbToYuv);
    this.lineRadius = Math.max(1.5, previewHeight / 120);
    this.textScale = Math.max(1, Math.round(previewHeight / 240));
  }

  draw(img: I420Frame, people: readonly PreviewPerson[], at: Placement, stats: OverlayStats, scene?: OverlayScene): void {
    const k = this.layout.numParts;
    if (scene) this.drawScene(img, at, scene);
    for (const person of people) {
      const kp = person.keypoints;
      if (kp.length < k * 3) continue; // a person from another layout: nothing sensible to draw
      for (let l = 0; l < this.layout.numLimbs; l++) {
        const a = this.layout.limbA[l] * 3;
        const b = this.layout.limbB[l] * 3;
        if (!(kp[a + 2] > 0 && kp[b + 2] > 0)) continue;
        drawLine(img, at.offsetX + kp[a] * at.scale, at.offsetY + kp[a + 1] * at.scale,
          at.offsetX + kp[b] * at.scale, at.offsetY + kp[b + 1] * at.scale, this.lineRadius, this.colours[l]);
      }
      let top = Infinity, sumX = 0, n = 0;
      for (let p = 0; p < k; p++) {
        if (!(kp[p * 3 + 2] > 0)) continue;
        const x = at.offsetX + kp[p * 3] * at.scale;
        const y = at.offsetY + kp[p * 3 + 1] * at.scale;
        fillDisc(img, x, y, this.lineRadius + 0.5, WHITE);
        top = Math.min(top, y);
        sumX += x;
        n++;
      }
      const down = n > 0 && person.id >= 0 && scene?.isDown(person.id) === true;
      if (down) this.box(img, kp, at, DOWN);
      // Negative ids mean tracking is off: there is no identity worth showing.
      if (n > 0 && person.id >= 0) this.label(img, down ? `DOWN #${person.id}` : `#${person.id}`, sumX / n, top - 4 * this.lineRadius, down ? DOWN : WHITE);
    }
    const status = `PEOPLE ${people.length}  FPS ${stats.fps.toFixed(1)}  NET ${stats.netWidth}X${stats.netHeight}`;
    const pad = 2 * this.textScale;
    shadeRect(img, 0, 0, textWidth(status, this.textScale) + 2 * pad, GLYPH_HEIGHT * this.textScale + 2 * pad);
    drawText(img, status, pad, pad, this.textScale, WHITE);
  }

  /** A centred label whose bottom edge is at `bottom`, on a shaded backdrop. */
  private label(img: I420Frame, text: string, centreX: number, bottom: number, colour: Yuv = WHITE): void {
    const s = this.textScale;
    const w = textWidth(text, s);
    const h = GLYPH_HEIGHT * s;
    const x = Math.round(centreX - w / 2);
    const y = Math.max(0, Math.round(bottom - h));
    shadeRect(img, x - s, y - s, w + 2 * s, h + 2 * s);
    drawText(img, text, x, y, s, colour);
  }

  /** The box around a person's found parts, a little larger than the skeleton. */
  private box(img: I420Frame, kp: Float32Array, at: Placement, colour: Yuv): void {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i + 2 < kp.length; i += 3) {
      if (!(kp[i + 2] > 0)) continue;
      const x = at.offsetX + kp[i] * at.scale, y = at.offsetY + kp[i + 1] * at.scale;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (!(x1 >= x0)) return;
    const m = 3 * this.lineRadius;
    this.polyline(img, [[x0 - m, y0 - m], [x1 + m, y0 - m], [x1 + m, y1 + m], [x0 - m, y1 + m]], true, this.lineRadius, colour);
  }

  private polyline(img: I420Frame, pts: ReadonlyArray<Point>, closed: boolean, radius: number, colour: Yuv): void {
    const n = pts.length;
    for (let i = 0; i < (closed ? n : n - 1); i++) {
      const [ax, ay] = pts[i], [bx, by] = pts[(i + 1) % n];
      drawLine(img, ax, ay, bx, by, radius, colour);
    }
  }

  private drawScene(img: I420Frame, at: Placement, scene: OverlayScene): void {
    // 0..1 of the source → preview pixels (the placement maps source pixels).
    const px = (p: Point): [number, number] => [at.offsetX + p[0] * scene.sourceWidth * at.scale, at.offsetY + p[1] * scene.sourceHeight * at.scale];
    const thin = Math.max(1, this.lineRadius * 0.6);
    for (const z of scene.zones) {
      const pts = z.polygon.map(px);
      this.polyline(img, pts, true, thin, ZONE);
      // The name just inside the topmost corner.
      const top = pts.reduce((a, b) => (b[1] < a[1] ? b : a));
      this.label(img, z.name, top[0], top[1] + (GLYPH_HEIGHT + 3) * this.textScale, ZONE);
    }
    for (const l of scene.lines) {
      const a = px(l.a), b = px(l.b);
      drawLine(img, a[0], a[1], b[0], b[1], this.lineRadius, LINE);
      // An arrow from the middle towards the "in" side, as the events engine defines it.
      const mx = (a[0] + b[0]) / 2, my = (a[1] + b[1]) / 2;
      let nx = -(b[1] - a[1]), ny = b[0] - a[0];
      const len = Math.hypot(nx, ny) || 1;
      nx /= len;
      ny /= len;
      const wantX = l.in === 'left' ? -1 : l.in === 'right' ? 1 : 0;
      const wantY = l.in === 'above' ? -1 : l.in === 'below' ? 1 : 0;
      if (nx * wantX + ny * wantY < 0) {
        nx = -nx;
        ny = -ny;
      }
      const reach = 8 * this.lineRadius;
      const tipX = mx + nx * reach, tipY = my + ny * reach;
      drawLine(img, mx, my, tipX, tipY, thin, LINE);
      drawLine(img, tipX, tipY, tipX - nx * reach * 0.4 + ny * reach * 0.3, tipY - ny * reach * 0.4 - nx * reach * 0.3, thin, LINE);
      drawLine(img, tipX, tipY, tipX - nx * reach * 0.4 - ny * reach * 0.3, tipY - ny * reach * 0.4 + nx * reach * 0.3, thin, LINE);
      this.label(img, l.name, mx - nx * reach, my - ny * reach, LINE);
    }
  }
}
