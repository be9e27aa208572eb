// OpenPose 1.x `--write_json` output, so tools made for OpenPose read pafcast's files unchanged.
// OpenPose writes one `<image name>_keypoints.json` per image with these fields (doc/02_output.md).

import type { Person } from '../runtime/types.js';

/**
 * Keypoints for JSON output, x, y, confidence per part, rounded to 3 decimals (sub-pixel precision
 * means nothing beyond). Confidences are clamped to 0..1 as OpenPose documents them: a heatmap peak
 * of this network can exceed 1 (up to 1.143 measured on the shared images).
 */
export function keypointList(kp: Float32Array): number[] {
  const out = new Array<number>(kp.length);
  for (let i = 0; i < kp.length; i++) {
    const v = i % 3 === 2 ? Math.min(1, Math.max(0, kp[i]!)) : kp[i]!;
    out[i] = Math.round(v * 1000) / 1000;
  }
  return out;
}

export function openPoseDocument(people: Array<Person & { id?: number }>): object {
  return {
    version: 1.3,
    people: people.map((p) => ({
      // OpenPose itself always writes -1 here; the agent's tracker fills real ids.
      person_id: [p.id ?? -1],
      pose_keypoints_2d: keypointList(p.keypoints),
      face_keypoints_2d: [],
      hand_left_keypoints_2d: [],
      hand_right_keypoints_2d: [],
      pose_keypoints_3d: [],
      face_keypoints_3d: [],
      hand_left_keypoints_3d: [],
      hand_right_keypoints_3d: [],
    })),
  };
}
