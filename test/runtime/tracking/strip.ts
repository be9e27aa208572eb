// The strip an eye checks identity chains on: one row per person, a dozen samples along the chain, each the
// person's detected skeleton in its own box, coloured by the source chain it came from (so every join is
// visible), with frame number and position. The committed strip (test/fixtures/tracking/strip.png) shows only
// skeletons: street.avi's licence forbids redistributing its pixels. With `video`, each sample is drawn over the
// crop of the video frame instead, for the local check by eye (written outside the repository).

import { execFileSync } from 'node:child_process';
import sharp, { type OverlayOptions } from 'sharp';
import type { ModelManifest } from '../../../src/runtime/manifest.js';
import { chainKey, type IdentityChain } from '../../../src/runtime/tracking/evaluation.js';
import type { Person } from '../../../src/runtime/types.js';

const COLOURS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080'];
const CELL_W = 72, CELL_H = 144, LABEL_H = 14, NAME_W = 120, SAMPLES = 12;

export interface StripPerson {
  name: string;
  /** The eye-checked source chains (by key) and the joined chain. */
  parts: readonly string[];
  chain: IdentityChain;
}

/**
 * Renders the strip as PNG. `chains` are the builder's chains (to colour each sample by its source chain);
 * `video` = path of the clip to crop samples from (1280×720 assumed by the caller's detections).
 */
export async function renderStrip(
  people: readonly StripPerson[],
  frames: readonly (readonly Person[])[],
  chains: readonly IdentityChain[],
  manifest: Pick<ModelManifest, 'keypoints' | 'limbs'>,
  video?: { path: string; width: number; height: number },
): Promise<Buffer> {
  const limbs = manifest.limbs.map((l) => [manifest.keypoints.indexOf(l.from), manifest.keypoints.indexOf(l.to)]);
  const sourceOf = new Map<string, string>();
  for (const c of chains) c.frames.forEach((f, i) => sourceOf.set(`${f}:${c.detections[i]}`, chainKey(c)));
  const decoded = video ? decodeAll(video.path, video.width, video.height) : null;
  const rows: Buffer[] = [];
  for (const person of people) {
    const layers: OverlayOptions[] = [];
    const name = `<text x="4" y="20" font-size="13" fill="#ffe119">${escape(person.name.slice(0, 16))}</text>` +
      `<text x="4" y="40" font-size="11" fill="white">${person.chain.frames[0]}-${person.chain.frames.at(-1)}</text>` +
      `<text x="4" y="56" font-size="11" fill="white">${person.chain.frames.length} frames</text>` +
      person.parts.map((k, i) => `<text x="4" y="${74 + 13 * i}" font-size="10" fill="${COLOURS[i % COLOURS.length]}">${k}</text>`).join('');
    layers.push({ input: svg(NAME_W, CELL_H, name), left: 0, top: 0 });
    for (let s = 0; s < SAMPLES; s++) {
      const i = Math.round((s * (person.chain.frames.length - 1)) / (SAMPLES - 1));
      const f = person.chain.frames[i], d = person.chain.detections[i];
      const kp = frames[f][d].keypoints;
      const colour = COLOURS[person.parts.indexOf(sourceOf.get(`${f}:${d}`) ?? '') % COLOURS.length] ?? '#ffffff';
      // The sample's box: the keypoint box, 20 % larger, 1:2.
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let k = 0; k < kp.length; k += 3) {
        if (kp[k + 2] <= 0) continue;
        x0 = Math.min(x0, kp[k]);
        x1 = Math.max(x1, kp[k]);
        y0 = Math.min(y0, kp[k + 1]);
        y1 = Math.max(y1, kp[k + 1]);
      }
      const h = Math.max(40, y1 - y0) * 1.2, w = h / 2, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
      const scale = (CELL_H - LABEL_H) / h, left = cx - w / 2, top = cy - h / 2;
      let body = '';
      for (const [a, b] of limbs) {
        if (kp[3 * a + 2] <= 0 || kp[3 * b + 2] <= 0) continue;
        const p = (k: number) => `${((kp[3 * k] - left) * scale).toFixed(1)}`;
        const q = (k: number) => `${((kp[3 * k + 1] - top) * scale).toFixed(1)}`;
        body += `<line x1="${p(a)}" y1="${q(a)}" x2="${p(b)}" y2="${q(b)}" stroke="${colour}" stroke-width="2"/>`;
      }
      const cellX = NAME_W + s * CELL_W;
      if (decoded && video) {
        const frame = decoded.subarray(f * video.width * video.height * 3, (f + 1) * video.width * video.height * 3);
        const ex = Math.max(0, Math.min(video.width - 2, Math.round(left))), ey = Math.max(0, Math.min(video.height - 2, Math.round(top)));
        const ew = Math.max(2, Math.min(video.width - ex, Math.round(w))), eh = Math.max(2, Math.min(video.height - ey, Math.round(h)));
        const crop = await sharp(frame, { raw: { width: video.width, height: video.height, channels: 3 } })
          .extract({ left: ex, top: ey, width: ew, height: eh })
          .resize(CELL_W, CELL_H - LABEL_H, { fit: 'fill' })
          .png()
          .toBuffer();
        layers.push({ input: crop, left: cellX, top: LABEL_H });
      }
      layers.push({ input: svg(CELL_W, CELL_H - LABEL_H, body), left: cellX, top: LABEL_H });
      layers.push({ input: svg(CELL_W, LABEL_H, `<text x="2" y="11" font-size="10" fill="white">${f} x${cx.toFixed(0)}</text>`), left: cellX, top: 0 });
    }
    rows.push(
      await sharp({ create: { width: NAME_W + SAMPLES * CELL_W, height: CELL_H, channels: 3, background: '#202020' } })
        .composite(layers)
        .png()
        .toBuffer(),
    );
  }
  return sharp({ create: { width: NAME_W + SAMPLES * CELL_W, height: CELL_H * rows.length, channels: 3, background: '#000000' } })
    .composite(rows.map((input, i) => ({ input, left: 0, top: i * CELL_H })))
    .png({ palette: !video, compressionLevel: 9 })
    .toBuffer();
}

const svg = (w: number, h: number, body: string) =>
  Buffer.from(`<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">${body}</svg>`);

const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

/** Every frame of the clip, RGB, at its native size. */
function decodeAll(path: string, width: number, height: number): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:v:0', '-vf', `scale=${width}:${height}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'], {
    maxBuffer: 1 << 30,
  });
}
