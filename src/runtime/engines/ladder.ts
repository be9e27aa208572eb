// The net sizes an engine must cover. The adaptive controller moves between these heights at run
// time; widths follow the source aspect, rounded to the model stride, so an engine built for the
// ladder accepts every size the pipeline will ask for and never needs a rebuild when the height changes.

import type { NetSize } from '../backend.js';
import { placeSource } from '../preprocess.js';

/** The default ladder: the heights the adaptive controller steps through (multiples of 8). */
export const DEFAULT_LADDER_HEIGHTS = [160, 224, 256, 320, 368];

/** "16:9" -> 16/9; also accepts a plain number ("1.777"). Throws on anything else. */
export function parseAspect(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const value = m ? Number(m[1]) / Number(m[2]) : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`aspect "${text}" is not W:H (e.g. 16:9) or a positive number`);
  return value;
}

/**
 * Net width for `height` at `aspect`: exactly what the preprocessor will ask for (the resized width,
 * rounded up to the stride), so an engine's profile always contains the sizes the pipeline runs.
 */
export function widthFor(height: number, aspect: number, stride: number): number {
  return placeSource(aspect * height, height, height, stride).width;
}

/** Sizes of the ladder, smallest first; heights that are not multiples of the stride are rejected. */
export function ladderSizes(heights: number[], aspect: number, stride: number): NetSize[] {
  if (!heights.length) throw new Error('the ladder needs at least one height');
  for (const h of heights)
    if (!Number.isInteger(h) || h <= 0 || h % stride !== 0) throw new Error(`ladder height ${h} is not a positive multiple of the stride ${stride}`);
  return [...new Set(heights)].sort((a, b) => a - b).map((height) => ({ height, width: widthFor(height, aspect, stride) }));
}

/** A TensorRT optimisation profile for a single NCHW input (N = 1, C = 3). */
export interface InputProfile {
  min: number[];
  opt: number[];
  max: number[];
}

/**
 * Profile spanning every size: min and max per dimension over the ladder, opt at `optHeight` (the
 * size the pipeline starts at and most often runs) or the ladder size nearest to it.
 */
export function profileForLadder(sizes: NetSize[], optHeight: number): InputProfile {
  const nchw = (s: NetSize) => [1, 3, s.height, s.width];
  const opt = sizes.reduce((best, s) => (Math.abs(s.height - optHeight) < Math.abs(best.height - optHeight) ? s : best), sizes[0]);
  return {
    min: nchw({ height: Math.min(...sizes.map((s) => s.height)), width: Math.min(...sizes.map((s) => s.width)) }),
    opt: nchw(opt),
    max: nchw({ height: Math.max(...sizes.map((s) => s.height)), width: Math.max(...sizes.map((s) => s.width)) }),
  };
}

/** Sizes that do not fit inside the profile (empty when the engine covers them all). */
export function sizesOutsideProfile(sizes: NetSize[], profile: InputProfile): NetSize[] {
  const [, , minH, minW] = profile.min;
  const [, , maxH, maxW] = profile.max;
  return sizes.filter((s) => s.height < minH || s.height > maxH || s.width < minW || s.width > maxW);
}

export function formatSize(s: NetSize): string {
  return `${s.height}x${s.width}`;
}

const NAMED_ASPECTS: Array<[string, number]> = [['16:9', 16 / 9], ['4:3', 4 / 3], ['3:2', 3 / 2], ['16:10', 16 / 10], ['1:1', 1], ['9:16', 9 / 16], ['3:4', 3 / 4]];

/** The aspect a set of sizes was derived from, as "W:H" when it is a common one (within rounding to the stride), else a decimal. */
export function aspectLabel(sizes: NetSize[], stride: number): string {
  const largest = sizes.reduce((a, b) => (b.height > a.height ? b : a));
  const ratio = largest.width / largest.height;
  // Widths are rounded up to the stride, so the ratio of a size can sit up to stride / height above its aspect.
  const tolerance = stride / largest.height;
  const named = NAMED_ASPECTS.find(([, r]) => Math.abs(r - ratio) <= tolerance);
  return named ? named[0] : ratio.toFixed(3);
}
