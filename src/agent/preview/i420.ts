// RGB → I420 (planar Y, then U and V at half resolution), the format the encoder child reads.
// BT.601 limited range, which is what WebRTC decoders assume for untagged frames.

/** A preview frame; `data` is Y (w×h) then U (w/2×h/2) then V (w/2×h/2), reused. */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

export function allocI420(width: number, height: number): I420Frame {
  if (width % 2 || height % 2) throw new Error(`I420 needs even sizes, got ${width}x${height}`);
  return { width, height, data: new Uint8Array((width * height * 3) / 2) };
}

/**
 * Converts `rgb` (height × width × 3) into `out` (same size). Chroma is the mean of each 2×2 block.
 * The preview converts while scaling (I420Scaler, same arithmetic); this is the reference it is tested against.
 */
export function rgbToI420(rgb: Uint8Array, out: I420Frame): void {
  const { width: w, height: h, data } = out;
  if (rgb.length < w * h * 3) throw new Error(`rgbToI420: ${rgb.length} bytes for ${w}x${h} RGB`);
  const uBase = w * h;
  const vBase = uBase + (w * h) / 4;
  const cw = w >> 1;
  for (let y = 0; y < h; y += 2) {
    let i0 = y * w * 3; // row y
    let i1 = i0 + w * 3; // row y + 1
    let y0 = y * w;
    let y1 = y0 + w;
    let c = uBase + (y >> 1) * cw;
    let cv = vBase + (y >> 1) * cw;
    for (let x = 0; x < w; x += 2, i0 += 6, i1 += 6, y0 += 2, y1 += 2, c++, cv++) {
      const r = rgb[i0] + rgb[i0 + 3] + rgb[i1] + rgb[i1 + 3];
      const g = rgb[i0 + 1] + rgb[i0 + 4] + rgb[i1 + 1] + rgb[i1 + 4];
      const b = rgb[i0 + 2] + rgb[i0 + 5] + rgb[i1 + 2] + rgb[i1 + 5];
      data[y0] = luma(rgb[i0], rgb[i0 + 1], rgb[i0 + 2]);
      data[y0 + 1] = luma(rgb[i0 + 3], rgb[i0 + 4], rgb[i0 + 5]);
      data[y1] = luma(rgb[i1], rgb[i1 + 1], rgb[i1 + 2]);
      data[y1 + 1] = luma(rgb[i1 + 3], rgb[i1 + 4], rgb[i1 + 5]);
      // Sums of four pixels: the extra >> 2 averages them.
      data[c] = ((-38 * r - 74 * g + 112 * b + 512) >> 10) + 128;
      data[cv] = ((112 * r - 94 * g - 18 * b + 512) >> 10) + 128;
    }
  }
}

function luma(r: number, g: number, b: number): number {
  return ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
}

/** One colour in I420 terms (BT.601 limited range, as rgbToI420 converts it). */
export interface Yuv {
  y: number;
  u: number;
  v: number;
}

export function rgbToYuv(rgb: readonly [number, number, number]): Yuv {
  const [r, g, b] = rgb;
  return {
    y: luma(r, g, b),
    u: ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128,
    v: ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128,
  };
}
