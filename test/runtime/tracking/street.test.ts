// Issue 14, acceptance 1: tracking on street.avi at 50, 25, 12.5 and 6.25 fps (every 1st, 2nd, 4th, 8th frame),
// scored against identity chains built without the tracker and checked by eye (test/fixtures/tracking). The
// detections are the real model's on every frame, recorded (street-detections.test.ts checks the recording
// against a fresh onnxruntime run); each subsampled run feeds them at their source time (frame × 20 ms), from
// every possible starting frame (phase).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { everyNth, fixtureChains, realtimeSchedule, replay, scoreTracking, type ChainFixture } from '../../../src/runtime/tracking/evaluation.js';
import { PoseTracker } from '../../../src/runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../../../src/runtime/tracking/sigmas.js';
import { chainsPath, loadStreetDetections, NUM_KEYPOINTS } from './street-detections.js';

const sigmas = sigmasFor(loadManifest('lightweight-openpose-coco18'));
const recording = loadStreetDetections();
const fixture = JSON.parse(readFileSync(chainsPath, 'utf8')) as ChainFixture;
const { people } = fixtureChains(fixture, recording.frames, sigmas);

/** In view for at least a second: the people the targets are about. */
const SECOND_FRAMES = 1000 / recording.frameMs;

describe('tracking on street.avi against eye-checked identity chains', () => {
  it('the fixture: every frame recorded at 20 ms, seven people in view for a second or more', () => {
    expect(recording.frames).toHaveLength(205);
    expect(recording.frameMs).toBe(20);
    expect(people).toHaveLength(7);
    for (const [i, p] of people.entries()) expect(p.frames.at(-1)! - p.frames[0], fixture.people[i].name).toBeGreaterThanOrEqual(SECOND_FRAMES);
    // The chains cover most frames between a person's first and last (the least, 71 %: the small man far right,
    // whose weak detections no chain takes).
    for (const p of people) expect(p.frames.length / (p.frames.at(-1)! - p.frames[0] + 1)).toBeGreaterThan(0.7);
  });

  const run = (schedule: number[]) => {
    const r = replay(new PoseTracker({}, NUM_KEYPOINTS, sigmas), recording.frames, schedule, recording.frameMs);
    return { score: scoreTracking(people, r.published), countChanges: r.countChanges };
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('keeps ids at 50, 25, 12.5 and 6.25 fps, from every starting frame; at most 20 distinct ids published', () => {
    const rows = [1, 2, 4, 8].map((step) => {
      // Every phase of the subsampling (frames p, p + step, ...), phase 0 first.
      const phases = Array.from({ length: step }, (_, p) => run(everyNth(205, step, p)));
      return { fps: 50 / step, phase0: phases[0], phases, meanShare: mean(phases.map((r) => r.score.share)) };
    });
    console.log(
      'street.avi tracking (share of each person\'s frames with their majority id, over all 7):\n' +
        rows.map(({ fps, phase0: { score, countChanges }, meanShare }) => `  ${String(fps).padStart(5)} fps: share ${score.share.toFixed(3)} ` +
          `(lowest person ${score.minShare.toFixed(3)}; mean over phases ${meanShare.toFixed(3)}), ${score.switches} id switches, ` +
          `${score.distinctIds} distinct ids, count changed ${countChanges}×`).join('\n'),
    );
    // The target of issue 14: >= 0.95 at every rate, from the first frame and on average over where the run starts.
    // Measured (phase 0 / mean): 0.989 / 0.989, 0.981 / 0.985, 0.985 / 0.980, 0.962 / 0.969; at most 12 ids.
    for (const r of rows) {
      expect(r.phase0.score.share, `${r.fps} fps`).toBeGreaterThanOrEqual(0.95);
      expect(r.meanShare, `${r.fps} fps, mean over phases`).toBeGreaterThanOrEqual(0.95);
      expect(r.phase0.score.mergedIds, `${r.fps} fps: one id on two people`).toBe(0);
      for (const [p, phase] of r.phases.entries()) expect(phase.score.distinctIds, `${r.fps} fps phase ${p}`).toBeLessThanOrEqual(20);
    }
  });

  it('keeps ids on realtime-like schedules (gaps of 6-24 frames)', () => {
    // Realtime mode: not a target of the issue, held against regressions. Measured: mean 0.946 over the six
    // schedules, lowest 0.877 (issue 14's first round: 0.840, and 0.333 for one person).
    const runs = [1, 2, 3, 4, 5, 6].map((seed) => run(realtimeSchedule(205, seed)));
    console.log(`street.avi tracking, realtime-like: shares ${runs.map((r) => r.score.share.toFixed(3)).join(' ')}`);
    expect(mean(runs.map((r) => r.score.share))).toBeGreaterThanOrEqual(0.9);
    for (const r of runs) expect(r.score.distinctIds).toBeLessThanOrEqual(20);
  });

  it('the measurement can fail: ids that change every frame, or one id for everyone, score low', () => {
    const fresh = recording.frames.map((ps, f) => ps.map((_, i) => 1000 * f + i));
    expect(scoreTracking(people, fresh).share).toBeLessThan(0.01);
    const single = scoreTracking(people, recording.frames.map((ps) => ps.map(() => 1)));
    expect(single.mergedIds).toBe(1);
  });
});
