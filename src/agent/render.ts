// Draws skeletons onto an image file for `pafcast detect --render`, as an SVG overlay composited by sharp.

import sharp from 'sharp';
import type { ModelLayout } from '../runtime/manifest.js';
import type { Person } from '../runtime/types.js';

/** Distinct, saturated hues so neighbouring limbs stay apart; cycled for layouts with more limbs. */
export function limbColour(i: number, count: number): string {
  const hue = Math.round((360 * i) / Math.max(1, count));
  return `hsl(${hue},100%,50%)`;
}

export function skeletonSvg(layout: ModelLayout, people: Person[], width: number, height: number): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const parts: string[] = [];
  for (const person of people) {
    const kp = person.keypoints;
    for (let l = 0; l < layout.numLimbs; l++) {
      const a = layout.limbA[l]! * 3;
      const b = layout.limbB[l]! * 3;
      if (kp[a + 2]! <= 0 || kp[b + 2]! <= 0) continue;
      parts.push(
        `<line x1="${kp[a]!.toFixed(1)}" y1="${kp[a + 1]!.toFixed(1)}" x2="${kp[b]!.toFixed(1)}" y2="${kp[b + 1]!.toFixed(1)}" ` +
          `stroke="${limbColour(l, layout.numLimbs)}" stroke-width="${stroke}" stroke-linecap="round" opacity="0.85"/>`,
      );
    }
    for (let k = 0; k < layout.numParts; k++) {
      if (kp[k * 3 + 2]! <= 0) continue;
      parts.push(`<circle cx="${kp[k * 3]!.toFixed(1)}" cy="${kp[k * 3 + 1]!.toFixed(1)}" r="${stroke + 1}" fill="white" stroke="black" stroke-width="1"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Writes `image` with the skeletons drawn on it to `outPath` (format from the extension). */
export async function renderSkeletons(image: string, outPath: string, layout: ModelLayout, people: Person[]): Promise<void> {
  const base = sharp(image).rotate();
  const { width = 0, height = 0 } = await base.clone().metadata().then(async (m) => {
    // metadata() reports pre-rotation sizes; orientations 5–8 swap width and height.
    const swap = (m.orientation ?? 1) >= 5;
    return swap ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
  });
  const svg = Buffer.from(skeletonSvg(layout, people, width, height));
  await base.composite([{ input: svg, top: 0, left: 0 }]).toFile(outPath);
}
