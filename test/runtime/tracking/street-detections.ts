// Every-frame detections of street.avi as the agent makes them (capture at its default 368 px, net 256, keypoints
// in source pixels), fresh from the real model or from the committed fixture. The fixture exists so the tracking
// tests do not run 205 inferences; street-detections.test.ts checks it against a fresh onnxruntime run and
// rewrites it with PAFCAST_WRITE_TRACKING_FIXTURE=1.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureSource } from '../../../src/agent/capture/capture-source.js';
import { toSourcePixels } from '../../../src/agent/pipeline.js';
import { PoseRuntime } from '../../../src/runtime/pose-runtime.js';
import { decodeRecording, type DetectionRecording } from '../../../src/runtime/tracking/recording.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const shared = process.env.PAFCAST_SHARED ?? resolve(repoRoot, '../shared');
export const streetAvi = resolve(shared, 'media/street.avi');
export const fixtureDir = resolve(repoRoot, 'test/fixtures/tracking');
export const detectionsPath = resolve(fixtureDir, 'street-detections.json');
export const chainsPath = resolve(fixtureDir, 'street-chains.json');

/** The agent's defaults: capture scales to 368 rows, the net runs at the model default (256). */
export const CAPTURE_HEIGHT = 368;
export const NET_HEIGHT = 256;

/** Keypoints per person of the default model (OpenPose COCO-18). */
export const NUM_KEYPOINTS = 18;

export function loadStreetDetections(): DetectionRecording {
  return decodeRecording(JSON.parse(readFileSync(detectionsPath, 'utf8')), NUM_KEYPOINTS);
}

/**
 * Runs capture and the real model over street.avi (every frame): each frame's people in source pixels.
 * `wanted` limits inference to those frame indices (the others are decoded and left empty).
 */
export async function detectStreet(wanted?: ReadonlySet<number>): Promise<DetectionRecording> {
  const runtime = await PoseRuntime.create({ heights: [NET_HEIGHT], sourceSize: { width: 1280, height: 720 } });
  const capture = new CaptureSource(
    { uri: streetAvi, mode: 'every-frame', output_height: CAPTURE_HEIGHT },
    { info: () => {}, warn: () => {}, error: () => {} },
  );
  const out: DetectionRecording = { model: runtime.manifest.name, netHeight: NET_HEIGHT, captureHeight: CAPTURE_HEIGHT, frameMs: 0, frames: [] };
  capture.start();
  try {
    for (let frame = await capture.next(); frame; frame = await capture.next()) {
      out.frameMs = frame.index > 0 ? frame.mediaMs / frame.index : out.frameMs;
      if (wanted && !wanted.has(frame.index)) {
        out.frames.push([]);
        continue;
      }
      const { people } = await runtime.estimate(frame, NET_HEIGHT);
      out.frames.push(toSourcePixels(people, frame.sourceWidth / frame.width, frame.sourceHeight / frame.height));
    }
  } finally {
    await capture.stop();
    await runtime.dispose();
  }
  return out;
}
