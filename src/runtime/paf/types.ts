// Shapes shared by the PAF parser's stages and its callers.

/**
 * One frame of network output. Arrays are float32 NCHW with N = 1: channel c, row y, column x is
 * at [c·height·width + y·width + x]. Heatmaps and PAFs may be the same tensor (BODY_25 concatenates
 * them), told apart by their first channel.
 */
export interface ParserInput {
  heatmaps: Float32Array;
  /** Channel of heatmap part 0 inside `heatmaps`. */
  heatmapOffset: number;
  pafs: Float32Array;
  /** Channel that the manifest's PAF channel 0 refers to inside `pafs`. */
  pafOffset: number;
  /** Map size in cells (net size / stride). */
  width: number;
  height: number;
}

/**
 * The parser's result, owned by the parser and overwritten by the next `parse`.
 * Coordinates are in map cells: integer (x, y) is the centre of cell (x, y), so cell x spans
 * [x − 0.5, x + 0.5) and, for a net whose cell x covers net pixels [x·s, (x+1)·s), net pixel
 * (pixel-centre convention) = x·s + (s − 1)/2. People are sorted by `scores`, best first.
 */
export interface ParsedPoses {
  /** Number of people in this frame; only the first `count` entries below are meaningful. */
  count: number;
  /** capacity × K × 3: x, y (sub-cell), confidence (the peak's heatmap value); a missing part is 0, 0, 0. */
  keypoints: Float32Array;
  /** capacity: the ranking score of each person (see person-score.ts). */
  scores: Float32Array;
  /** capacity: number of parts found per person. */
  partCounts: Int32Array;
}

/**
 * Operation counts of the last `parse`, so that tests can check how the cost grows with the
 * number of people without timing anything.
 */
export interface ParserWork {
  /** Heatmap cells looked at by peak finding (K × W × H: independent of people). */
  cells: number;
  /** Peaks found over all parts. */
  peaks: number;
  /** Candidate pairs considered (Σ nA·nB over limbs); most are rejected from their end samples alone. */
  pairs: number;
  /** PAF samples read while scoring pairs (the end samples once per peak and limb). */
  samples: number;
  /** Connections kept by the per-limb matching. */
  connections: number;
  /** Heap and sort steps while ordering connections and assembling people. */
  assembly: number;
}

/** Thrown by `parse` for maps that do not fit the layout (wrong size, too few channels). */
export class ParserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParserInputError';
  }
}
