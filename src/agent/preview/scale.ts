// Source frame (any size, RGB or BGR) → preview-sized image, letterboxed to keep the aspect ratio.
// I420Scaler, the one the preview uses, scales and converts to I420 in one pass (no RGB intermediate);
// FrameScaler gives the same image as RGB (the reference the fused path is tested against).
// Both run once per sent preview frame, so the column/row maps are computed once per source size.

import type { RawFrame } from '../../runtime/types.js';
import { allocI420, type I420Frame } from './i420.js';

/** Where the source image lies inside the preview: preview = offset + source × scale. */
export interface Placement {
  scale: number;
  offsetX: number;
  offsetY: number;
  /** Size of the image area (the rest are black bars). */
  contentWidth: number;
  contentHeight: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * One 2×2 block of preview pixels into the I420 planes, converted like rgbToI420: pixels a, b (row y) and c, d
 * (row y + 1) as channels 0, 1, 2 = R, G, B; Y at yi, yi + 1, yi + w, yi + w + 1; U and V of their mean at ui, vi.
 */
function putBlock(out: Uint8Array, yi: number, w: number, ui: number, vi: number,
  a0: number, a1: number, a2: number, b0: number, b1: number, b2: number,
  c0: number, c1: number, c2: number, d0: number, d1: number, d2: number): void {
  out[yi] = ((66 * a0 + 129 * a1 + 25 * a2 + 128) >> 8) + 16;
  out[yi + 1] = ((66 * b0 + 129 * b1 + 25 * b2 + 128) >> 8) + 16;
  out[yi + w] = ((66 * c0 + 129 * c1 + 25 * c2 + 128) >> 8) + 16;
  out[yi + w + 1] = ((66 * d0 + 129 * d1 + 25 * d2 + 128) >> 8) + 16;
  const r = a0 + b0 + c0 + d0, g = a1 + b1 + c1 + d1, b = a2 + b2 + c2 + d2;
  out[ui] = ((-38 * r - 74 * g + 112 * b + 512) >> 10) + 128;
  out[vi] = ((112 * r - 94 * g - 18 * b + 512) >> 10) + 128;
}

/** Per preview column: byte offsets (×3) of the two source columns averaged; same for rows (in pixels). */
interface Maps {
  key: string;
  placement: Placement;
  /** Above a 2× downscale the two columns (and rows) are one: each preview pixel is its nearest source pixel. */
  nearest: boolean;
  col0: Int32Array;
  col1: Int32Array;
  row0: Int32Array;
  row1: Int32Array;
}

function checkFrame(frame: RawFrame): void {
  const { width: sw, height: sh, data } = frame;
  if (!(sw > 0 && sh > 0) || data.length < sw * sh * 3)
    throw new Error(`preview: frame data holds ${data.length} bytes, ${sw}x${sh} RGB needs ${sw * sh * 3}`);
}

function checkSize(width: number, height: number): void {
  if (width % 2 || height % 2 || width <= 0 || height <= 0) throw new Error(`preview size must be even and positive, got ${width}x${height}`);
}

/**
 * Letterbox placement and sampling maps. Content size and offsets are even, so bars and image split on
 * whole 2×2 chroma blocks (at most one source column/row less than exact rounding would show).
 */
function mapsFor(width: number, height: number, sw: number, sh: number, prev: Maps | undefined): Maps {
  const key = `${sw}x${sh}`;
  if (prev && prev.key === key) return prev;
  const scale = Math.min(width / sw, height / sh);
  const even = (n: number, max: number) => Math.min(max, Math.max(2, 2 * Math.round(n / 2)));
  const contentWidth = even(sw * scale, width);
  const contentHeight = even(sh * scale, height);
  const placement: Placement = {
    scale,
    offsetX: ((width - contentWidth) >> 2) << 1,
    offsetY: ((height - contentHeight) >> 2) << 1,
    contentWidth,
    contentHeight,
  };
  // The 2×2 box only pays off from a 2× downscale on. Above it (the capture's 654×368 → 640×360 is 0.98×, and
  // upscales) a box would blur and read each source pixel ~4 times: 2.0–3.2 ms against 0.8 ms a frame on x86.
  const nearest = scale > 0.5;
  const map = (n: number, srcN: number, mul: number): [Int32Array, Int32Array] => {
    const first = new Int32Array(n);
    const second = nearest ? first : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Centre of output pixel i in source coordinates: the pixel under it, or (box) the pair straddling it.
      const s = nearest ? Math.floor((i + 0.5) / scale) : Math.floor((i + 0.5) / scale - 0.5);
      const s0 = Math.min(srcN - 1, Math.max(0, s));
      first[i] = s0 * mul;
      if (!nearest) second[i] = Math.min(srcN - 1, s0 + 1) * mul;
    }
    return [first, second];
  };
  const [col0, col1] = map(contentWidth, sw, 3);
  const [row0, row1] = map(contentHeight, sh, 1);
  return { key, placement, nearest, col0, col1, row0, row1 };
}

/** Scales into an RGB image (height × width × 3). */
export class FrameScaler {
  /** Preview image, height × width × 3 (RGB), reused for every frame. */
  readonly rgb: Uint8Array;
  private maps: Maps | undefined;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    checkSize(width, height);
    this.rgb = new Uint8Array(width * height * 3);
  }

  /** Scales `frame` into `rgb` and returns where it landed. */
  scale(frame: RawFrame): Placement {
    checkFrame(frame);
    const m = (this.maps = mapsFor(this.width, this.height, frame.width, frame.height, this.maps));
    const p = m.placement;
    const { data } = frame;
    this.rgb.fill(0);
    const dst = this.rgb;
    const stride = frame.width * 3;
    // Channel i of the output reads channel swap[i] of the input.
    const r = frame.order === 'bgr' ? 2 : 0;
    const b = 2 - r;
    for (let y = 0; y < p.contentHeight; y++) {
      const a0 = m.row0[y] * stride;
      const a1 = m.row1[y] * stride;
      let o = ((p.offsetY + y) * this.width + p.offsetX) * 3;
      for (let x = 0; x < p.contentWidth; x++, o += 3) {
        const i00 = a0 + m.col0[x], i01 = a0 + m.col1[x], i10 = a1 + m.col0[x], i11 = a1 + m.col1[x];
        // 2×2 box average: exact for the common 2× downscale (720p → 360p), mild anti-aliasing beyond it;
        // the nearest pixel (both columns and rows the same) above a 2× downscale.
        dst[o] = (data[i00 + r] + data[i01 + r] + data[i10 + r] + data[i11 + r] + 2) >> 2;
        dst[o + 1] = (data[i00 + 1] + data[i01 + 1] + data[i10 + 1] + data[i11 + 1] + 2) >> 2;
        dst[o + 2] = (data[i00 + b] + data[i01 + b] + data[i10 + b] + data[i11 + b] + 2) >> 2;
      }
    }
    return p;
  }
}

/**
 * Scales straight into an I420 frame: every preview pixel is the same 2×2 box average (or nearest pixel) as FrameScaler's,
 * converted like rgbToI420 (BT.601 limited range, chroma = mean of each 2×2 block), so the result is
 * identical to FrameScaler + rgbToI420 without the RGB image in between.
 */
export class I420Scaler {
  /** Preview image in I420, reused for every frame by scale(). */
  readonly frame: I420Frame;
  /** Where the frame being scaled goes (frame, or the one handed to scaleInto). */
  private out: I420Frame;
  private maps: Maps | undefined;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    checkSize(width, height);
    this.frame = allocI420(width, height);
    this.out = this.frame;
  }

  scale(frame: RawFrame): Placement {
    return this.scaleInto(frame, this.frame);
  }

  /** Scales into `target` (same size), e.g. one of the encoder's frame buffers. */
  scaleInto(frame: RawFrame, target: I420Frame): Placement {
    if (target.width !== this.width || target.height !== this.height)
      throw new Error(`preview: target frame is ${target.width}x${target.height}, the scaler makes ${this.width}x${this.height}`);
    this.out = target;
    checkFrame(frame);
    const m = (this.maps = mapsFor(this.width, this.height, frame.width, frame.height, this.maps));
    const p = m.placement;
    this.clearBars(p);
    const w = this.width;
    const cw = w >> 1;
    const out = this.out.data;
    const uBase = w * this.height;
    const vBase = uBase + (uBase >> 2);
    // A Buffer and a Uint8Array are different shapes to V8: one plain view keeps the loop monomorphic.
    const src = frame.data instanceof Buffer ? new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.length) : frame.data;
    const stride = frame.width * 3;
    if (frame.width === 2 * p.contentWidth && frame.height === 2 * p.contentHeight && stride % 4 === 0 && src.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
      this.halve(src, frame.width, frame.order === 'bgr', p);
      return p;
    }
    if (m.nearest) {
      this.sample(src, stride, frame.order === 'bgr', m);
      return p;
    }
    const R = frame.order === 'bgr' ? 2 : 0;
    const B = 2 - R;
    const { col0, col1, row0, row1 } = m;
    for (let y = 0; y < p.contentHeight; y += 2) {
      // Source rows for preview rows y (a, b) and y + 1 (c, d).
      const ra = row0[y] * stride, rb = row1[y] * stride, rc = row0[y + 1] * stride, rd = row1[y + 1] * stride;
      let y0 = (p.offsetY + y) * w + p.offsetX;
      let c = ((p.offsetY + y) >> 1) * cw + (p.offsetX >> 1);
      for (let x = 0; x < p.contentWidth; x += 2, y0 += 2, c++) {
        const p0 = col0[x], p1 = col1[x], q0 = col0[x + 1], q1 = col1[x + 1];
        // Four preview pixels (row y: left, right; row y + 1: left, right), each a rounded 2×2 source mean.
        let i = ra + p0, j = ra + p1, k = rb + p0, l = rb + p1;
        const r00 = (src[i + R] + src[j + R] + src[k + R] + src[l + R] + 2) >> 2;
        const g00 = (src[i + 1] + src[j + 1] + src[k + 1] + src[l + 1] + 2) >> 2;
        const b00 = (src[i + B] + src[j + B] + src[k + B] + src[l + B] + 2) >> 2;
        i = ra + q0; j = ra + q1; k = rb + q0; l = rb + q1;
        const r01 = (src[i + R] + src[j + R] + src[k + R] + src[l + R] + 2) >> 2;
        const g01 = (src[i + 1] + src[j + 1] + src[k + 1] + src[l + 1] + 2) >> 2;
        const b01 = (src[i + B] + src[j + B] + src[k + B] + src[l + B] + 2) >> 2;
        i = rc + p0; j = rc + p1; k = rd + p0; l = rd + p1;
        const r10 = (src[i + R] + src[j + R] + src[k + R] + src[l + R] + 2) >> 2;
        const g10 = (src[i + 1] + src[j + 1] + src[k + 1] + src[l + 1] + 2) >> 2;
        const b10 = (src[i + B] + src[j + B] + src[k + B] + src[l + B] + 2) >> 2;
        i = rc + q0; j = rc + q1; k = rd + q0; l = rd + q1;
        const r11 = (src[i + R] + src[j + R] + src[k + R] + src[l + R] + 2) >> 2;
        const g11 = (src[i + 1] + src[j + 1] + src[k + 1] + src[l + 1] + 2) >> 2;
        const b11 = (src[i + B] + src[j + B] + src[k + B] + src[l + B] + 2) >> 2;
        putBlock(out, y0, w, uBase + c, vBase + c, r00, g00, b00, r01, g01, b01, r10, g10, b10, r11, g11, b11);
      }
    }
    return p;
  }

  /** Nearest-pixel sampling (maps with one column and row per preview pixel), converted as the box path converts. */
  private sample(src: Uint8Array, stride: number, bgr: boolean, m: Maps): void {
    const p = m.placement;
    const w = this.width;
    const cw = w >> 1;
    const out = this.out.data;
    const uBase = w * this.height;
    const vBase = uBase + (uBase >> 2);
    const R = bgr ? 2 : 0;
    const B = 2 - R;
    const { col0, row0 } = m;
    for (let y = 0; y < p.contentHeight; y += 2) {
      const ra = row0[y] * stride, rc = row0[y + 1] * stride;
      let y0 = (p.offsetY + y) * w + p.offsetX;
      let c = ((p.offsetY + y) >> 1) * cw + (p.offsetX >> 1);
      for (let x = 0; x < p.contentWidth; x += 2, y0 += 2, c++) {
        const p0 = col0[x], q0 = col0[x + 1];
        let i = ra + p0;
        const r00 = src[i + R], g00 = src[i + 1], b00 = src[i + B];
        i = ra + q0;
        const r01 = src[i + R], g01 = src[i + 1], b01 = src[i + B];
        i = rc + p0;
        const r10 = src[i + R], g10 = src[i + 1], b10 = src[i + B];
        i = rc + q0;
        const r11 = src[i + R], g11 = src[i + 1], b11 = src[i + B];
        putBlock(out, y0, w, uBase + c, vBase + c, r00, g00, b00, r01, g01, b01, r10, g10, b10, r11, g11, b11);
      }
    }
  }

  /**
   * The common exact 2× case (720p → 360p), same result as the general loop: four source pixels (12 bytes)
   * per row are read as three 32-bit words, and two rows are summed per byte lane at once (SWAR).
   */
  private halve(src: Uint8Array, sw: number, bgr: boolean, p: Placement): void {
    const words = new Uint32Array(src.buffer, src.byteOffset, (sw * 3 * 2 * p.contentHeight) >> 2);
    const ws = (sw * 3) >> 2; // words per source row
    const w = this.width;
    const cw = w >> 1;
    const out = this.out.data;
    const uBase = w * this.height;
    const vBase = uBase + (uBase >> 2);
    const M = 0x00ff00ff;
    for (let y = 0; y < p.contentHeight; y += 2) {
      let a = 2 * y * ws; // source rows 2y, 2y + 1 → preview row y; 2y + 2, 2y + 3 → y + 1
      let y0 = (p.offsetY + y) * w + p.offsetX;
      let c = ((p.offsetY + y) >> 1) * cw + (p.offsetX >> 1);
      for (let x = 0; x < p.contentWidth; x += 2, a += 3, y0 += 2, c++) {
        // Little-endian words over 4 pixels: w0 = c0 c1 c2 c0' (byte 0 first), w1 = c1' c2' c0'' c1'', w2 = c2'' c0''' c1''' c2'''.
        // e* holds the two-row sums of bytes 0 and 2, o* of bytes 1 and 3, in 16-bit lanes.
        let t = words[a], u = words[a + ws];
        let e0 = (t & M) + (u & M), o0 = ((t >>> 8) & M) + ((u >>> 8) & M);
        t = words[a + 1]; u = words[a + ws + 1];
        let e1 = (t & M) + (u & M), o1 = ((t >>> 8) & M) + ((u >>> 8) & M);
        t = words[a + 2]; u = words[a + ws + 2];
        let e2 = (t & M) + (u & M), o2 = ((t >>> 8) & M) + ((u >>> 8) & M);
        // Channels 0, 1, 2 of the left and right preview pixels of row y.
        let a0 = ((e0 & 0xffff) + (o0 >>> 16) + 2) >> 2, a1 = ((o0 & 0xffff) + (e1 & 0xffff) + 2) >> 2, a2 = ((e0 >>> 16) + (o1 & 0xffff) + 2) >> 2;
        let b0 = ((e1 >>> 16) + (o2 & 0xffff) + 2) >> 2, b1 = ((o1 >>> 16) + (e2 >>> 16) + 2) >> 2, b2 = ((e2 & 0xffff) + (o2 >>> 16) + 2) >> 2;
        const q = a + 2 * ws;
        t = words[q]; u = words[q + ws];
        e0 = (t & M) + (u & M); o0 = ((t >>> 8) & M) + ((u >>> 8) & M);
        t = words[q + 1]; u = words[q + ws + 1];
        e1 = (t & M) + (u & M); o1 = ((t >>> 8) & M) + ((u >>> 8) & M);
        t = words[q + 2]; u = words[q + ws + 2];
        e2 = (t & M) + (u & M); o2 = ((t >>> 8) & M) + ((u >>> 8) & M);
        let c0 = ((e0 & 0xffff) + (o0 >>> 16) + 2) >> 2, c1 = ((o0 & 0xffff) + (e1 & 0xffff) + 2) >> 2, c2 = ((e0 >>> 16) + (o1 & 0xffff) + 2) >> 2;
        let d0 = ((e1 >>> 16) + (o2 & 0xffff) + 2) >> 2, d1 = ((o1 >>> 16) + (e2 >>> 16) + 2) >> 2, d2 = ((e2 & 0xffff) + (o2 >>> 16) + 2) >> 2;
        if (bgr) {
          let s = a0; a0 = a2; a2 = s;
          s = b0; b0 = b2; b2 = s;
          s = c0; c0 = c2; c2 = s;
          s = d0; d0 = d2; d2 = s;
        }
        // Written out rather than putBlock(): a call here costs the SWAR loop ~30 % (1.2–1.5 → 1.9 ms at 720p).
        out[y0] = ((66 * a0 + 129 * a1 + 25 * a2 + 128) >> 8) + 16;
        out[y0 + 1] = ((66 * b0 + 129 * b1 + 25 * b2 + 128) >> 8) + 16;
        out[y0 + w] = ((66 * c0 + 129 * c1 + 25 * c2 + 128) >> 8) + 16;
        out[y0 + w + 1] = ((66 * d0 + 129 * d1 + 25 * d2 + 128) >> 8) + 16;
        const r = a0 + b0 + c0 + d0, g = a1 + b1 + c1 + d1, b = a2 + b2 + c2 + d2;
        out[uBase + c] = ((-38 * r - 74 * g + 112 * b + 512) >> 10) + 128;
        out[vBase + c] = ((112 * r - 94 * g - 18 * b + 512) >> 10) + 128;
      }
    }
  }

  /** Black (Y 16, U = V = 128) around the content; redone every frame since the overlay may draw there. */
  private clearBars(p: Placement): void {
    const { width: w, height: h } = this;
    const d = this.out.data;
    const cw = w >> 1, ch = h >> 1;
    const uBase = w * h, vBase = uBase + cw * ch;
    const plane = (base: number, pw: number, ph: number, ox: number, oy: number, cW: number, cH: number, v: number) => {
      if (cH < ph) {
        d.fill(v, base, base + oy * pw);
        d.fill(v, base + (oy + cH) * pw, base + ph * pw);
      }
      if (cW < pw) {
        for (let y = oy; y < oy + cH; y++) {
          d.fill(v, base + y * pw, base + y * pw + ox);
          d.fill(v, base + y * pw + ox + cW, base + (y + 1) * pw);
        }
      }
    };
    plane(0, w, h, p.offsetX, p.offsetY, p.contentWidth, p.contentHeight, 16);
    const [ox, oy, cW, cH] = [p.offsetX >> 1, p.offsetY >> 1, p.contentWidth >> 1, p.contentHeight >> 1];
    plane(uBase, cw, ch, ox, oy, cW, cH, 128);
    plane(vBase, cw, ch, ox, oy, cW, cH, 128);
  }
}
