// Config section `tracking`: persistent person ids across frames and optional keypoint smoothing.
// Owned by the runtime; the agent's config schema (src/agent/config) composes it.

import { Type, type Static } from '@sinclair/typebox';

export const SmoothingConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Smooth keypoints with a One-Euro filter per track and coordinate.' }),
    min_cutoff: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      default: 1.0,
      description: 'One-Euro minimum cutoff frequency in Hz: lower = smoother when still, more lag.',
    }),
    beta: Type.Number({
      minimum: 0,
      maximum: 10,
      default: 0.01,
      description: 'One-Euro speed coefficient (per pixel/s): higher = less lag on fast motion, more jitter.',
    }),
    d_cutoff: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 1.0, description: 'Cutoff in Hz for the speed estimate.' }),
  },
  { additionalProperties: false, default: {} },
);

export const TrackingConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Give people persistent ids; off = every person gets id -1.' }),
    // street.avi (test/runtime/tracking/street.test.ts): 0.1, 0.2 and 0.3 all keep ids on 98.5 % of same-person
    // frame pairs; 0.2 makes fewer new ids than 0.3 (211 vs 233 for ~1440 detections), 0.4 starts to split tracks.
    min_similarity: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'A detection joins a track only when their similarity (keypoint OKS and box IoU, 0..1) reaches this.',
    }),
    oks_weight: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.7,
      description: 'Weight of keypoint similarity (OKS) against box overlap (IoU, weight 1 - oks_weight).',
    }),
    memory_frames: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 15,
      description: 'A lost person keeps its id for this many frames without a detection (0 = forget at once).',
    }),
    memory_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 1000,
      description: 'A lost person keeps its id for at most this long (both limits apply).',
    }),
    predict_motion: Type.Boolean({
      default: true,
      description: 'Move lost and current tracks along their recent velocity before matching (constant velocity).',
    }),
    smoothing: SmoothingConfigSchema,
  },
  { additionalProperties: false, default: {} },
);

export type TrackingConfig = Static<typeof TrackingConfigSchema>;
export type SmoothingConfig = Static<typeof SmoothingConfigSchema>;
