// Config section `tracking`: persistent person ids over source time, the stable people count, optional keypoint
// smoothing. Owned by the runtime; the agent's config schema (src/agent/config) composes it.
//
// The defaults were chosen on street.avi with the tracking benchmark (bench/tracking.ts): the share of frames of
// the 7 eye-checked people (test/fixtures/tracking) that carry each person's majority id, averaged over every
// phase of the subsampling at 50 / 25 / 12.5 / 6.25 fps and over six realtime-like schedules (gaps of 6–24
// frames, as a 2-core machine processes this clip), and the most distinct ids any run published. With all
// defaults: 0.989 / 0.985 / 0.980 / 0.969 / 0.946 (phase 0 alone: 0.989 / 0.981 / 0.985 / 0.962), at most 12 ids.
// Before instant confirmation and camera_motion: 0.970 / 0.971 / 0.967 / 0.911 / 0.840, 12 ids; the tracker on
// main before issue 14 (per-frame motion without confirmation): 0.74 / 0.69 / 0.66 / 0.62 at phase 0, 214 / 152 /
// 107 / 70 ids. Each comment gives what other values changed (all else at its default), in that order of rates.

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
    // filter), 153 of 165 have 3-7 parts; no detection of the eye-checked people has fewer than 8. 6: 0.992 /
    // 0.987 / 0.982 / 0.971 / 0.946, up to 13 ids; 10: 0.983 / 0.981 / 0.972 / 0.955 / 0.940.
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
      // score 0.1-0.2 (a small man far right, often). 0.05: no change; 0.2: 0.981 / 0.983 / 0.982 / 0.970 / 0.943
      // (12.5 fps phase 0: 0.969), 10 ids.
      default: 0.1,
      description: 'A detection with a lower person score is weak (as min_parts). Higher = fewer false ids, later ids for faint people.',
    }),
    // 0.1: 0.989 / 0.969 / 0.981 / 0.969 / 0.943 (25 fps phase 0: 0.948); 0.25: 0.983 / 0.985 / 0.980 / 0.966 /
    // 0.946, up to 14 ids.
    min_similarity: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.15,
      description:
        'A good detection joins a track only at this similarity (OKS of the pose predicted to this frame, and box IoU; 0..1). ' +
        'Lower = ids survive bigger jumps, but neighbours can take each other\'s ids.',
    }),
    // 0.1 and 0.5 measured the same as 0.2 (before camera_motion, 0.1 / 0.3 / 0.5 changed only 12.5 fps, by < 0.01).
    min_similarity_weak: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'The same for weak detections keeping a confirmed id alive. Lower = fewer lost people, more fragments claimed by the wrong one.',
    }),
    // 0.7: 0.989 / 0.967 / 0.980 / 0.967 / 0.946 (25 fps phase 0: 0.944); 1 (OKS only): 0.989 / 0.985 / 0.970 /
    // 0.969 / 0.951.
    oks_weight: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.9,
      description: 'Weight of keypoint similarity (OKS) against box overlap (IoU, weight 1 - oks_weight) in the similarity.',
    }),
    // For people not confirmed at first sight (instant_confirm_*). 3: 0.989 / 0.984 / 0.972 / 0.961 / 0.925. (1
    // with confirm_ms 60 is the same as 2 below 16 fps; with confirm_ms 0 too it would name every passing false
    // detection at once; fragments get no id either way, they cannot start tracks.)
    confirm_hits: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 2,
      description:
        'A new track gets its published id once seen in this many processed frames (and over confirm_ms). Higher = fewer ids for ' +
        'passing false detections, a later id (and count) for real people.',
    }),
    // Waiting for a second sighting costs everyone their first processed frame: at 6.25 fps that alone capped the
    // share at 1 - 7/130 = 0.946 on this clip. Of the detections of the eye-checked people, 85 % have >= 12 parts
    // and score >= 0.3, and 3 of their 7 first ones (the others enter half hidden); of the 19 detections in chains
    // of at most 2 frames, 4 (2 of them real people whose chain broke), and no fragment (3-7 parts, < 0.1). Off
    // (above 18): 0.981 / 0.972 / 0.962 / 0.925 / 0.870 (6.25 fps phase 0: 0.938); 10 parts: 0.989 / 0.985 / 0.982 /
    // 0.971 / 0.948; 14: 0.989 / 0.984 / 0.975 / 0.960 / 0.917; 8 parts and score 0.1 (every good detection): 0.999
    // / 0.995 / 0.998 / 0.981 / 0.952 but 16 ids. Score 0.2: 0.989 / 0.987 / 0.981 / 0.972 / 0.946, 13 ids; 0.4:
    // 0.989 / 0.984 / 0.975 / 0.960 / 0.941.
    instant_confirm_parts: Type.Integer({
      minimum: 0,
      maximum: 135,
      default: 12,
      description:
        'A new person detected with at least this many parts (and instant_confirm_score), clear of everyone tracked, is confirmed ' +
        'at first sight instead of after confirm_hits. Lower = ids sooner for more people (at 6 fps a second sighting is 160 ms ' +
        'later), but more ids for passing false detections; above the model\'s part count = always wait for confirm_hits.',
    }),
    instant_confirm_score: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.3,
      description: 'The person score a detection needs to be confirmed at first sight (with instant_confirm_parts).',
    }),
    // 0: 0.996 / 0.989 / 0.980 / 0.969 / 0.946, up to 13 ids; 100: 0.978 / 0.982 / 0.973 / 0.969 / 0.946. 60 keeps
    // a detection that lasts two frames at 50 fps (a ghost where two people overlap) from being named.
    confirm_ms: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 60,
      description: 'A new track is confirmed only after being followed for this long (source time), whatever the frame rate.',
    }),
    // Realtime mode on a 2-core machine processes street.avi with gaps of 120-580 ms; 600 leaves room for one missed
    // frame. 0: 0.984 / 0.981 / 0.980 / 0.974 / 0.946, 11 ids; 300: 0.989 / 0.985 / 0.980 / 0.974 / 0.946; 1000:
    // the same as 600.
    tentative_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 600,
      description:
        'A track not yet confirmed is dropped when unseen for this long (a track seen in the previous processed frame always ' +
        'gets the next one, if it comes within memory_ms). Longer = a person missed in a frame before confirmation is still ' +
        'confirmed, ghosts are kept longer.',
    }),
    // 1000 / 1500 / 2500 measured the same on street.avi (its longest occlusion is 0.3 s); 1500 keeps a person
    // hidden for a second and more (the synthetic tests hide one for 0.5 s at 25 and 4 fps, and one for 1 s while
    // the camera moves).
    memory_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 1500,
      description:
        'A confirmed person missed for up to this long (occlusion, weak frames) gets their id back where the motion model puts ' +
        'them. Longer = ids survive longer occlusions, but someone else arriving at that spot may inherit the id.',
    }),
    // 200: 0.989 / 0.985 / 0.980 / 0.979 / 0.946; 1000: 0.989 / 0.987 / 0.981 / 0.969 / 0.946 (before
    // camera_motion, 200 lost 0.06 at 50 fps).
    max_predict_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 500,
      description:
        'A lost person\'s velocity is extrapolated for at most this long; after that they are looked for where they would be then ' +
        '(with camera_motion, the search around that place stops widening too). Longer = better for people walking on behind ' +
        'an obstacle, worse for people who stopped.',
    }),
    // kalman: 0.923 / 0.971 / 0.980 / 0.961 / 0.915 (25 fps phase 0: 0.952); none: 0.988 / 0.984 / 0.971 / 0.964 /
    // 0.943 (6.25 fps phase 0: 0.923). Without camera_motion: kalman 0.988 / 0.972 / 0.964 / 0.955 / 0.828, none
    // 0.935 / 0.983 / 0.946 / 0.944 / 0.906. street.avi is shot by a moving hand-held camera and its people mostly
    // stand.
    motion: Type.Union([Type.Literal('kalman'), Type.Literal('velocity'), Type.Literal('none')], {
      default: 'velocity',
      description:
        'Motion model in source time (px per ms, so any gap between processed frames is right): velocity = the recent observed ' +
        'velocity; kalman = constant-velocity Kalman filter on body position and size (as SORT/ByteTrack), steadier at low frame ' +
        'rates, slower to follow a turn; none = people are looked for where they were last seen.',
    }),
    // street.avi is hand-held: its people move together by up to 15 px a frame (50 fps), 60-90 px over 8 frames.
    // Off: 0.979 / 0.986 / 0.984 / 0.949 / 0.895 (6.25 fps phase 0: 0.969). The synthetic tests: with a camera that
    // pans and shakes by up to ±60 px between frames processed 160-250 ms apart, ids hold with it and are traded
    // without it; the fixed-camera scenes pass either way, four people walking in step for 2 minutes too.
    camera_motion: Type.Boolean({
      default: true,
      description:
        'Measure how the camera moved between processed frames from the people tracked (their common shift) and take it out of ' +
        'the predictions: for hand-held, pan-tilt or vehicle cameras, and realtime mode\'s long gaps. Off = people are predicted ' +
        'in image coordinates with room for an unknown camera motion. A fixed camera works either way (people who all move ' +
        'together are taken for the camera, which costs them nothing).',
    }),
    // Most changes of the count over street.avi in any run (the first 0 -> n included): hold 0 / 1000 / 2000 / 5000:
    // 28 / 12 / 11 / 8 (all at 50 fps); on the realtime schedules 8 / 6 / 6 / 5.
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
