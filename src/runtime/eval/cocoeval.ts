// COCO keypoint evaluation with the rules of pycocotools' COCOeval(iouType='keypoints'):
// per image, detections (best score first, at most maxDets) are matched greedily to ground truths
// (ignored ones last) at each OKS threshold; then precision is accumulated over all images in one
// score-ordered list and read at 101 recall points. Re-implemented from the published rules; the
// order of every sort and comparison follows COCOeval, so results agree with it to the last digit.

import { COCO_KEYPOINTS, type GtPerson, type KeypointGroundTruth } from './ground-truth.js';
import { numpySum } from './numpy-sum.js';
import { oks } from './oks.js';

/** One detected person in COCO-17 order, as a COCO keypoint result. */
export interface KeypointDetection {
  imageId: number;
  /** 17 × (x, y, score) in image pixels; a missing keypoint is 0, 0, 0 (COCOeval treats it as a point at the origin). */
  keypoints: ArrayLike<number>;
  score: number;
}

export interface AreaRange {
  label: 'all' | 'medium' | 'large';
  /** Inclusive bounds on gt `area` (and on the keypoint box area of unmatched detections). */
  min: number;
  max: number;
}

export interface KeypointEvalParams {
  oksThresholds: number[];
  recallThresholds: number[];
  maxDets: number;
  areaRanges: AreaRange[];
}

/** numpy.linspace's values (i · step + start, last = stop exactly), which the thresholds are compared against. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** COCOeval's keypoint defaults (Params.setKpParams). */
export const KEYPOINT_EVAL_PARAMS: KeypointEvalParams = {
  oksThresholds: linspace(0.5, 0.95, 10),
  recallThresholds: linspace(0, 1, 101),
  maxDets: 20,
  areaRanges: [
    { label: 'all', min: 0, max: 1e5 ** 2 },
    { label: 'medium', min: 32 ** 2, max: 96 ** 2 },
    { label: 'large', min: 96 ** 2, max: 1e5 ** 2 },
  ],
};

/** COCO's keypoint summary; -1 where no ground truth counts (COCOeval's convention). */
export interface KeypointStats {
  ap: number;
  ap50: number;
  ap75: number;
  apMedium: number;
  apLarge: number;
  ar: number;
  ar50: number;
  ar75: number;
  arMedium: number;
  arLarge: number;
}

/** A detection as the evaluator sees it. */
interface ScoredDetection {
  keypoints: ArrayLike<number>;
  score: number;
  /** Area of the box around all 17 keypoints, missing ones (0, 0) included, as COCO.loadRes computes it. */
  area: number;
}

/** Matching outcome of one image for one area range. */
export interface ImageEvaluation {
  /** Scores of the kept detections, best first. */
  dtScores: number[];
  /** [threshold][detection]: matched to a gt. */
  dtMatched: Uint8Array[];
  /** [threshold][detection]: neither true nor false positive. */
  dtIgnored: Uint8Array[];
  /** Per gt (ignored last): not counted in recall. */
  gtIgnored: Uint8Array;
}

function keypointBoxArea(kp: ArrayLike<number>): number {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < COCO_KEYPOINTS; k++) {
    const x = kp[3 * k], y = kp[3 * k + 1];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return (x1 - x0) * (y1 - y0);
}

/** Best score first; ties keep input order (COCOeval sorts with a stable mergesort). */
function byScore<T extends { score: number }>(items: T[]): T[] {
  return items.map((item, i) => ({ item, i }))
    .sort((a, b) => b.item.score - a.item.score || a.i - b.i)
    .map((e) => e.item);
}

/**
 * Greedy matching of one image's detections to its ground truths at every OKS threshold
 * (COCOeval.evaluateImg). `dts` are sorted best first and already cut to maxDets; `ious[d][g]` is
 * their OKS against `gts` in the given order.
 */
export function evaluateImage(
  gts: GtPerson[],
  dts: { score: number; area: number }[],
  ious: number[][],
  range: AreaRange,
  thresholds: number[],
): ImageEvaluation {
  const outside = (area: number) => area < range.min || area > range.max;
  // Ignored gts go last so that a detection prefers a real match over an ignored one.
  const order = gts.map((g, i) => ({ i, ignored: g.ignore || outside(g.area) }))
    .sort((a, b) => Number(a.ignored) - Number(b.ignored) || a.i - b.i);
  const gtIgnored = Uint8Array.from(order, (o) => (o.ignored ? 1 : 0));
  const crowd = order.map((o) => gts[o.i].iscrowd);
  const D = dts.length, G = order.length;
  const dtMatched: Uint8Array[] = [];
  const dtIgnored: Uint8Array[] = [];
  for (const t of thresholds) {
    const matchedDt = new Uint8Array(D);
    const ignoredDt = new Uint8Array(D);
    const gtTaken = new Uint8Array(G);
    for (let d = 0; d < D && G > 0; d++) {
      let best = Math.min(t, 1 - 1e-10);
      let m = -1;
      for (let g = 0; g < G; g++) {
        if (gtTaken[g] && !crowd[g]) continue; // a crowd region may absorb many detections
        if (m > -1 && !gtIgnored[m] && gtIgnored[g]) break; // real match found, only ignored gts remain
        const iou = ious[d][order[g].i];
        if (iou < best) continue;
        best = iou;
        m = g;
      }
      if (m === -1) continue;
      ignoredDt[d] = gtIgnored[m];
      matchedDt[d] = 1;
      gtTaken[m] = 1;
    }
    // An unmatched detection of a size this range does not cover is not a false positive here.
    for (let d = 0; d < D; d++) if (!matchedDt[d] && outside(dts[d].area)) ignoredDt[d] = 1;
    dtMatched.push(matchedDt);
    dtIgnored.push(ignoredDt);
  }
  return { dtScores: dts.map((d) => d.score), dtMatched, dtIgnored, gtIgnored };
}

/** numpy.searchsorted(sorted, value, side='left'): first index whose element is >= value. */
function searchLeft(sorted: Float64Array, value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Accumulated {
  /** [threshold][recall point] interpolated precision, or null when no gt counts (COCOeval's -1). */
  precision: Float64Array[] | null;
  /** [threshold] final recall, or null when no gt counts. */
  recall: Float64Array | null;
}

/** Precision/recall of one area range over all images (COCOeval.accumulate). */
export function accumulate(images: ImageEvaluation[], params: KeypointEvalParams): Accumulated {
  const none: Accumulated = { precision: null, recall: null };
  if (images.length === 0) return none;
  const entries: { score: number; img: number; d: number }[] = [];
  images.forEach((e, img) => e.dtScores.forEach((score, d) => entries.push({ score, img, d })));
  const sorted = byScore(entries);
  let countedGts = 0;
  for (const e of images) for (const ig of e.gtIgnored) if (!ig) countedGts++;
  if (countedGts === 0) return none;
  const eps = 2.220446049250313e-16; // np.spacing(1)
  const nd = sorted.length;
  const precision: Float64Array[] = [];
  const recall = new Float64Array(params.oksThresholds.length);
  params.oksThresholds.forEach((_, t) => {
    const rc = new Float64Array(nd);
    const pr = new Float64Array(nd);
    let tp = 0, fp = 0;
    sorted.forEach(({ img, d }, i) => {
      const e = images[img];
      if (!e.dtIgnored[t][d]) {
        if (e.dtMatched[t][d]) tp++;
        else fp++;
      }
      rc[i] = tp / countedGts;
      pr[i] = tp / (fp + tp + eps);
    });
    recall[t] = nd ? rc[nd - 1] : 0;
    // Interpolate: precision at recall r is the best precision at any recall >= r.
    for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
    const q = new Float64Array(params.recallThresholds.length);
    for (let r = 0; r < q.length; r++) {
      const at = searchLeft(rc, params.recallThresholds[r]);
      if (at >= nd) break; // recall never reaches this point: precision stays 0
      q[r] = pr[at];
    }
    precision.push(q);
  });
  return { precision, recall };
}

function mean(values: number[]): number {
  const kept = values.filter((v) => v > -1);
  return kept.length ? numpySum(kept) / kept.length : -1;
}

/** Mean precision over thresholds and recall points; one threshold when its index is given (-1: not a threshold). */
function averagePrecision(acc: Accumulated, thresholdIndex?: number): number {
  if (!acc.precision || thresholdIndex === -1) return -1;
  const rows = thresholdIndex === undefined ? acc.precision : [acc.precision[thresholdIndex]];
  return mean(rows.flatMap((row) => Array.from(row)));
}

function averageRecall(acc: Accumulated, thresholdIndex?: number): number {
  if (!acc.recall || thresholdIndex === -1) return -1;
  return mean(thresholdIndex === undefined ? Array.from(acc.recall) : [acc.recall[thresholdIndex]]);
}

/** Each image's detections, best first (input order among equal scores) and cut to maxDets. */
function prepareDetections(detections: KeypointDetection[], imageIds: Set<number>, maxDets: number) {
  const perImage = new Map<number, ScoredDetection[]>();
  for (const det of detections) {
    if (!imageIds.has(det.imageId)) continue;
    const list = perImage.get(det.imageId) ?? [];
    list.push({ keypoints: det.keypoints, score: det.score, area: keypointBoxArea(det.keypoints) });
    perImage.set(det.imageId, list);
  }
  for (const [id, list] of perImage) perImage.set(id, byScore(list).slice(0, maxDets));
  return perImage;
}

export interface EvaluateOptions {
  /** Evaluate only these images (COCOeval params.imgIds); default: every image of the ground truth. */
  imageIds?: number[];
  params?: KeypointEvalParams;
}

/**
 * COCO keypoint AP/AR of `detections` against `gt`. Every selected image counts, with or without
 * detections; detections on images outside the selection are dropped.
 */
export function evaluateKeypoints(
  gt: KeypointGroundTruth,
  detections: KeypointDetection[],
  options: EvaluateOptions = {},
): KeypointStats {
  const params = options.params ?? KEYPOINT_EVAL_PARAMS;
  const ids = [...new Set(options.imageIds ?? gt.images.map((img) => img.id))].sort((a, b) => a - b);
  const gtsOf = new Map<number, GtPerson[]>(ids.map((id) => [id, []]));
  for (const person of gt.people) gtsOf.get(person.imageId)?.push(person);
  const dtsOf = prepareDetections(detections, new Set(ids), params.maxDets);

  const perRange: ImageEvaluation[][] = params.areaRanges.map(() => []);
  for (const id of ids) {
    const gts = gtsOf.get(id)!;
    const dts = dtsOf.get(id) ?? [];
    if (gts.length === 0 && dts.length === 0) continue; // COCOeval skips such images entirely
    const ious = dts.map((d) => gts.map((g) => oks(d.keypoints, g)));
    params.areaRanges.forEach((range, a) =>
      perRange[a].push(evaluateImage(gts, dts, ious, range, params.oksThresholds)));
  }
  const none: Accumulated = { precision: null, recall: null };
  const acc = new Map(params.areaRanges.map((range, a) => [range.label, accumulate(perRange[a], params)]));
  const all = acc.get('all') ?? none, medium = acc.get('medium') ?? none, large = acc.get('large') ?? none;
  const t50 = params.oksThresholds.indexOf(0.5);
  const t75 = params.oksThresholds.indexOf(0.75);
  return {
    ap: averagePrecision(all),
    ap50: averagePrecision(all, t50),
    ap75: averagePrecision(all, t75),
    apMedium: averagePrecision(medium),
    apLarge: averagePrecision(large),
    ar: averageRecall(all),
    ar50: averageRecall(all, t50),
    ar75: averageRecall(all, t75),
    arMedium: averageRecall(medium),
    arLarge: averageRecall(large),
  };
}
