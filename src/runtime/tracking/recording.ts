// Recorded detections of a clip (every frame's people from the real model), as the tracking test and benchmark
// replay them: the tracker is measured on exactly what the agent's parser produced, without running inference.
// JSON, one array per frame, one array per person: [score, parts, x0, y0, c0, x1, y1, c1, ...] in source pixels,
// coordinates to 0.1 px and confidences to 0.001 (far below what changes a tracking decision).

import type { Person } from '../types.js';

export interface DetectionRecording {
  /** Model manifest name, net input height and capture output height the detections were made with. */
  model: string;
  netHeight: number;
  captureHeight: number;
  /** Source frame interval, ms (frame f is at f × frameMs). */
  frameMs: number;
  /** People per source frame, in parser order. */
  frames: Person[][];
}

interface RecordingJson {
  model: string;
  net_height: number;
  capture_height: number;
  frame_ms: number;
  frames: number[][][];
}

const round = (v: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
};

export function encodeRecording(r: DetectionRecording): RecordingJson {
  return {
    model: r.model,
    net_height: r.netHeight,
    capture_height: r.captureHeight,
    frame_ms: r.frameMs,
    frames: r.frames.map((people) =>
      people.map((p) => {
        const row = [round(p.score, 4), p.parts];
        for (let i = 0; i < p.keypoints.length; i += 3)
          row.push(round(p.keypoints[i], 1), round(p.keypoints[i + 1], 1), round(p.keypoints[i + 2], 3));
        return row;
      }),
    ),
  };
}

/** Parses a recording; throws on a malformed one (a person whose row is not 2 + 3 × K numbers). */
export function decodeRecording(json: unknown, numKeypoints: number): DetectionRecording {
  const j = json as RecordingJson;
  if (!j || !Array.isArray(j.frames) || typeof j.frame_ms !== 'number') throw new Error('detection recording: no frames / frame_ms');
  return {
    model: j.model,
    netHeight: j.net_height,
    captureHeight: j.capture_height,
    frameMs: j.frame_ms,
    frames: j.frames.map((people, f) =>
      people.map((row, i) => {
        if (row.length !== 2 + 3 * numKeypoints) throw new Error(`detection recording: frame ${f} person ${i} has ${row.length} numbers, expected ${2 + 3 * numKeypoints}`);
        return { score: row[0], parts: row[1], keypoints: Float32Array.from(row.slice(2)) };
      }),
    ),
  };
}
