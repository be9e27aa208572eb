// Shapes shared by the runtime's stages and its callers.

import type { NetSize } from './backend.js';

/** An interleaved 8-bit frame as capture delivers it (no padding between rows). */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  /** Channel order of `data`; 3 bytes per pixel. */
  order: 'rgb' | 'bgr';
}

/** One detected person. Keypoints are in source-image pixels, in the model's part order. */
export interface Person {
  /**
   * Ranking score in 0..1: sum of the found parts' peak heights / number of parts in the layout, so a
   * complete, confident person ranks above a fragment (src/runtime/paf/person-score.ts; chosen with `pafcast eval`).
   */
  score: number;
  /** Number of parts found. */
  parts: number;
  /** K × (x, y, confidence); a missing part is 0, 0, 0. */
  keypoints: Float32Array;
}

export interface StageTimings {
  preprocess_ms: number;
  inference_ms: number;
  parse_ms: number;
}

export interface PoseResult {
  people: Person[];
  /** Source size the keypoints refer to. */
  width: number;
  height: number;
  net: NetSize;
  timing_ms: StageTimings;
}
