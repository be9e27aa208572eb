// Measuring a tracker against identity chains built without it. A chain is one person's detections over
// consecutive source frames, linked by what a careful eye would accept at the full frame rate: only detections
// of good quality, and only pairs that are each other's best keypoint match (OKS) between nearby frames. No
// motion model and no memory beyond a few frames, so nothing here shares the tracker's assumptions. The chains of
// a clip are checked by eye once (a rendered strip kept with the fixture) and then scored against the ids a
// tracker published for the same detections, at any subsampled frame rate.

import type { Person } from '../types.js';
import { oks, personArea } from './similarity.js';

export interface ChainOptions {
  /** A detection joins a chain only with at least this many parts and this score. */
  minParts: number;
  minScore: number;
  /** Two detections link only when each is the other's best match at or above this OKS. */
  minOks: number;
  /** A chain may skip up to this many frames (a weak frame of a walker) and still link. */
  maxGapFrames: number;
}

export interface IdentityChain {
  /** Source frames, increasing, and the detection index in each. */
  frames: number[];
  detections: number[];
}

/** Builds identity chains over every frame of a clip (people per frame, in detection order). */
export function buildIdentityChains(frames: readonly (readonly Person[])[], sigmas: Float32Array, opts: ChainOptions): IdentityChain[] {
  const chains: IdentityChain[] = [];
  const box = new Float32Array(4);
  const lastPose = (c: IdentityChain) => frames[c.frames.at(-1)!][c.detections.at(-1)!].keypoints;
  for (let f = 0; f < frames.length; f++) {
    const good: number[] = [];
    frames[f].forEach((p, d) => {
      if (p.parts >= opts.minParts && p.score >= opts.minScore) good.push(d);
    });
    const open = chains.filter((c) => f - c.frames.at(-1)! <= 1 + opts.maxGapFrames);
    // OKS of every open chain's last pose against every good detection, at the larger of the two people's scales.
    const sim = open.map((c) => {
      const last = lastPose(c);
      const lastArea = personArea(last, box);
      return good.map((d) => oks(last, frames[f][d].keypoints, sigmas, Math.max(lastArea, personArea(frames[f][d].keypoints, box))));
    });
    // Mutual best pairs, repeatedly among what is left (a pair only links when neither has a better partner).
    const linked = new Set<number>(), taken = new Set<number>();
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = 0; i < open.length; i++) {
        if (taken.has(i)) continue;
        let j = -1;
        for (let k = 0; k < good.length; k++) if (!linked.has(k) && (j < 0 || sim[i][k] > sim[i][j])) j = k;
        if (j < 0 || sim[i][j] < opts.minOks) continue;
        let mutual = true;
        for (let m = 0; m < open.length; m++) if (m !== i && !taken.has(m) && sim[m][j] > sim[i][j]) mutual = false;
        if (!mutual) continue;
        linked.add(j);
        taken.add(i);
        open[i].frames.push(f);
        open[i].detections.push(good[j]);
        changed = true;
      }
    }
    good.forEach((d, j) => {
      if (!linked.has(j)) chains.push({ frames: [f], detections: [d] });
    });
  }
  return chains;
}

/** What a tracker published for one frame: an id per detection, in detection order (-1 = no id). */
export type PublishedIds = readonly (readonly number[] | undefined)[];

export interface ChainScore {
  /** First and last source frame of the chain, and how many of its frames the subsampled run saw. */
  first: number;
  last: number;
  frames: number;
  /** The id most of those frames carried (-1 when most carried none), and the share that carried it. */
  majorityId: number;
  share: number;
  /** Changes from one published id to another along the chain (frames without an id are skipped). */
  switches: number;
}

export interface TrackingScore {
  chains: ChainScore[];
  /** Frames carrying their chain's majority id over all frames of the chains scored (IDF1-like recall). */
  share: number;
  /** Lowest per-chain share. */
  minShare: number;
  switches: number;
  /** Published ids that are the majority id of more than one chain (two people merged into one id). */
  mergedIds: number;
  /** Distinct ids >= 0 published over the run, for any detection. */
  distinctIds: number;
}

/**
 * Scores published ids against chains. `published[f]` holds the ids of frame f's detections, or is undefined
 * for frames the run skipped; chains are scored on the frames the run saw.
 */
export function scoreTracking(chains: readonly IdentityChain[], published: PublishedIds): TrackingScore {
  const scores: ChainScore[] = [];
  let hits = 0, total = 0, switches = 0;
  const majorityOwners = new Map<number, number>();
  for (const chain of chains) {
    const ids: number[] = [];
    chain.frames.forEach((f, i) => {
      const frameIds = published[f];
      if (frameIds) ids.push(frameIds[chain.detections[i]] ?? -1);
    });
    if (ids.length === 0) continue;
    const counts = new Map<number, number>();
    for (const id of ids) if (id >= 0) counts.set(id, (counts.get(id) ?? 0) + 1);
    let majorityId = -1, majority = 0;
    for (const [id, n] of counts) if (n > majority || (n === majority && id < majorityId)) [majorityId, majority] = [id, n];
    let chainSwitches = 0, prev = -1;
    for (const id of ids) {
      if (id < 0) continue;
      if (prev >= 0 && id !== prev) chainSwitches++;
      prev = id;
    }
    if (majorityId >= 0) majorityOwners.set(majorityId, (majorityOwners.get(majorityId) ?? 0) + 1);
    scores.push({ first: chain.frames[0], last: chain.frames.at(-1)!, frames: ids.length, majorityId, share: majority / ids.length, switches: chainSwitches });
    hits += majority;
    total += ids.length;
    switches += chainSwitches;
  }
  const distinct = new Set<number>();
  for (const frameIds of published) for (const id of frameIds ?? []) if (id >= 0) distinct.add(id);
  return {
    chains: scores,
    share: total > 0 ? hits / total : 0,
    minShare: scores.reduce((m, s) => Math.min(m, s.share), 1),
    switches,
    mergedIds: [...majorityOwners.values()].filter((n) => n > 1).length,
    distinctIds: distinct.size,
  };
}

/** A chain's key: its first frame and detection, "frame:detection" (stable while the detections are). */
export const chainKey = (c: IdentityChain): string => `${c.frames[0]}:${c.detections[0]}`;

/**
 * Joins the chains an eye found to be one person (by key) into one chain per person. Throws when a key names no
 * chain or two joined chains share a frame (one person cannot be two detections at once).
 */
export function joinChains(chains: readonly IdentityChain[], people: readonly (readonly string[])[]): IdentityChain[] {
  const byKey = new Map(chains.map((c) => [chainKey(c), c]));
  return people.map((keys) => {
    const parts = keys.map((k) => {
      const c = byKey.get(k);
      if (!c) throw new Error(`identity chains: no chain starts at ${k}`);
      return c;
    });
    const pairs = parts.flatMap((c) => c.frames.map((f, i) => [f, c.detections[i]] as const)).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < pairs.length; i++)
      if (pairs[i][0] === pairs[i - 1][0]) throw new Error(`identity chains: ${keys.join(' + ')} overlap at frame ${pairs[i][0]}`);
    return { frames: pairs.map((p) => p[0]), detections: pairs.map((p) => p[1]) };
  });
}

/** An eye-checked chain fixture (test/fixtures/tracking/street-chains.json). */
export interface ChainFixture {
  builder: ChainOptions;
  people: Array<{ name: string; who: string; chains: string[] }>;
}

/** The fixture's people as joined chains, rebuilt from the detections with the fixture's builder options. */
export function fixtureChains(fixture: ChainFixture, frames: readonly (readonly Person[])[], sigmas: Float32Array): { chains: IdentityChain[]; people: IdentityChain[] } {
  const chains = buildIdentityChains(frames, sigmas, fixture.builder);
  return { chains, people: joinChains(chains, fixture.people.map((p) => p.chains)) };
}

/** The part of a tracker a replay needs. */
export interface ReplayTracker {
  update(people: readonly Person[], mediaMs: number): readonly { id: number }[];
  readonly count: number;
}

export interface Replay {
  /** Ids published per frame; undefined for frames the schedule skipped. */
  published: (number[] | undefined)[];
  /** The stable count after each processed frame, and how often it changed (the first value included). */
  counts: number[];
  countChanges: number;
}

/** Feeds the frames of `schedule` (source frame numbers, increasing) to a tracker at frame × frameMs. */
export function replay(tracker: ReplayTracker, frames: readonly (readonly Person[])[], schedule: readonly number[], frameMs: number): Replay {
  const published: (number[] | undefined)[] = new Array(frames.length).fill(undefined);
  const counts: number[] = [];
  let countChanges = 0;
  for (const f of schedule) {
    published[f] = tracker.update(frames[f], f * frameMs).map((p) => p.id);
    if (counts.length === 0 || tracker.count !== counts.at(-1)) countChanges++;
    counts.push(tracker.count);
  }
  return { published, counts, countChanges };
}

/** Every `step`-th frame from `phase` on. */
export const everyNth = (frameCount: number, step: number, phase = 0): number[] =>
  Array.from({ length: Math.ceil((frameCount - phase) / step) }, (_, i) => phase + i * step);

/**
 * A realtime-like schedule: gaps of 6–24 frames, as realtime mode on a 2-core machine processes street.avi at
 * 50 fps (the newest frame when inference is done), from a deterministic seed.
 */
export function realtimeSchedule(frameCount: number, seed: number): number[] {
  const out: number[] = [];
  let s = seed;
  for (let f = 0; f < frameCount; ) {
    out.push(f);
    s = (s * 1103515245 + 12345) % 2147483648;
    f += 6 + (s % 19);
  }
  return out;
}
