// Frame → network input: aspect-preserving resize to the net height, width rounded up to the stride
// with padding on the right, colour reorder and normalisation, written straight into the backend's
// input buffer (float32 NCHW). Everything here is table-driven and allocation-free once warm.

import type { NetSize } from './backend.js';
import type { InputSpec } from './manifest.js';
import type { RawFrame } from './types.js';

/** How a source image sits inside the net input. Net pixel = source pixel × scale (top-left aligned). */
export interface Placement extends NetSize {
  /** Net pixels per source pixel. */
  scale: number;
  /** Width and height of the resized image inside the net input; the rest is padding. */
  contentWidth: number;
  contentHeight: number;
}

/** The net size for a source at a given net height: width follows the aspect, rounded up to the stride. */
export function placeSource(srcWidth: number, srcHeight: number, netHeight: number, stride: number): Placement {
  if (netHeight % stride !== 0) throw new RangeError(`net height ${netHeight} is not a multiple of the stride ${stride}`);
  const scale = netHeight / srcHeight;
  const contentWidth = Math.max(1, Math.round(srcWidth * scale));
  const width = Math.ceil(contentWidth / stride) * stride;
  return { width, height: netHeight, scale, contentWidth, contentHeight: netHeight };
}

/**
 * Separable resampling weights for one axis (triangle filter widened by the downscale factor, so a
 * 720 → 256 reduction averages instead of aliasing; plain bilinear when upscaling).
 */
interface AxisTable {
  start: Int32Array; // [dst] first source index
  count: Int32Array; // [dst] taps used
  weights: Float32Array; // [dst × taps] normalised weights
  taps: number;
  /** Largest tap count in use (≤ 2: the one-pass bilinear path applies). */
  maxCount: number;
}

/**
 * Below this scale the filter widens with the reduction; above it plain bilinear (2 taps) is used:
 * it aliases little down to a third of the size (the ladder's 368 → 160 is 0.43) and halves the work.
 */
const WIDE_FILTER_BELOW = 1 / 3;

function axisTable(src: number, dst: number): AxisTable {
  const scale = dst / src;
  const support = scale < WIDE_FILTER_BELOW ? 1 / scale : 1; // filter radius in source pixels
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float32Array(dst * taps);
  for (let d = 0; d < dst; d++) {
    const centre = (d + 0.5) / scale - 0.5; // pixel-centre convention, as cv2/PIL
    const lo = Math.max(0, Math.floor(centre - support) + 1);
    const hi = Math.min(src - 1, Math.ceil(centre + support) - 1);
    let sum = 0;
    let n = 0;
    for (let s = lo; s <= hi && n < taps; s++, n++) {
      const w = Math.max(0, 1 - Math.abs(s - centre) / support);
      weights[d * taps + n] = w;
      sum += w;
    }
    if (sum === 0) {
      // Upscaling past the border: nearest source pixel.
      start[d] = Math.min(src - 1, Math.max(0, Math.round(centre)));
      count[d] = 1;
      weights[d * taps] = 1;
      continue;
    }
    for (let k = 0; k < n; k++) weights[d * taps + k] /= sum;
    start[d] = lo;
    count[d] = n;
  }
  let maxCount = 0;
  for (let d = 0; d < dst; d++) maxCount = Math.max(maxCount, count[d]!);
  return { start, count, weights, taps, maxCount };
}

/**
 * Writes frames into a float32 NCHW input. Resampling tables and the intermediate row buffer are
 * built once per (source size, placement) and reused, so steady-state frames allocate nothing.
 */
export class Preprocessor {
  private key = '';
  private xTable!: AxisTable;
  private yTable!: AxisTable;
  /** Horizontal pass result: [srcHeight × contentWidth × 3], source channel order. */
  private rows = new Float32Array(0);
  private readonly mul = new Float32Array(3);
  private readonly add = new Float32Array(3);
  /** Source channel feeding each input plane. */
  private readonly plane = new Int32Array(3);

  constructor(private readonly spec: InputSpec, private readonly padPixel = 128) {}

  private prepare(frame: RawFrame, p: Placement): void {
    const key = `${frame.width}x${frame.height}>${p.contentWidth}x${p.contentHeight}`;
    if (key === this.key) return;
    this.xTable = axisTable(frame.width, p.contentWidth);
    this.yTable = axisTable(frame.height, p.contentHeight);
    const need = frame.height * p.contentWidth * 3;
    if (this.rows.length < need) this.rows = new Float32Array(need);
    this.key = key;
  }

  /** Resizes `frame` into `input` (length 3 × p.height × p.width) following `p`; pads the rest. */
  run(frame: RawFrame, p: Placement, input: Float32Array): void {
    const plane = p.width * p.height;
    if (input.length < 3 * plane) throw new RangeError(`input buffer holds ${input.length} floats, ${3 * plane} needed`);
    if (frame.data.length < frame.width * frame.height * 3)
      throw new RangeError(`frame buffer holds ${frame.data.length} bytes, ${frame.width * frame.height * 3} needed for ${frame.width}x${frame.height} RGB`);
    this.prepare(frame, p);
    // value = (pixel - mean) * scale, in the network's colour order.
    const wantBgr = this.spec.colour === 'BGR';
    const haveBgr = frame.order === 'bgr';
    for (let c = 0; c < 3; c++) {
      this.plane[c] = wantBgr === haveBgr ? c : 2 - c;
      this.mul[c] = this.spec.scale[c];
      this.add[c] = -this.spec.mean[c] * this.spec.scale[c];
    }
    if (this.xTable.maxCount === 1 && this.yTable.maxCount === 1) this.direct(frame, p, input);
    else if (this.xTable.maxCount <= 2 && this.yTable.maxCount <= 2) this.bilinear(frame, p, input);
    else {
      this.horizontal(frame, p.contentWidth);
      this.vertical(p, input);
    }
  }

  /** Fills [from, to) of every plane (offsets inside one plane) with the padding value. */
  private pad(input: Float32Array, planeSize: number, from: number, to: number): void {
    if (from >= to) return;
    for (let c = 0; c < 3; c++) input.fill(this.padPixel * this.mul[c]! + this.add[c]!, c * planeSize + from, c * planeSize + to);
  }

  /** Frames already at the net size (capture delivers the top ladder step): reorder and normalise only. */
  private direct(frame: RawFrame, p: Placement, input: Float32Array): void {
    const xs = this.xTable.start, ys = this.yTable.start;
    const src = frame.data;
    const rowStride = frame.width * 3;
    const planeSize = p.width * p.height;
    const outW = p.contentWidth;
    const c0 = this.plane[0]!, c1 = this.plane[1]!, c2 = this.plane[2]!;
    const m0 = this.mul[0]!, m1 = this.mul[1]!, m2 = this.mul[2]!;
    const a0 = this.add[0]!, a1 = this.add[1]!, a2 = this.add[2]!;
    for (let y = 0; y < p.height; y++) {
      const o = y * p.width;
      const rowEnd = y < p.contentHeight ? outW : 0;
      const r = y < p.contentHeight ? ys[y]! * rowStride : 0;
      for (let x = 0; x < rowEnd; x++) {
        const i = r + xs[x]! * 3;
        input[o + x] = src[i + c0]! * m0 + a0;
        input[planeSize + o + x] = src[i + c1]! * m1 + a1;
        input[2 * planeSize + o + x] = src[i + c2]! * m2 + a2;
      }
      this.pad(input, planeSize, o + rowEnd, o + p.width);
    }
  }

  /**
   * One pass straight from the 8-bit frame to the planes when both axes need at most 2 taps (the
   * capture-to-net step): no intermediate buffer, all three planes written per pixel.
   */
  private bilinear(frame: RawFrame, p: Placement, input: Float32Array): void {
    const xt = this.xTable, yt = this.yTable;
    const src = frame.data;
    const rowStride = frame.width * 3;
    const planeSize = p.width * p.height;
    const outW = p.contentWidth;
    const c0 = this.plane[0]!, c1 = this.plane[1]!, c2 = this.plane[2]!;
    const m0 = this.mul[0]!, m1 = this.mul[1]!, m2 = this.mul[2]!;
    const a0 = this.add[0]!, a1 = this.add[1]!, a2 = this.add[2]!;
    for (let y = 0; y < p.height; y++) {
      const o = y * p.width;
      if (y >= p.contentHeight) {
        this.pad(input, planeSize, o, o + p.width);
        continue;
      }
      const r0 = yt.start[y]! * rowStride;
      const twoRows = yt.count[y]! === 2;
      const wy0 = yt.weights[y * yt.taps]!;
      const wy1 = twoRows ? yt.weights[y * yt.taps + 1]! : 0;
      const r1 = twoRows ? r0 + rowStride : r0;
      for (let x = 0; x < outW; x++) {
        const s0 = xt.start[x]! * 3;
        const twoCols = xt.count[x]! === 2;
        const wx0 = xt.weights[x * xt.taps]!;
        const wx1 = twoCols ? xt.weights[x * xt.taps + 1]! : 0;
        const s1 = twoCols ? s0 + 3 : s0;
        const w00 = wy0 * wx0, w01 = wy0 * wx1, w10 = wy1 * wx0, w11 = wy1 * wx1;
        const i00 = r0 + s0, i01 = r0 + s1, i10 = r1 + s0, i11 = r1 + s1;
        const v0 = src[i00 + c0]! * w00 + src[i01 + c0]! * w01 + src[i10 + c0]! * w10 + src[i11 + c0]! * w11;
        const v1 = src[i00 + c1]! * w00 + src[i01 + c1]! * w01 + src[i10 + c1]! * w10 + src[i11 + c1]! * w11;
        const v2 = src[i00 + c2]! * w00 + src[i01 + c2]! * w01 + src[i10 + c2]! * w10 + src[i11 + c2]! * w11;
        input[o + x] = v0 * m0 + a0;
        input[planeSize + o + x] = v1 * m1 + a1;
        input[2 * planeSize + o + x] = v2 * m2 + a2;
      }
      this.pad(input, planeSize, o + outW, o + p.width);
    }
  }

  private horizontal(frame: RawFrame, outW: number): void {
    const { start, count, weights, taps } = this.xTable;
    const src = frame.data;
    const rows = this.rows;
    const srcStride = frame.width * 3;
    for (let y = 0; y < frame.height; y++) {
      const srow = y * srcStride;
      const drow = y * outW * 3;
      for (let x = 0; x < outW; x++) {
        let r = 0, g = 0, b = 0;
        let s = srow + start[x] * 3;
        const wBase = x * taps;
        const n = count[x];
        for (let k = 0; k < n; k++, s += 3) {
          const w = weights[wBase + k];
          r += src[s] * w;
          g += src[s + 1] * w;
          b += src[s + 2] * w;
        }
        const d = drow + x * 3;
        rows[d] = r;
        rows[d + 1] = g;
        rows[d + 2] = b;
      }
    }
  }

  private vertical(p: Placement, input: Float32Array): void {
    const { start, count, weights, taps } = this.yTable;
    const rows = this.rows;
    const outW = p.contentWidth;
    const planeSize = p.width * p.height;
    const rowStride = outW * 3;
    for (let c = 0; c < 3; c++) {
      const srcC = this.plane[c];
      const mul = this.mul[c];
      const add = this.add[c];
      const base = c * planeSize;
      const pad = this.padPixel * mul + add;
      for (let y = 0; y < p.height; y++) {
        const o = base + y * p.width;
        if (y >= p.contentHeight) {
          input.fill(pad, o, o + p.width);
          continue;
        }
        const wBase = y * taps;
        const n = count[y];
        const s0 = start[y];
        for (let x = 0; x < outW; x++) {
          let v = 0;
          let s = s0 * rowStride + x * 3 + srcC;
          for (let k = 0; k < n; k++, s += rowStride) v += rows[s] * weights[wBase + k];
          input[o + x] = v * mul + add;
        }
        if (outW < p.width) input.fill(pad, o + outW, o + p.width);
      }
    }
  }
}
