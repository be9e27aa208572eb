// Acceptance 2 of issue 3: on street.avi processed frame by frame, a person keeps the same id on ≥ 95 % of the
// consecutive-frame pairs where they are detected in both. "The same person in both frames" is decided here
// independently of the tracker: detections of consecutive frames that are each other's best match with a high
// OKS (no memory, no motion model). The tracker's ids are then checked on those pairs.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureSource } from '../../../src/agent/capture/capture-source.js';
import { PoseRuntime } from '../../../src/runtime/pose-runtime.js';
import { PoseTracker } from '../../../src/runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../../../src/runtime/tracking/sigmas.js';
import { boxArea, keypointBox, oks } from '../../../src/runtime/tracking/similarity.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const shared = process.env.PAFCAST_SHARED ?? resolve(repoRoot, '../shared');
const NET_HEIGHT = 256;
/** OKS two detections need to count as one person in consecutive frames (COCO's strict-ish AP75 level). */
const SAME_PERSON_OKS = 0.75;

interface Frame {
  keypoints: Float32Array[];
  ids: number[];
}

/** Pairs (i in a, j in b) that are each other's best OKS match, at or above `threshold`. */
function mutualBestPairs(a: Float32Array[], b: Float32Array[], sigmas: Float32Array, threshold: number): Array<[number, number]> {
  const box = new Float32Array(4);
  const sim = a.map((ka) => {
    keypointBox(ka, box);
    const area = boxArea(box);
    return b.map((kb) => oks(ka, kb, sigmas, area));
  });
  const pairs: Array<[number, number]> = [];
  sim.forEach((row, i) => {
    if (row.length === 0) return;
    const j = row.indexOf(Math.max(...row));
    const column = sim.map((r) => r[j]);
    if (row[j] >= threshold && column.indexOf(Math.max(...column)) === i) pairs.push([i, j]);
  });
  return pairs;
}

/** Share of independently matched consecutive-frame pairs whose ids agree, and how many pairs there were. */
function idPersistence(frames: Frame[], sigmas: Float32Array): { pairs: number; same: number } {
  let pairs = 0, same = 0;
  for (let f = 1; f < frames.length; f++) {
    const prev = frames[f - 1], cur = frames[f];
    for (const [i, j] of mutualBestPairs(prev.keypoints, cur.keypoints, sigmas, SAME_PERSON_OKS)) {
      pairs++;
      if (prev.ids[i] === cur.ids[j]) same++;
    }
  }
  return { pairs, same };
}

describe('tracking on street.avi (real detections)', () => {
  it('keeps ids on at least 95 % of the consecutive-frame pairs of the same person', { timeout: 600_000 }, async () => {
    const runtime = await PoseRuntime.create({
      heights: [NET_HEIGHT],
      sourceSize: { width: 1280, height: 720 },
    });
    const sigmas = sigmasFor(runtime.manifest);
    const tracker = new PoseTracker({}, runtime.manifest.keypoints.length, sigmas);
    const capture = new CaptureSource(
      { uri: resolve(shared, 'media/street.avi'), mode: 'every-frame', output_height: NET_HEIGHT },
      { info: () => {}, warn: () => {}, error: () => {} },
    );
    const frames: Frame[] = [];
    capture.start();
    try {
      for (let frame = await capture.next(); frame; frame = await capture.next()) {
        const { people } = await runtime.estimate(frame, NET_HEIGHT);
        const tracked = tracker.update(people, frame.ts);
        frames.push({ keypoints: people.map((p) => p.keypoints), ids: tracked.map((t) => t.id) });
      }
    } finally {
      await capture.stop();
      await runtime.dispose();
    }
    expect(frames.length).toBe(205);
    const { pairs, same } = idPersistence(frames, sigmas);
    const detections = frames.reduce((n, f) => n + f.ids.length, 0);
    const distinctIds = new Set(frames.flatMap((f) => f.ids)).size;
    console.log(`street.avi: ${frames.length} frames, ${detections} detections, ${distinctIds} ids, ` +
      `${same}/${pairs} same-person pairs kept their id (${((100 * same) / pairs).toFixed(1)} %)`);
    // The measurement must be meaningful: several people per frame are matched (~6 walk through the scene)...
    expect(pairs).toBeGreaterThan(2 * frames.length);
    // ...and able to fail: ids that change every frame score 0.
    const fresh = frames.map((f, n) => ({ keypoints: f.keypoints, ids: f.ids.map((_, i) => n * 1000 + i) }));
    expect(idPersistence(fresh, sigmas).same).toBe(0);
    expect(same / pairs).toBeGreaterThanOrEqual(0.95);
  });
});
