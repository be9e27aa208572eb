// Source frame (any size, RGB or BGR) → preview-sized RGB, letterboxed to keep the aspect ratio.
// Runs once per sent preview frame, so the column/row maps are computed once per source size.

import type { RawFrame } from '../../runtime/types.js';

/** Where the source image lies inside the preview: preview = offset + source × scale. */
export interface Placement {
  scale: number;
  offsetX: number;
  offsetY: number;
  /** Size of the image area (the rest are black bars). */
  contentWidth: number;
  contentHeight: number;
}

export class FrameScaler {
  /** Preview image, height × width × 3 (RGB), reused for every frame. */
  readonly rgb: Uint8Array;
  private placementFor = '';
  private placement: Placement | undefined;
  /** Per preview column: byte offsets (×3) of the two source columns averaged; same for rows (in pixels). */
  private col0 = new Int32Array(0);
  private col1 = new Int32Array(0);
  private row0 = new Int32Array(0);
  private row1 = new Int32Array(0);

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (width % 2 || height % 2 || width <= 0 || height <= 0) throw new Error(`preview size must be even and positive, got ${width}x${height}`);
    this.rgb = new Uint8Array(width * height * 3);
  }

  /** Scales `frame` into `rgb` and returns where it landed. */
  scale(frame: RawFrame): Placement {
    const { width: sw, height: sh, data } = frame;
    if (!(sw > 0 && sh > 0) || data.length < sw * sh * 3)
      throw new Error(`preview: frame data holds ${data.length} bytes, ${sw}x${sh} RGB needs ${sw * sh * 3}`);
    const p = this.place(sw, sh);
    this.clearBars(p);
    const dst = this.rgb;
    const stride = sw * 3;
    // Channel i of the output reads channel swap[i] of the input.
    const r = frame.order === 'bgr' ? 2 : 0;
    const b = 2 - r;
    for (let y = 0; y < p.contentHeight; y++) {
      const a0 = this.row0[y] * stride;
      const a1 = this.row1[y] * stride;
      let o = ((p.offsetY + y) * this.width + p.offsetX) * 3;
      for (let x = 0; x < p.contentWidth; x++, o += 3) {
        const c0 = this.col0[x];
        const c1 = this.col1[x];
        const i00 = a0 + c0, i01 = a0 + c1, i10 = a1 + c0, i11 = a1 + c1;
        // 2×2 box average: exact for the common 2× downscale (720p → 360p), mild anti-aliasing otherwise.
        dst[o] = (data[i00 + r] + data[i01 + r] + data[i10 + r] + data[i11 + r] + 2) >> 2;
        dst[o + 1] = (data[i00 + 1] + data[i01 + 1] + data[i10 + 1] + data[i11 + 1] + 2) >> 2;
        dst[o + 2] = (data[i00 + b] + data[i01 + b] + data[i10 + b] + data[i11 + b] + 2) >> 2;
      }
    }
    return p;
  }

  private place(sw: number, sh: number): Placement {
    const key = `${sw}x${sh}`;
    if (this.placement && key === this.placementFor) return this.placement;
    const scale = Math.min(this.width / sw, this.height / sh);
    const contentWidth = Math.min(this.width, Math.max(1, Math.round(sw * scale)));
    const contentHeight = Math.min(this.height, Math.max(1, Math.round(sh * scale)));
    const p: Placement = {
      scale,
      offsetX: (this.width - contentWidth) >> 1,
      offsetY: (this.height - contentHeight) >> 1,
      contentWidth,
      contentHeight,
    };
    const map = (n: number, srcN: number, first: Int32Array, second: Int32Array, mul: number) => {
      for (let i = 0; i < n; i++) {
        // Centre of output pixel i in source coordinates, minus half a pixel: the pair straddling it.
        const s = Math.floor((i + 0.5) / scale - 0.5);
        const s0 = Math.min(srcN - 1, Math.max(0, s));
        first[i] = s0 * mul;
        second[i] = Math.min(srcN - 1, s0 + 1) * mul;
      }
    };
    this.col0 = new Int32Array(contentWidth);
    this.col1 = new Int32Array(contentWidth);
    this.row0 = new Int32Array(contentHeight);
    this.row1 = new Int32Array(contentHeight);
    map(contentWidth, sw, this.col0, this.col1, 3);
    map(contentHeight, sh, this.row0, this.row1, 1);
    this.placement = p;
    this.placementFor = key;
    return p;
  }

  private clearBars(p: Placement): void {
    const w3 = this.width * 3;
    if (p.offsetY > 0) {
      this.rgb.fill(0, 0, p.offsetY * w3);
      this.rgb.fill(0, (p.offsetY + p.contentHeight) * w3);
    }
    if (p.offsetX > 0) {
      for (let y = 0; y < this.height; y++) {
        this.rgb.fill(0, y * w3, y * w3 + p.offsetX * 3);
        this.rgb.fill(0, y * w3 + (p.offsetX + p.contentWidth) * 3, (y + 1) * w3);
      }
    }
  }
}
