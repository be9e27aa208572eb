// OpenPose 1.x `--write_json` output, so tools made for OpenPose read pafcast's files unchanged.
// OpenPose writes one `<image name>_keypoints.json` per image with these fields (doc/02_output.md).

import type { Person } from '../runtime/types.js';

/** Rounds for JSON output: sub-pixel precision is meaningful to 3 decimals at most. */
export function keypointList(kp: Float32Array): number[] {
  const out = new Array<number>(kp.length);
  for (let i = 0; i < kp.length; i++) out[i] = Math.round(kp[i]! * 1000) / 1000;
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
