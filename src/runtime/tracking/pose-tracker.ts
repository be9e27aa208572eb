// Persistent person ids over source time. Each frame's people are matched to tracks in ByteTrack's order:
//   1. confirmed tracks (seen now or lost within memory_ms) against good detections,
//   2. confirmed tracks seen in the previous frame and still unmatched against weak detections (few parts, low
//      score), which can keep a person's id alive through weak frames but never start or re-find a track,
//   3. tentative tracks against the good detections left; good detections still left start tentative tracks.
// A tentative track is confirmed (and only then gets its published id) once seen in confirm_hits frames over at
// least confirm_ms; a strong detection clear of everyone tracked is confirmed at first sight. Unconfirmed people
// are returned with id -1. Similarity is keypoint OKS between the detection and the track's pose moved along its
// motion model (motion.ts) to this frame's time, widened by how uncertain that prediction is, mixed with box
// overlap. The stable count is the confirmed people seen within count_hold_ms.
//
// Camera motion (tracking.camera_motion): a hand-held, pan-tilt or vehicle camera moves everyone in the image
// together, by tens of pixels between processed frames in realtime mode. The matching runs twice: first with
// predictions wide enough for an unknown camera motion, then, once the camera's shift is measured (the median of
// how far the people matched in both this and the previous frame moved), with every prediction moved by it and
// only each person's own uncertainty. Tracks keep their motion in stabilized coordinates (image minus the camera's
// accumulated shift), so a person hidden while the camera moved is looked for where they are now in the image,
// and their velocity is their own (relative to the people around). Appearance-free: the shift comes from the
// poses alone.
//
// Pure: no clock, no I/O; the caller passes each frame's source time (CapturedFrame.mediaMs). Once warm it
// allocates nothing per frame: tracks come from a pool, scratch is preallocated and grows only with the number
// of people, and the returned array and its objects are reused (valid until the next update()).

import { Value } from '@sinclair/typebox/value';
import type { Person } from '../types.js';
import { PairList } from './assignment.js';
import { TrackingConfigSchema, type TrackingConfig } from './config-schema.js';
import { cameraMotionVar, initAxis, newAxis, observeAxis, predictAxis, type Axis } from './motion.js';
import { OneEuroBank } from './one-euro.js';
import { keypointBox, personArea } from './similarity.js';

export type TrackerOptions = TrackingConfig;

export interface TrackedPerson {
  /** Published id, increasing from 1 in order of confirmation and never reused; -1 = not confirmed (or tracking off). */
  id: number;
  /** Whether the person belongs to a confirmed track (then id >= 1). */
  confirmed: boolean;
  score: number;
  /** Parts found (the detection's). */
  parts: number;
  /** K × (x, y, conf) in source pixels: the detection's own array, or the track's smoothed copy with smoothing on. */
  keypoints: Float32Array;
}

const TENTATIVE = 0, CONFIRMED = 1;

interface Track {
  state: number;
  /** Published id once confirmed, else -1. */
  id: number;
  hits: number;
  firstMs: number;
  /** Source time of the last observation (a match in any stage). */
  lastMs: number;
  /**
   * The track's pose (owned): each part where it was last seen, moved along with the body while it is
   * unseen for at most PART_MEMORY_MS; with the anchor and size observed with it.
   */
  keypoints: Float32Array;
  /** Source time each part was last seen. */
  partMs: Float64Array;
  anchorX: number;
  anchorY: number;
  size: number;
  /** Motion state at lastMs: anchor x, anchor y, size. */
  x: Axis;
  y: Axis;
  s: Axis;
  /** Camera shift (stabilized = image - shift) at lastMs: the motion axes are in stabilized coordinates. */
  cameraX: number;
  cameraY: number;
  /**
   * This frame's predicted pose (K × 3), keypoint box, anchor variance and size (scratch, per update): the variance
   * covering an unknown camera motion, and the person's own (used once the camera's motion is measured).
   */
  pred: Float32Array;
  predBox: Float32Array;
  predVar: number;
  predVarOwn: number;
  predSize: number;
  smoother: OneEuroBank | null;
  smoothed: Float32Array;
}

/**
 * How long an unseen part is carried along with the body in the track's pose: without it, people being hidden
 * (the teal woman behind the blue-jacket woman) are looked for by the sliver of them seen last. street.avi, shares
 * at 50 / 25 / 12.5 / 6.25 fps / realtime (as in config-schema.ts): 0 ms: 0.940 / 0.942 / 0.980 / 0.972 / 0.931;
 * 250: 0.989 / 0.985 / 0.980 / 0.974 / 0.933; 500: 0.989 / 0.985 / 0.980 / 0.969 / 0.946; 1000: 0.987 / 0.985 /
 * 0.970 / 0.963 / 0.941.
 */
const PART_MEMORY_MS = 500;
/** Parts needed to measure a change of size between two poses of one person. */
const MIN_PARTS_FOR_SIZE = 3;
/**
 * Largest size change accepted from one observation to the next (a wrong part pairing, not a person). street.avi:
 * 1.1: 0.985 / 0.985 / 0.980 / 0.975 / 0.943; 1.5: 0.948 / 0.985 / 0.981 / 0.969 / 0.946, 13 ids.
 */
const MAX_SIZE_STEP = 1.25;
/**
 * Pairs whose centres are further apart than this many body sizes (plus 3 sigma of the prediction) are not
 * scored: OKS is already ~0 there (street.avi scores the same with 0.75 and 3). Keeps the cost near-linear in people.
 */
const GATE_SIZES = 1.5;
/**
 * People matched in both this and the previous update needed to measure the camera's shift (their median). One is
 * that person's own acceleration as much as the camera's. street.avi: 1 and 3 measured the same, 4: realtime 0.940
 * (shares as in config-schema.ts).
 */
const CAMERA_MIN_PAIRS = 2;
/**
 * A strong detection whose keypoint box overlaps a track's predicted box by more than this is not confirmed at
 * first sight (a duplicate, or two people merged into one detection, over someone tracked: the synthetic test).
 * street.avi: no check (1) measured as 0.5; 0.3: realtime 0.938; 0.1: 6.25 fps 0.954, realtime 0.936 (people
 * entering next to others wait a frame).
 */
const INSTANT_MAX_IOU = 0.5;

/** Fills in defaults for a partial tracking config and rejects out-of-range values with a readable message. */
export function resolveTrackerOptions(partial: Partial<TrackerOptions> = {}): TrackerOptions {
  const opts = Value.Default(TrackingConfigSchema, Value.Clone(partial)) as TrackerOptions;
  const firstError = Value.Errors(TrackingConfigSchema, opts).First();
  if (firstError) throw new Error(`tracking config ${firstError.path || '(root)'}: ${firstError.message}`);
  return opts;
}

export class PoseTracker {
  private readonly opts: TrackerOptions;
  private readonly K: number;
  // Live tracks are tracks[0..trackLen), free ones pool[0..poolLen): the arrays only ever grow, so that
  // shrinking and regrowing them never reallocates their storage.
  private readonly tracks: Track[] = [];
  private trackLen = 0;
  private readonly pool: Track[] = [];
  private poolLen = 0;
  private nextId = 1;
  private lastUpdateMs = -Infinity;
  private previousUpdateMs = -Infinity;
  private stableCount = 0;
  /** The camera's accumulated shift, px (image = stabilized + shift), as of the last update. */
  private cameraX = 0;
  private cameraY = 0;

  // Scratch, grown with the number of tracks and detections.
  private detBox = new Float32Array(0);
  private detSize = new Float64Array(0);
  private detGood = new Uint8Array(0);
  private trackOfDet = new Int32Array(0);
  private detOfTrack = new Int32Array(0);
  /** Per-pair shifts of the camera estimate (one per track). */
  private shiftX = new Float64Array(0);
  private shiftY = new Float64Array(0);
  private readonly pairs = new PairList();
  private readonly outputs: TrackedPerson[][] = [];
  private readonly outPool: TrackedPerson[] = [];
  private readonly prediction = new Float64Array(2);
  /** Per-part displacements of one observation (K each). */
  private readonly moveX: Float64Array;
  private readonly moveY: Float64Array;
  private readonly box = new Float32Array(4);

  constructor(
    opts: Partial<TrackerOptions>,
    numKeypoints: number,
    /** One OKS sigma per keypoint (see sigmasFor). */
    private readonly sigmas: Float32Array,
  ) {
    if (sigmas.length !== numKeypoints) throw new Error(`tracker: ${sigmas.length} sigmas for ${numKeypoints} keypoints`);
    this.opts = resolveTrackerOptions(opts);
    this.K = numKeypoints;
    this.moveX = new Float64Array(numKeypoints);
    this.moveY = new Float64Array(numKeypoints);
  }

  /**
   * Tracks one frame's people at source time `mediaMs` (ms; a time before the previous frame's counts as equal).
   * Returns one entry per person in their order (unconfirmed ones left out when tracking.publish_unconfirmed is
   * off). The array and its objects are reused: valid until the next call.
   */
  update(people: readonly Person[], mediaMs: number): readonly TrackedPerson[] {
    const K = this.K;
    for (let d = 0; d < people.length; d++)
      if (people[d].keypoints.length !== 3 * K)
        throw new Error(`tracker: a person has ${people[d].keypoints.length / 3} keypoints, expected ${K}`);
    const now = Math.max(mediaMs, this.lastUpdateMs);
    this.previousUpdateMs = this.lastUpdateMs;
    this.lastUpdateMs = now;
    if (!this.opts.enabled) {
      this.stableCount = people.length;
      return this.output(people, null);
    }

    this.forget(now);
    const D = people.length, T = this.trackLen;
    this.ensureScratch(T, D);
    const { trackOfDet, detOfTrack } = this;
    trackOfDet.fill(-1, 0, D);
    detOfTrack.fill(-1, 0, T);
    for (let d = 0; d < D; d++) {
      const p = people[d];
      // personArea leaves the keypoint box in this.box.
      this.detSize[d] = Math.sqrt(personArea(p.keypoints, this.box));
      this.detBox.set(this.box, 4 * d);
      this.detGood[d] = p.parts >= this.opts.min_parts && p.score >= this.opts.min_score ? 1 : 0;
    }
    for (let t = 0; t < T; t++) this.predict(this.tracks[t], now);

    this.associate(people);
    if (this.opts.camera_motion && this.measureCamera(people)) {
      trackOfDet.fill(-1, 0, D);
      detOfTrack.fill(-1, 0, T);
      this.associate(people);
    }

    for (let t = 0; t < T; t++) {
      const d = detOfTrack[t];
      if (d >= 0) this.observe(this.tracks[t], people[d], now);
    }
    for (let d = 0; d < D; d++) if (trackOfDet[d] < 0 && this.detGood[d]) trackOfDet[d] = this.startTrack(people[d], now);

    let count = 0;
    for (let t = 0; t < this.trackLen; t++) {
      const track = this.tracks[t];
      if (track.state === CONFIRMED && now - track.lastMs <= this.opts.count_hold_ms) count++;
    }
    this.stableCount = count;
    return this.output(people, trackOfDet);
  }

  /**
   * Confirmed people present, with hysteresis in time: a person counts from confirmation until they have not
   * been seen for tracking.count_hold_ms. After each update().
   */
  get count(): number {
    return this.stableCount;
  }

  /** Tracks held: tentative, confirmed and lost ones still remembered (for stats). */
  get trackCount(): number {
    return this.trackLen;
  }

  /** Forgets every track; ids keep increasing (a restarted source never reuses an id). */
  reset(): void {
    for (let t = 0; t < this.trackLen; t++) this.release(this.tracks[t]);
    this.trackLen = 0;
    this.stableCount = 0;
    this.lastUpdateMs = this.previousUpdateMs = -Infinity;
    this.cameraX = this.cameraY = 0;
  }

  /**
   * The three association stages. 1. confirmed tracks × good detections; 2. confirmed tracks seen in the previous
   * frame × weak detections (as ByteTrack: a weak detection keeps a person in view, it does not find a lost one:
   * street.avi's teal woman, hidden, was otherwise dragged 300 px off by fragments and not found when she came
   * out); 3. tentative × good.
   */
  private associate(people: readonly Person[]): void {
    this.stage(people, CONFIRMED, 1, this.opts.min_similarity, -Infinity);
    this.stage(people, CONFIRMED, 0, this.opts.min_similarity_weak, this.previousUpdateMs);
    this.stage(people, TENTATIVE, 1, this.opts.min_similarity, -Infinity);
  }

  /**
   * The camera's motion since the previous update, from the first association: the median over the people matched
   * to good detections in both frames of how far they moved in the image (each the median over their parts). With
   * at least CAMERA_MIN_PAIRS of them, every prediction is moved by it and narrowed to the person's own uncertainty,
   * the shift is added to the camera's, and true is returned: associate again. Measured from where they were seen,
   * not from their predictions: what the people do in common is the camera's, what is left their own, and neither
   * feeds the other (from the predictions, a camera estimate and own velocities that both explain a common motion
   * drifted apart, without bound, until the tracks were lost: the synthetic walkers in step).
   */
  private measureCamera(people: readonly Person[]): boolean {
    const T = this.trackLen;
    if (this.shiftX.length < T) {
      this.shiftX = new Float64Array(Math.max(T, 2 * this.shiftX.length, 8));
      this.shiftY = new Float64Array(this.shiftX.length);
    }
    let n = 0;
    for (let t = 0; t < T; t++) {
      const d = this.detOfTrack[t];
      if (d < 0 || !this.detGood[d]) continue;
      const track = this.tracks[t];
      if (track.lastMs !== this.previousUpdateMs) continue;
      const a = track.keypoints, b = people[d].keypoints;
      let m = 0;
      for (let i = 0; i < a.length; i += 3) {
        if (a[i + 2] <= 0 || b[i + 2] <= 0) continue;
        this.moveX[m] = b[i] - a[i];
        this.moveY[m] = b[i + 1] - a[i + 1];
        m++;
      }
      if (m === 0) continue;
      this.shiftX[n] = medianOf(this.moveX, m);
      this.shiftY[n] = medianOf(this.moveY, m);
      n++;
    }
    if (n < CAMERA_MIN_PAIRS) return false;
    const dx = medianOf(this.shiftX, n), dy = medianOf(this.shiftY, n);
    this.cameraX += dx;
    this.cameraY += dy;
    for (let t = 0; t < T; t++) {
      const track = this.tracks[t], pred = track.pred, box = track.predBox;
      for (let i = 0; i < pred.length; i += 3) {
        if (pred[i + 2] <= 0) continue;
        pred[i] += dx;
        pred[i + 1] += dy;
      }
      box[0] += dx;
      box[1] += dy;
      box[2] += dx;
      box[3] += dy;
      track.predVar = track.predVarOwn;
    }
    return true;
  }

  /** Drops tentative tracks unseen for tentative_ms and confirmed ones past both memory and count hold. */
  private forget(now: number): void {
    const keepConfirmed = Math.max(this.opts.memory_ms, this.opts.count_hold_ms);
    let w = 0;
    for (let r = 0; r < this.trackLen; r++) {
      const t = this.tracks[r];
      const age = now - t.lastMs;
      if (t.state === TENTATIVE ? age > this.opts.tentative_ms && !this.seenLastUpdate(t) : age > keepConfirmed) this.release(t);
      else this.tracks[w++] = t;
    }
    this.trackLen = w;
  }

  private release(track: Track): void {
    this.pool[this.poolLen++] = track;
  }

  /**
   * One association stage: tracks in `state`, matchable now and seen since `seenSince`, × detections of quality
   * `good`, greedy.
   */
  private stage(people: readonly Person[], state: number, good: number, minSimilarity: number, seenSince: number): void {
    const pairs = this.pairs;
    pairs.clear();
    const now = this.lastUpdateMs;
    for (let t = 0; t < this.trackLen; t++) {
      const track = this.tracks[t];
      if (track.state !== state || this.detOfTrack[t] >= 0 || track.lastMs < seenSince) continue;
      if (state === CONFIRMED && now - track.lastMs > this.opts.memory_ms) continue;
      const sigmaPred = Math.sqrt(track.predVar);
      for (let d = 0; d < people.length; d++) {
        if (this.detGood[d] !== good || this.trackOfDet[d] >= 0) continue;
        const b = this.detBox;
        const gate = GATE_SIZES * Math.max(track.predSize, this.detSize[d]) + 3 * sigmaPred;
        const dx = (b[4 * d] + b[4 * d + 2] - track.predBox[0] - track.predBox[2]) / 2;
        const dy = (b[4 * d + 1] + b[4 * d + 3] - track.predBox[1] - track.predBox[3]) / 2;
        if (dx * dx + dy * dy > gate * gate) continue;
        const sim = this.similarity(track, people[d], d, good === 1);
        if (sim >= minSimilarity && sim > 0) pairs.add(t, d, sim);
      }
    }
    pairs.assign(this.trackOfDet, this.detOfTrack);
  }

  /**
   * Whether the track was seen in the previous update and the gap since is within memory_ms: then a tentative track
   * gets this update whatever tentative_ms says, so that a machine processing fewer frames than it assumes (a busy
   * one, or a slow board) still confirms people. street.avi, 200 random schedules each: gaps of 30-60 frames, share
   * 0.771 -> 0.802 (1st percentile 0.552 -> 0.609); gaps up to 47 frames and 50-6.25 fps within 0.01. The
   * synthetic 1.25 fps test: without it the faint person is never confirmed.
   */
  private seenLastUpdate(track: Track): boolean {
    return track.lastMs >= this.previousUpdateMs && this.lastUpdateMs - this.previousUpdateMs <= this.opts.memory_ms;
  }

  /**
   * OKS of the predicted pose against the detection, each part's tolerance widened by the prediction's
   * variance, mixed with keypoint-box IoU (oks_weight). 0..1. With `whole`, OKS is averaged over the parts
   * present in either pose (a part only one of them has scores 0), as COCO scores a detection that misses
   * parts: otherwise a fragment that happens to lie on a few of a person's parts outscores that person's whole,
   * slightly jittered pose (street.avi: a half-hidden walker emerging behind another took her id). Weak
   * detections are fragments by definition and are scored on the parts they have.
   */
  private similarity(track: Track, person: Person, d: number, whole: boolean): number {
    const a = track.pred, b = person.keypoints, sigmas = this.sigmas;
    const area = Math.max(track.predSize * track.predSize, this.detSize[d] * this.detSize[d]);
    let sum = 0, n = 0, either = 0;
    for (let k = 0; k < sigmas.length; k++) {
      const i = 3 * k;
      const inA = a[i + 2] > 0, inB = b[i + 2] > 0;
      if (inA || inB) either++;
      if (!inA || !inB) continue;
      const dx = a[i] - b[i], dy = a[i + 1] - b[i + 1];
      const kappa = 2 * sigmas[k];
      sum += Math.exp(-(dx * dx + dy * dy) / (2 * (area * kappa * kappa + track.predVar)));
      n++;
    }
    const keypointSimilarity = n === 0 ? 0 : sum / (whole ? either : n);
    const overlap = boxIoUAt(track.predBox, this.detBox, 4 * d);
    return this.opts.oks_weight * keypointSimilarity + (1 - this.opts.oks_weight) * overlap;
  }

  /**
   * The track's pose, box, anchor variance and size at `now`: the last observed pose moved by the motion model's
   * predicted displacement since that observation (and scaled by its predicted change of size). Moving the observed
   * pose rather than placing it at the filtered position keeps the filter's smoothing lag out of the prediction.
   */
  private predict(track: Track, now: number): void {
    const dt = now - track.lastMs;
    const model = this.opts.motion, horizon = this.opts.max_predict_ms, out = this.prediction;
    const filteredSize = Math.max(1, track.s.p);
    predictAxis(model, track.s, dt, horizon, filteredSize, out);
    const size = Math.max(1, out[0]);
    const scale = size / filteredSize;
    // The axes are stabilized: the camera's shift since the track's last observation moves it in the image.
    predictAxis(model, track.x, dt, horizon, size, out);
    const x = track.anchorX + out[0] - track.x.p + this.cameraX - track.cameraX, varX = out[1];
    predictAxis(model, track.y, dt, horizon, size, out);
    const y = track.anchorY + out[0] - track.y.p + this.cameraY - track.cameraY, varY = out[1];
    if (this.opts.camera_motion) {
      predictAxis(model, track.x, dt, horizon, size, out, false);
      const ownX = out[1];
      predictAxis(model, track.y, dt, horizon, size, out, false);
      track.predVarOwn = (ownX + out[1]) / 2;
    }
    const src = track.keypoints, pred = track.pred;
    for (let i = 0; i < pred.length; i += 3) {
      if (src[i + 2] <= 0) {
        pred[i] = pred[i + 1] = pred[i + 2] = 0;
        continue;
      }
      pred[i] = x + (src[i] - track.anchorX) * scale;
      pred[i + 1] = y + (src[i + 1] - track.anchorY) * scale;
      pred[i + 2] = src[i + 2];
    }
    keypointBox(pred, track.predBox);
    // With camera_motion, the first association's only unknown beyond the person's own motion is the camera's since
    // the previous update (earlier shifts are measured and in the stabilized axes); without, the model's variance
    // with room for the camera over the whole gap.
    track.predVar = this.opts.camera_motion ? track.predVarOwn + cameraMotionVar(size, now - this.previousUpdateMs) : (varX + varY) / 2;
    track.predSize = track.size * scale;
  }

  /**
   * Feeds a matched detection to the track. The anchor moves by the mean displacement of the parts seen in both
   * poses and the size by the change of their spread, so parts that appear or vanish do not move the body.
   */
  private observe(track: Track, person: Person, now: number): void {
    const a = track.keypoints, b = person.keypoints;
    const mx = this.moveX, my = this.moveY;
    let n = 0;
    for (let i = 0; i < a.length; i += 3) {
      if (a[i + 2] <= 0 || b[i + 2] <= 0) continue;
      mx[n] = b[i] - a[i];
      my[n] = b[i + 1] - a[i + 1];
      n++;
    }
    let anchorX: number, anchorY: number, size = track.size;
    if (n > 0) {
      anchorX = track.anchorX + medianOf(mx, n);
      anchorY = track.anchorY + medianOf(my, n);
      if (n >= MIN_PARTS_FOR_SIZE) {
        const ratio = spreadRatio(a, b);
        if (ratio > 0) size = track.size * Math.min(MAX_SIZE_STEP, Math.max(1 / MAX_SIZE_STEP, ratio));
      }
    } else {
      // No part in common (head then legs): fall back on the keypoint boxes' centres.
      keypointBox(a, this.box);
      const ax = (this.box[0] + this.box[2]) / 2, ay = (this.box[1] + this.box[3]) / 2;
      keypointBox(b, this.box);
      anchorX = track.anchorX + (this.box[0] + this.box[2]) / 2 - ax;
      anchorY = track.anchorY + (this.box[1] + this.box[3]) / 2 - ay;
    }
    const dt = now - track.lastMs, model = this.opts.motion;
    observeAxis(model, track.s, size, dt, track.s.p);
    const bodySize = Math.max(1, track.s.p);
    observeAxis(model, track.x, anchorX - this.cameraX, dt, bodySize);
    observeAxis(model, track.y, anchorY - this.cameraY, dt, bodySize);
    track.cameraX = this.cameraX;
    track.cameraY = this.cameraY;
    // The track's pose: parts seen now, and parts seen recently carried along with the body, so that a person
    // who is being hidden (or detected in part) keeps a whole-body model to be found again by.
    const grow = size / track.size;
    for (let k = 0, i = 0; k < this.K; k++, i += 3) {
      if (b[i + 2] > 0) {
        a[i] = b[i];
        a[i + 1] = b[i + 1];
        a[i + 2] = b[i + 2];
        track.partMs[k] = now;
      } else if (a[i + 2] > 0 && now - track.partMs[k] <= PART_MEMORY_MS) {
        a[i] = anchorX + (a[i] - track.anchorX) * grow;
        a[i + 1] = anchorY + (a[i + 1] - track.anchorY) * grow;
      } else {
        a[i] = a[i + 1] = a[i + 2] = 0;
      }
    }
    track.anchorX = anchorX;
    track.anchorY = anchorY;
    track.size = size;
    const stepMs = dt;
    track.lastMs = now;
    if (track.state === TENTATIVE) {
      track.hits++;
      if (track.hits >= this.opts.confirm_hits && now - track.firstMs >= this.opts.confirm_ms) {
        track.state = CONFIRMED;
        track.id = this.nextId++;
      }
    }
    this.smooth(track, b, stepMs);
  }

  /**
   * Whether a detection that starts a track is confirmed at first sight: strong (instant_confirm_parts and
   * instant_confirm_score) and clear of every track held (its keypoint box overlaps no track's predicted one by
   * more than INSTANT_MAX_IOU), so that a duplicate or a merge of two people over someone tracked waits for
   * confirm_hits like anyone else. Uses this.box (the detection's keypoint box, set by the caller).
   */
  private strongAndClear(person: Person): boolean {
    if (person.parts < this.opts.instant_confirm_parts || person.score < this.opts.instant_confirm_score) return false;
    for (let t = 0; t < this.trackLen; t++) if (boxIoUAt(this.box, this.tracks[t].predBox, 0) > INSTANT_MAX_IOU) return false;
    return true;
  }

  /** Starts a tentative track on a good detection (confirmed at once when strong and clear); returns its index. */
  private startTrack(person: Person, now: number): number {
    const track = this.poolLen > 0 ? this.pool[--this.poolLen] : this.newTrack();
    const kp = person.keypoints;
    track.keypoints.set(kp);
    track.partMs.fill(now);
    track.size = Math.max(1, Math.sqrt(personArea(kp, this.box))); // also leaves the keypoint box in this.box
    track.anchorX = (this.box[0] + this.box[2]) / 2;
    track.anchorY = (this.box[1] + this.box[3]) / 2;
    initAxis(track.x, track.anchorX - this.cameraX, track.size);
    initAxis(track.y, track.anchorY - this.cameraY, track.size);
    initAxis(track.s, track.size, track.size);
    track.cameraX = this.cameraX;
    track.cameraY = this.cameraY;
    const instant = (this.opts.confirm_hits <= 1 && this.opts.confirm_ms <= 0) || this.strongAndClear(person);
    // Its own box stands for its prediction in this frame, so that a second detection on top of it is not clear.
    track.predBox.set(this.box);
    track.state = instant ? CONFIRMED : TENTATIVE;
    track.id = track.state === CONFIRMED ? this.nextId++ : -1;
    track.hits = 1;
    track.firstMs = track.lastMs = now;
    track.smoother?.resetAll();
    this.smooth(track, kp, 0);
    this.tracks[this.trackLen] = track;
    return this.trackLen++;
  }

  private newTrack(): Track {
    const K = this.K;
    return {
      state: TENTATIVE,
      id: -1,
      hits: 0,
      firstMs: 0,
      lastMs: 0,
      keypoints: new Float32Array(3 * K),
      partMs: new Float64Array(K),
      anchorX: 0,
      anchorY: 0,
      size: 1,
      x: newAxis(),
      y: newAxis(),
      s: newAxis(),
      cameraX: 0,
      cameraY: 0,
      pred: new Float32Array(3 * K),
      predBox: new Float32Array(4),
      predVar: 0,
      predVarOwn: 0,
      predSize: 1,
      smoother: this.opts.smoothing.enabled ? new OneEuroBank(2 * K, this.opts.smoothing) : null,
      smoothed: new Float32Array(this.opts.smoothing.enabled ? 3 * K : 0),
    };
  }

  /** One-Euro smoothing of the observed keypoints into track.smoothed (when on), `stepMs` after the last. */
  private smooth(track: Track, keypoints: Float32Array, stepMs: number): void {
    const smoother = track.smoother;
    if (!smoother) return;
    const out = track.smoothed;
    out.set(keypoints);
    for (let k = 0; k < this.K; k++) {
      const i = 3 * k;
      if (keypoints[i + 2] <= 0) {
        smoother.reset(2 * k);
        smoother.reset(2 * k + 1);
        continue;
      }
      out[i] = smoother.filter(2 * k, keypoints[i], stepMs);
      out[i + 1] = smoother.filter(2 * k + 1, keypoints[i + 1], stepMs);
    }
  }

  private ensureScratch(T: number, D: number): void {
    if (this.detBox.length < 4 * D) {
      const cap = Math.max(D, 2 * this.detGood.length, 8);
      this.detBox = new Float32Array(4 * cap);
      this.detSize = new Float64Array(cap);
      this.detGood = new Uint8Array(cap);
      this.trackOfDet = new Int32Array(cap);
    }
    if (this.detOfTrack.length < T) this.detOfTrack = new Int32Array(Math.max(T, 2 * this.detOfTrack.length, 8));
  }

  /** The returned array for this frame: one reused array per length, one reused object per slot. */
  private output(people: readonly Person[], trackOfDet: Int32Array | null): readonly TrackedPerson[] {
    let n = 0;
    const dropUnconfirmed = trackOfDet !== null && !this.opts.publish_unconfirmed;
    for (let d = 0; d < people.length; d++) {
      const t = trackOfDet ? trackOfDet[d] : -1;
      const confirmed = t >= 0 && this.tracks[t].state === CONFIRMED;
      if (!confirmed && dropUnconfirmed) continue;
      n++;
    }
    const out = (this.outputs[n] ??= new Array<TrackedPerson>(n));
    while (this.outPool.length < n) this.outPool.push({ id: -1, confirmed: false, score: 0, parts: 0, keypoints: new Float32Array(0) });
    let o = 0;
    for (let d = 0; d < people.length; d++) {
      const p = people[d];
      const track = trackOfDet && trackOfDet[d] >= 0 ? this.tracks[trackOfDet[d]] : null;
      const confirmed = track !== null && track.state === CONFIRMED;
      if (!confirmed && dropUnconfirmed) continue;
      const entry = this.outPool[o];
      entry.id = confirmed ? track.id : -1;
      entry.confirmed = confirmed;
      entry.score = p.score;
      entry.parts = p.parts;
      entry.keypoints = track?.smoother ? track.smoothed : p.keypoints;
      out[o++] = entry;
    }
    return out;
  }
}

/**
 * Spread of `b`'s parts about their centre over that of `a`'s, over the parts present in both: how much the body
 * grew from a to b. 0 when it cannot be measured.
 */
function spreadRatio(a: Float32Array, b: Float32Array): number {
  let ax = 0, ay = 0, bx = 0, by = 0, n = 0;
  for (let i = 0; i < a.length; i += 3) {
    if (a[i + 2] <= 0 || b[i + 2] <= 0) continue;
    ax += a[i];
    ay += a[i + 1];
    bx += b[i];
    by += b[i + 1];
    n++;
  }
  if (n < MIN_PARTS_FOR_SIZE) return 0;
  ax /= n;
  ay /= n;
  bx /= n;
  by /= n;
  let sa = 0, sb = 0;
  for (let i = 0; i < a.length; i += 3) {
    if (a[i + 2] <= 0 || b[i + 2] <= 0) continue;
    sa += (a[i] - ax) ** 2 + (a[i + 1] - ay) ** 2;
    sb += (b[i] - bx) ** 2 + (b[i + 1] - by) ** 2;
  }
  return sa > 0 ? Math.sqrt(sb / sa) : 0;
}

/** IoU of box `a` and the box at `b[offset..offset + 4]` ([x0, y0, x1, y1]); 0 when either is empty. */
function boxIoUAt(a: Float32Array, b: Float32Array, offset: number): number {
  const bx0 = b[offset], by0 = b[offset + 1], bx1 = b[offset + 2], by1 = b[offset + 3];
  const iw = Math.min(a[2], bx1) - Math.max(a[0], bx0);
  const ih = Math.min(a[3], by1) - Math.max(a[1], by0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (bx1 - bx0) * (by1 - by0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Median of v[0..n) (sorts that prefix in place). The body's displacement between two poses: a mislocated or
 * swapped limb moves the mean, not the median.
 */
function medianOf(v: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    const x = v[i];
    let j = i;
    while (j > 0 && v[j - 1] > x) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
