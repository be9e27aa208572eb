// Draws what the agent sees onto a preview frame (I420, in place): skeletons (one colour per limb of the model's layout),
// joints, person ids, and a status line with the people count, pipeline FPS and current net size.

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

const WHITE: Yuv = rgbToYuv([255, 255, 255]);

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

  draw(img: I420Frame, people: readonly PreviewPerson[], at: Placement, stats: OverlayStats): void {
    const k = this.layout.numParts;
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
      // Negative ids mean tracking is off: there is no identity worth showing.
      if (n > 0 && person.id >= 0) this.label(img, `#${person.id}`, sumX / n, top - 4 * this.lineRadius);
    }
    const status = `PEOPLE ${people.length}  FPS ${stats.fps.toFixed(1)}  NET ${stats.netWidth}X${stats.netHeight}`;
    const pad = 2 * this.textScale;
    shadeRect(img, 0, 0, textWidth(status, this.textScale) + 2 * pad, GLYPH_HEIGHT * this.textScale + 2 * pad);
    drawText(img, status, pad, pad, this.textScale, WHITE);
  }

  /** A centred label whose bottom edge is at `bottom`, on a shaded backdrop. */
  private label(img: I420Frame, text: string, centreX: number, bottom: number): void {
    const s = this.textScale;
    const w = textWidth(text, s);
    const h = GLYPH_HEIGHT * s;
    const x = Math.round(centreX - w / 2);
    const y = Math.max(0, Math.round(bottom - h));
    shadeRect(img, x - s, y - s, w + 2 * s, h + 2 * s);
    drawText(img, text, x, y, s, WHITE);
  }
}
