// How people are ranked. COCO AP sorts detections by score, so the score should predict how well a
// person matches a real one (OKS); `number_people_max` keeps the top of this ranking too.
// Filters (min_subset_score) always use OpenPose's own score, whatever ranks the people.

/** Evidence gathered while assembling one person. */
export interface PersonEvidence {
  /** Sum of the heatmap values of the person's peaks. */
  peakSum: number;
  /** Parts found. */
  parts: number;
  /** Sum of the scores of the connections that joined the parts (PAF agreement + distance prior). */
  limbSum: number;
  /** Connections that joined the parts. */
  limbs: number;
  /** Parts in the model's layout (K). */
  numParts: number;
}

export type PersonScoreFn = (e: Readonly<PersonEvidence>) => number;

/** OpenPose: sum of peak scores plus connection scores. Grows with size, unbounded. */
export const openposeScore: PersonScoreFn = (e) => e.peakSum + e.limbSum;

/**
 * Default: mean peak confidence × share of the layout's parts found (= peakSum / K), in [0, 1].
 * Complete, confident people rank above fragments of three parts, which are the usual false
 * positives of a PAF parser and cost COCO AP most when ranked high. Evidence (`pafcast eval --images
 * ../shared/media/coco`, lightweight-openpose-coco18, 12 GT people): h256 AP 0.6196 with either score;
 * h368 0.7436 (coverage) vs 0.7493 (openpose) — a tie on a set this small. Coverage is kept because it
 * is bounded (0..1, readable on MQTT) and does not favour large people.
 */
export const coverageScore: PersonScoreFn = (e) => e.peakSum / e.numParts;

export const personScores = { coverage: coverageScore, openpose: openposeScore } as const;
export type PersonScoreName = keyof typeof personScores;
