// How alike two poses are: keypoint similarity (COCO's OKS) and overlap of their keypoint boxes.
// Keypoint arrays are K × (x, y, conf), a missing part is (0, 0, 0) as the parser writes it.

/** Bounding box of the present keypoints into `out` = [x0, y0, x1, y1]; returns how many were present. */
export function keypointBox(keypoints: Float32Array, out: Float32Array): number {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, n = 0;
  for (let i = 0; i + 2 < keypoints.length; i += 3) {
    if (keypoints[i + 2] <= 0) continue;
    const x = keypoints[i], y = keypoints[i + 1];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    n++;
  }
  if (n === 0) out.fill(0);
  else {
    out[0] = x0;
    out[1] = y0;
    out[2] = x1;
    out[3] = y1;
  }
  return n;
}

/**
 * A person's scale for OKS, px²: the keypoint box area, but at least half its longer side squared. A walker seen
 * side-on, arms behind the back, or half hidden has a box a few pixels wide; its own area would make OKS reject
 * jitter of a pixel or two (street.avi: a distant man 100 px tall in boxes 4–14 px wide). `scratch`: 4 floats.
 */
export function personArea(keypoints: Float32Array, scratch: Float32Array): number {
  keypointBox(keypoints, scratch);
  const w = scratch[2] - scratch[0], h = scratch[3] - scratch[1];
  return Math.max(boxArea(scratch), 0.5 * Math.max(w, h) ** 2);
}

export function boxArea(box: Float32Array): number {
  return Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
}

/** Intersection over union of two [x0, y0, x1, y1] boxes; 0 when either is empty. */
export function boxIoU(a: Float32Array, b: Float32Array): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Object keypoint similarity over the parts present in both poses, COCO's formula
 * exp(-d² / (2 · area · (2σ)²)) averaged over those parts; 0 when they share none.
 * `area` is the person's scale in pixels² (COCO uses the segment area; we pass a keypoint box area).
 */
export function oks(a: Float32Array, b: Float32Array, sigmas: Float32Array, area: number): number {
  const scale = 2 * Math.max(area, 1);
  let sum = 0, n = 0;
  for (let k = 0; k < sigmas.length; k++) {
    const i = 3 * k;
    if (a[i + 2] <= 0 || b[i + 2] <= 0) continue;
    const dx = a[i] - b[i], dy = a[i + 1] - b[i + 1];
    const kappa = 2 * sigmas[k];
    sum += Math.exp(-(dx * dx + dy * dy) / (scale * kappa * kappa));
    n++;
  }
  return n === 0 ? 0 : sum / n;
}
