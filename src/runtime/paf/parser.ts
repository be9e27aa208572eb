// The OpenPose part-affinity-field parser (Cao et al., TPAMI 2019), driven entirely by a model
// layout: peaks → PAF pair scores → per-limb matching → people → filters and ranking.
// All scratch memory is owned here and reused; once buffers have reached the size a scene needs,
// `parse` allocates nothing.

import type { ModelLayout, ParserParams } from '../manifest.js';
import { growFloat32, growFloat64, growInt32 } from './buffers.js';
import { PersonAssembler } from './assemble.js';
import { ConnectionSet, LimbMatcher } from './match.js';
import { PafScorer } from './paf-score.js';
import { PeakSet, findPeaks } from './peaks.js';
import { coverageScore, type PersonEvidence, type PersonScoreFn } from './person-score.js';
import { sortByKeyDescending } from './sort.js';
import { ParserInputError, type ParsedPoses, type ParserInput, type ParserWork } from './types.js';

export interface PafParserOptions {
  /** How people are ranked (and which ones `number_people_max` keeps); default `coverageScore`. */
  personScore?: PersonScoreFn;
}

/** Throws a RangeError naming the first parameter a parser cannot run with (NaN, out of range). */
export function checkParserParams(p: ParserParams): void {
  const bad = (name: string, why: string) => new RangeError(`parser parameter ${name} ${why}`);
  for (const key of ['nms_threshold', 'inter_threshold', 'inter_min_above_threshold', 'min_subset_score', 'max_limb_ratio'] as const)
    if (!Number.isFinite(p[key])) throw bad(key, `must be a finite number, got ${p[key]}`);
  for (const key of ['min_subset_cnt', 'number_people_max'] as const)
    if (!Number.isInteger(p[key]) || p[key] < 0) throw bad(key, `must be an integer ≥ 0, got ${p[key]}`);
  const s = p.paf_samples;
  if (!s || !Number.isInteger(s.min) || !Number.isInteger(s.max) || s.min < 2 || s.max > 64 || s.min > s.max)
    throw bad('paf_samples', `needs integers 2 ≤ min ≤ max ≤ 64, got ${JSON.stringify(s)}`);
  if (!(s.per_cells > 0) || !Number.isFinite(s.per_cells)) throw bad('paf_samples.per_cells', `must be > 0, got ${s.per_cells}`);
}

/** The parser keeps its own copy, so a caller changing its object later changes nothing unchecked. */
function copyParams(p: ParserParams): ParserParams {
  return { ...p, paf_samples: { ...p.paf_samples } };
}

export class PafParser {
  readonly layout: ModelLayout;
  /** Operation counts of the last `parse`. */
  readonly work: ParserWork = { cells: 0, peaks: 0, pairs: 0, samples: 0, connections: 0, assembly: 0 };

  private params: ParserParams;
  private personScore: PersonScoreFn;
  private readonly peaks: PeakSet;
  private readonly scorer: PafScorer;
  private readonly matcher = new LimbMatcher();
  private readonly connections = new ConnectionSet();
  private readonly assembler: PersonAssembler;
  private readonly result: ParsedPoses;
  /** [people]: ranking score and order of the assembled people that passed the filters. */
  private rank: Float64Array = new Float64Array(64);
  private order: Int32Array = new Int32Array(64);
  private rankSteps = 0;
  private readonly evidence: PersonEvidence;
  /** PAF channels the layout reads (its highest channel + 1), for checking inputs. */
  private readonly pafChannels: number;

  constructor(layout: ModelLayout, params: ParserParams, options: PafParserOptions = {}) {
    checkParserParams(params);
    this.layout = layout;
    this.params = copyParams(params);
    this.personScore = options.personScore ?? coverageScore;
    const K = layout.numParts;
    this.peaks = new PeakSet(K);
    this.scorer = new PafScorer(params);
    this.assembler = new PersonAssembler(K);
    this.evidence = { peakSum: 0, parts: 0, limbSum: 0, limbs: 0, numParts: K };
    const capacity = 16;
    this.result = {
      count: 0,
      keypoints: new Float32Array(capacity * K * 3),
      scores: new Float32Array(capacity),
      partCounts: new Int32Array(capacity),
    };
    let maxChannel = -1;
    for (let l = 0; l < layout.numLimbs; l++) maxChannel = Math.max(maxChannel, layout.pafX[l]!, layout.pafY[l]!);
    this.pafChannels = maxChannel + 1;
  }

  /** Changes thresholds live; takes effect on the next `parse`. Invalid values throw and change nothing. */
  setParams(params: ParserParams): void {
    checkParserParams(params);
    this.params = copyParams(params);
    this.scorer.setParams(this.params);
  }

  setPersonScore(fn: PersonScoreFn): void {
    this.personScore = fn;
  }

  /** Parses one frame. The returned struct is the parser's own and is overwritten by the next call. */
  parse(input: ParserInput): ParsedPoses {
    this.check(input);
    const { width: W, height: H } = input;
    const layout = this.layout, p = this.params, K = layout.numParts, work = this.work;

    findPeaks(input.heatmaps, input.heatmapOffset, K, W, H, p.nms_threshold, this.peaks);
    this.scorer.setMap(input.pafs, W, H);
    this.matcher.matchAll(layout, this.peaks, this.scorer, input.pafOffset, this.connections);
    const people = this.assembler.assemble(layout, this.peaks, this.connections);
    const kept = this.rankPeople(people);
    this.write(kept);

    work.cells = K * W * H;
    work.peaks = this.peaks.total;
    work.pairs = this.matcher.pairs;
    work.samples = this.scorer.samples;
    work.connections = this.connections.count;
    work.assembly = this.matcher.sortSteps + this.assembler.steps + this.rankSteps;
    return this.result;
  }

  /** Applies min_subset_cnt / min_subset_score, ranks the rest; returns how many to output. */
  private rankPeople(people: number): number {
    const a = this.assembler, p = this.params, e = this.evidence;
    this.rank = growFloat64(this.rank, people);
    this.order = growInt32(this.order, people);
    let n = 0;
    for (let i = 0; i < people; i++) {
      const parts = a.personParts[i]!;
      const openposeSum = a.personPeakSum[i]! + a.personLimbSum[i]!;
      if (parts < p.min_subset_cnt || openposeSum / parts < p.min_subset_score) continue;
      e.peakSum = a.personPeakSum[i]!;
      e.parts = parts;
      e.limbSum = a.personLimbSum[i]!;
      e.limbs = a.personLimbs[i]!;
      this.rank[i] = this.personScore(e);
      this.order[n++] = i;
    }
    this.rankSteps = sortByKeyDescending(this.order, this.rank, n);
    return p.number_people_max > 0 && n > p.number_people_max ? p.number_people_max : n;
  }

  /** Copies the first `n` ranked people into the result, in map cells. */
  private write(n: number): void {
    const r = this.result, K = this.layout.numParts, a = this.assembler, peaks = this.peaks;
    if (r.scores.length < n) {
      r.keypoints = growFloat32(r.keypoints, n * K * 3);
      r.scores = growFloat32(r.scores, n);
      r.partCounts = growInt32(r.partCounts, n);
    }
    const kp = r.keypoints;
    for (let j = 0; j < n; j++) {
      const person = this.order[j]!;
      for (let k = 0; k < K; k++) {
        const peak = a.personPeak[person * K + k]!;
        const o = (j * K + k) * 3;
        if (peak < 0) {
          kp[o] = 0;
          kp[o + 1] = 0;
          kp[o + 2] = 0;
        } else {
          kp[o] = peaks.x[peak]!;
          kp[o + 1] = peaks.y[peak]!;
          kp[o + 2] = peaks.score[peak]!;
        }
      }
      r.scores[j] = this.rank[person]!;
      r.partCounts[j] = a.personParts[person]!;
    }
    r.count = n;
  }

  /** Rejects maps that do not fit the layout, with a message naming what is wrong. */
  private check(input: ParserInput): void {
    const { width: W, height: H } = input;
    if (!Number.isInteger(W) || !Number.isInteger(H) || W < 2 || H < 2)
      throw new ParserInputError(`map size must be integers ≥ 2, got ${W}×${H}`);
    const plane = W * H;
    const hmNeeded = (input.heatmapOffset + this.layout.numParts) * plane;
    if (!Number.isInteger(input.heatmapOffset) || input.heatmapOffset < 0 || input.heatmaps.length < hmNeeded)
      throw new ParserInputError(
        `heatmaps hold ${input.heatmaps.length / plane} channels of ${W}×${H} but the layout needs ` +
          `${this.layout.numParts} from channel ${input.heatmapOffset}`,
      );
    const pafNeeded = (input.pafOffset + this.pafChannels) * plane;
    if (!Number.isInteger(input.pafOffset) || input.pafOffset < 0 || input.pafs.length < pafNeeded)
      throw new ParserInputError(
        `PAFs hold ${input.pafs.length / plane} channels of ${W}×${H} but the layout needs ` +
          `${this.pafChannels} from channel ${input.pafOffset}`,
      );
  }
}
