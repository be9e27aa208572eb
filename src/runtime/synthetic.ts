// Synthetic network outputs rendered from known skeletons, for any model layout: Gaussian peaks in
// the heatmaps and unit vectors along each limb in the PAFs, as the networks are trained to
// produce (Cao et al., section 3). Tests parse them back and compare with the skeletons; the bench
// uses them to time the parser on scenes of any size without running a network.

import type { ModelLayout } from './manifest.js';
import type { ParserInput } from './paf/types.js';

/**
 * A person to render: K × 3 (x, y, v) in map cells (integer = cell centre), in the layout's part
 * order. v > 0 marks a present part and is its peak height; v = 0 marks a missing part.
 */
export type Skeleton = Float32Array;

export interface SyntheticOptions {
  /** Gaussian sigma of the heatmap peaks, in cells (default 1). */
  sigma?: number;
  /** Half-width of the PAF band around each limb, in cells (default 1). */
  pafWidth?: number;
}

/** Maps laid out as the manifest's output tensors: a ParserInput plus the tensors by name. */
export interface SyntheticMaps extends ParserInput {
  tensors: Record<string, Float32Array>;
}

/**
 * Renders heatmaps (peaks combined by max; background = 1 − max of all parts when the layout has a
 * background channel) and PAFs (unit vectors from part A to part B within `pafWidth` of the
 * segment, averaged where limbs of the same type overlap), writing each limb's x and y into the
 * channels its manifest names (trt_pose stores y first).
 */
export function renderSyntheticMaps(
  layout: ModelLayout,
  width: number,
  height: number,
  skeletons: readonly Skeleton[],
  options: SyntheticOptions = {},
): SyntheticMaps {
  const m = layout.manifest, K = layout.numParts;
  const sigma = options.sigma ?? 1, band = options.pafWidth ?? 1;
  for (const s of skeletons)
    if (s.length !== K * 3) throw new RangeError(`a ${m.name} skeleton has ${K * 3} values (K × 3), got ${s.length}`);
  const plane = width * height;
  const hm = m.outputs.heatmaps, pf = m.outputs.pafs;
  const tensors: Record<string, Float32Array> = {};
  if (hm.tensor === pf.tensor) {
    tensors[hm.tensor] = new Float32Array(Math.max(hm.offset + hm.channels, pf.offset + pf.channels) * plane);
  } else {
    tensors[hm.tensor] = new Float32Array((hm.offset + hm.channels) * plane);
    tensors[pf.tensor] = new Float32Array((pf.offset + pf.channels) * plane);
  }
  const heatmaps = tensors[hm.tensor]!, pafs = tensors[pf.tensor]!;

  // Heatmaps: Gaussians out to 3 sigma, combined by max so that close people keep separate peaks.
  const reach = Math.ceil(3 * sigma);
  for (let k = 0; k < K; k++) {
    const base = (hm.offset + k) * plane;
    for (const s of skeletons) {
      const v = s[k * 3 + 2]!;
      if (!(v > 0)) continue;
      const px = s[k * 3]!, py = s[k * 3 + 1]!;
      const x0 = Math.max(0, Math.floor(px) - reach), x1 = Math.min(width - 1, Math.ceil(px) + reach);
      const y0 = Math.max(0, Math.floor(py) - reach), y1 = Math.min(height - 1, Math.ceil(py) + reach);
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const d2 = (x - px) ** 2 + (y - py) ** 2;
          const g = v * Math.exp(-d2 / (2 * sigma * sigma));
          const i = base + y * width + x;
          if (g > heatmaps[i]!) heatmaps[i] = g;
        }
    }
  }
  if (m.background_channel !== null) {
    const bg = (hm.offset + m.background_channel) * plane;
    for (let i = 0; i < plane; i++) {
      let max = 0;
      for (let k = 0; k < K; k++) max = Math.max(max, heatmaps[(hm.offset + k) * plane + i]!);
      heatmaps[bg + i] = 1 - max;
    }
  }

  // PAFs: every cell within `band` of the segment A–B (a capsule, so that bilinear reads at the
  // joints see the field) gets the unit vector; cells covered by several people get the average.
  const covered = new Uint16Array(plane);
  for (let l = 0; l < layout.numLimbs; l++) {
    covered.fill(0);
    const cx = (pf.offset + layout.pafX[l]!) * plane, cy = (pf.offset + layout.pafY[l]!) * plane;
    const a = layout.limbA[l]!, b = layout.limbB[l]!;
    for (const s of skeletons) {
      if (!(s[a * 3 + 2]! > 0 && s[b * 3 + 2]! > 0)) continue;
      const ax = s[a * 3]!, ay = s[a * 3 + 1]!, bx = s[b * 3]!, by = s[b * 3 + 1]!;
      const len = Math.hypot(bx - ax, by - ay);
      if (len < 1e-6) continue;
      const ux = (bx - ax) / len, uy = (by - ay) / len;
      const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - band)), x1 = Math.min(width - 1, Math.ceil(Math.max(ax, bx) + band));
      const y0 = Math.max(0, Math.floor(Math.min(ay, by) - band)), y1 = Math.min(height - 1, Math.ceil(Math.max(ay, by) + band));
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const t = Math.max(0, Math.min(len, (x - ax) * ux + (y - ay) * uy));
          if (Math.hypot(x - (ax + ux * t), y - (ay + uy * t)) > band) continue;
          const i = y * width + x;
          pafs[cx + i] += ux;
          pafs[cy + i] += uy;
          covered[i]++;
        }
    }
    for (let i = 0; i < plane; i++)
      if (covered[i]! > 1) {
        pafs[cx + i] /= covered[i]!;
        pafs[cy + i] /= covered[i]!;
      }
  }
  return { heatmaps, heatmapOffset: hm.offset, pafs, pafOffset: pf.offset, width, height, tensors };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same scenes on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standing person facing the camera, in units of body height: x from the body's centre line
 * (the person's right side on the image's left), y down from the top of the head. Keyed by part
 * name with "left_"/"right_" shortened to "l_"/"r_", which covers COCO-18, BODY_25 and trt_pose.
 */
const STANDING: Record<string, readonly [number, number]> = {
  nose: [0, 0.08], neck: [0, 0.18],
  r_eye: [-0.04, 0.05], l_eye: [0.04, 0.05], r_ear: [-0.08, 0.07], l_ear: [0.08, 0.07],
  r_shoulder: [-0.12, 0.19], l_shoulder: [0.12, 0.19], r_elbow: [-0.16, 0.36], l_elbow: [0.16, 0.36],
  r_wrist: [-0.19, 0.51], l_wrist: [0.19, 0.51], mid_hip: [0, 0.52], r_hip: [-0.08, 0.53], l_hip: [0.08, 0.53],
  r_knee: [-0.09, 0.74], l_knee: [0.09, 0.74], r_ankle: [-0.09, 0.94], l_ankle: [0.09, 0.94],
  r_heel: [-0.1, 0.97], l_heel: [0.1, 0.97], r_big_toe: [-0.05, 1], l_big_toe: [0.05, 1],
  r_small_toe: [-0.13, 0.99], l_small_toe: [0.13, 0.99],
};

function templateName(name: string): string {
  return name.toLowerCase().replace(/^left_/, 'l_').replace(/^right_/, 'r_');
}

/** The index of keypoint `name` in the layout; throws for an unknown name. */
export function partIndex(layout: ModelLayout, name: string): number {
  const i = layout.manifest.keypoints.indexOf(name);
  if (i < 0) throw new RangeError(`${layout.manifest.name} has no keypoint "${name}"`);
  return i;
}

/**
 * A standing person of `bodyHeight` cells whose head top is at (x, top), every part present with
 * peak height 1. `jitter` (share of body height, default 0) moves each part by a random amount up
 * to that much in x and y, drawn from `random`.
 */
export function standingSkeleton(
  layout: ModelLayout,
  x: number,
  top: number,
  bodyHeight: number,
  jitter = 0,
  random: () => number = seededRandom(1),
): Skeleton {
  const s = new Float32Array(layout.numParts * 3);
  layout.manifest.keypoints.forEach((name, k) => {
    const t = STANDING[templateName(name)];
    if (!t) throw new RangeError(`no synthetic pose for keypoint "${name}" of ${layout.manifest.name}`);
    s[k * 3] = x + (t[0] + jitter * (2 * random() - 1)) * bodyHeight;
    s[k * 3 + 1] = top + (t[1] + jitter * (2 * random() - 1)) * bodyHeight;
    s[k * 3 + 2] = 1;
  });
  return s;
}

/**
 * `count` plausible people that fit a width × height map: a grid of slots sized so the people are
 * as tall as possible, each person 75–100 % of the slot's height, placed at random inside its slot,
 * leaning by up to ±8 % and with parts jittered by up to 1 % of body height (more would collapse
 * the short face limbs). Deterministic for a given seed.
 */
export function randomSkeletons(layout: ModelLayout, count: number, width: number, height: number, seed: number): Skeleton[] {
  const random = seededRandom(seed);
  // Cell centres run from 0 to size − 1, so that is the room people must fit in.
  const spanW = width - 1, spanH = height - 1;
  const aspect = 0.5; // body width / height of the standing template, with a margin
  let cols = 1, best = 0;
  for (let c = 1; c <= Math.max(1, count); c++) {
    const rows = Math.ceil(count / c);
    const h = Math.min(spanH / rows, spanW / c / aspect);
    if (h > best) { best = h; cols = c; }
  }
  const rows = Math.ceil(count / cols);
  const slotW = spanW / cols, slotH = spanH / rows;
  const out: Skeleton[] = [];
  for (let i = 0; i < count; i++) {
    const body = best * 0.9 * (0.75 + 0.25 * random());
    const col = i % cols, row = Math.floor(i / cols);
    const cx = col * slotW + slotW / 2 + (slotW - body * aspect) * (random() - 0.5) * 0.8;
    const top = row * slotH + (slotH - body) * (0.1 + 0.8 * random());
    const s = standingSkeleton(layout, cx, top, body, 0.01, random);
    const lean = 0.16 * (random() - 0.5);
    for (let k = 0; k < layout.numParts; k++) s[k * 3] += lean * (s[k * 3 + 1]! - top - body / 2);
    out.push(s);
  }
  return out;
}
