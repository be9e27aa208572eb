// Config section `tracking`: persistent person ids over source time, the stable people count, optional keypoint
// smoothing. Owned by the runtime; the agent's config schema (src/agent/config) composes it.
//
// The defaults were chosen on street.avi with the tracking benchmark (bench/tracking.ts): the share of frames of
// the 7 eye-checked people (test/fixtures/tracking) that carry each person's majority id, averaged over every
// phase of the subsampling at 50 / 25 / 12.5 / 6.25 fps and over six realtime-like schedules (gaps of 6–24
// frames, as a 2-core machine processes this clip), and the most distinct ids any run published. With all
// defaults: 0.970 / 0.971 / 0.967 / 0.911 / 0.840, at most 12 ids (the tracker on main before issue 14, per-frame
// motion without confirmation: 0.74 / 0.69 / 0.66 / 0.62 at phase 0, 214 / 152 / 107 / 70 ids). Each comment
// gives what other values changed, in that order of rates.

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
    enabled: Type.Boolean({ default: true, description: 'Give people persistent ids; off = every person gets id -1 and `people.count` is the raw number.' }),
    publish_unconfirmed: Type.Boolean({
      default: true,
      description:
        'Publish people whose track is not confirmed (yet), with id -1, so nothing detected is hidden; false = only confirmed people.',
    }),
    // Of the detections that live one or two frames (linked frame to frame at OKS >= 0.5 without a quality
    // filter), 153 of 165 have 3-7 parts; no detection of the eye-checked people has fewer than 8. 6: 0.975 /
    // 0.955 / 0.935 / 0.930 / 0.842, up to 13 ids; 10: 0.903 / 0.962 / 0.947 / 0.901 / 0.833.
    min_parts: Type.Integer({
      minimum: 0,
      maximum: 135,
      default: 8,
      description:
        'A detection with fewer parts is weak: it can keep a confirmed person\'s id alive but never start a track. Higher = fewer ' +
        'ids from fragments, but people entering half-hidden get their id later.',
    }),
    min_score: Type.Number({
      minimum: 0,
      maximum: 1,
      // 3-4 part fragments score below 0.1 in 237 of 268 cases; 42 of 1030 detections of the eye-checked people
      // score 0.1-0.2 (a small man far right, often). 0.05: no change; 0.2: 0.913 / 0.964 / 0.950 / 0.900 / 0.830, 9 ids.
      default: 0.1,
      description: 'A detection with a lower person score is weak (as min_parts). Higher = fewer false ids, later ids for faint people.',
    }),
    // 0.1: 0.970 / 0.930 / 0.971 / 0.905 / 0.849; 0.25: 0.969 / 0.938 / 0.954 / 0.906 / 0.831, up to 14 ids.
    min_similarity: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.15,
      description:
        'A good detection joins a track only at this similarity (OKS of the pose predicted to this frame, and box IoU; 0..1). ' +
        'Lower = ids survive bigger jumps, but neighbours can take each other\'s ids.',
    }),
    // 0.1 / 0.3 / 0.5 change only 12.5 fps: 0.965 / 0.958 / 0.958 (against 0.967).
    min_similarity_weak: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'The same for weak detections keeping a confirmed id alive. Lower = fewer lost people, more fragments claimed by the wrong one.',
    }),
    // 0.7: 0.974 / 0.954 / 0.964 / 0.897 / 0.819; 1 (OKS only): 0.911 / 0.949 / 0.948 / 0.899 / 0.838.
    oks_weight: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.9,
      description: 'Weight of keypoint similarity (OKS) against box overlap (IoU, weight 1 - oks_weight) in the similarity.',
    }),
    // 3: 0.970 / 0.970 / 0.942 / 0.857 / 0.755: each person's first frames go unnamed. With 2, the first
    // processed frame of everyone is unconfirmed: at 6.25 fps that alone caps the share at 1 - 7/130 = 0.946 on this
    // clip. (1 with confirm_ms 60 is the same as 2 below 16 fps; with confirm_ms 0 too it would name every passing
    // false detection at once; fragments get no id either way, they cannot start tracks.)
    confirm_hits: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 2,
      description:
        'A new track gets its published id once seen in this many processed frames (and over confirm_ms). Higher = fewer ids for ' +
        'passing false detections, a later id (and count) for real people.',
    }),
    // 0: 0.983 / 0.984 / 0.967 / 0.911 / 0.840, up to 13 ids; 100: 0.957 / 0.959 / 0.943 / 0.911 / 0.840, 11 ids.
    // 60 keeps a detection that lasts two frames at 50 fps (a ghost where two people overlap) from being named.
    confirm_ms: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 60,
      description: 'A new track is confirmed only after being followed for this long (source time), whatever the frame rate.',
    }),
    // Realtime mode on a 2-core machine processes street.avi with gaps of 120-480 ms; 600 leaves room.
    tentative_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 600,
      description:
        'A track not yet confirmed is dropped when unseen for this long. Keep it above the time between processed frames, or ' +
        'nobody gets confirmed.',
    }),
    // 1000 / 1500 / 2500 measured the same on street.avi (its longest occlusion is 0.3 s); 1500 keeps a person
    // hidden for a second and more (the synthetic tests hide one for 0.5 s at 25 and 4 fps).
    memory_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 1500,
      description:
        'A confirmed person missed for up to this long (occlusion, weak frames) gets their id back where the motion model puts ' +
        'them. Longer = ids survive longer occlusions, but someone else arriving at that spot may inherit the id.',
    }),
    // 200: 0.911 / 0.949 / 0.957 / 0.904 / 0.838; 1000: as 500 within 0.001.
    max_predict_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 500,
      description:
        'A lost person\'s velocity is extrapolated for at most this long; after that they are looked for where they would be then, ' +
        'with a widening search. Longer = better for people walking on behind an obstacle, worse for people who stopped.',
    }),
    // kalman: 0.980 / 0.962 / 0.951 / 0.929 / 0.773 (mean 0.919, against 0.932); none: 0.926 / 0.967 / 0.928 /
    // 0.903 / 0.845 (0.914). The Kalman filter wins at 50 and 6.25 fps and loses 0.07 in realtime mode, the agent's
    // default; street.avi is shot by a moving hand-held camera and its people mostly stand.
    motion: Type.Union([Type.Literal('kalman'), Type.Literal('velocity'), Type.Literal('none')], {
      default: 'velocity',
      description:
        'Motion model in source time (px per ms, so any gap between processed frames is right): velocity = the recent observed ' +
        'velocity; kalman = constant-velocity Kalman filter on body position and size (as SORT/ByteTrack), steadier at low frame ' +
        'rates, slower to follow a turn; none = people are looked for where they were last seen.',
    }),
    // Most changes of the count over street.avi in any run (the first 0 -> n included): hold 0 / 1000 / 2000 / 5000:
    // 36 / 15 / 11 / 9 (all at 50 fps); on the realtime schedules 7 or fewer from 1000 on.
    count_hold_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 2000,
      description:
        '`people.count` counts confirmed people; one who is no longer seen still counts for this long. Longer = a steadier count, ' +
        'later to go down when someone leaves.',
    }),
    smoothing: SmoothingConfigSchema,
  },
  { additionalProperties: false, default: {} },
);

export type TrackingConfig = Static<typeof TrackingConfigSchema>;
export type SmoothingConfig = Static<typeof SmoothingConfigSchema>;
