// The recorded street.avi detections (test/fixtures/tracking/street-detections.json) are the real model's: a few
// frames are run again through capture and onnxruntime and must match. PAFCAST_WRITE_TRACKING_FIXTURE=1 records
// every frame anew and renders strip.png; PAFCAST_TRACKING_STRIP_DIR=DIR renders the strip over the video's
// pixels into DIR for the check by eye (never into the repository: street.avi may not be redistributed).

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { chainKey, fixtureChains, type ChainFixture } from '../../../src/runtime/tracking/evaluation.js';
import { encodeRecording } from '../../../src/runtime/tracking/recording.js';
import { sigmasFor } from '../../../src/runtime/tracking/sigmas.js';
import type { Person } from '../../../src/runtime/types.js';
import { chainsPath, detectionsPath, detectStreet, fixtureDir, loadStreetDetections, streetAvi } from './street-detections.js';
import { renderStrip, type StripPerson } from './strip.js';

const manifest = loadManifest('lightweight-openpose-coco18');
const writeFixture = process.env.PAFCAST_WRITE_TRACKING_FIXTURE === '1';
const stripDir = process.env.PAFCAST_TRACKING_STRIP_DIR;

/** Frames re-run through the model: the first, a crowded middle one, the last. */
const CHECKED_FRAMES = [0, 100, 204];

/** Rounding of the recording (0.05 px) plus run-to-run noise of onnxruntime on the CPU. */
const KEYPOINT_TOLERANCE_PX = 0.5;

function expectSamePeople(fresh: readonly Person[], recorded: readonly Person[], frame: number): void {
  expect(recorded.length, `frame ${frame}: people`).toBe(fresh.length);
  fresh.forEach((p, i) => {
    const r = recorded[i];
    expect(r.parts, `frame ${frame} person ${i}: parts`).toBe(p.parts);
    expect(Math.abs(r.score - p.score), `frame ${frame} person ${i}: score`).toBeLessThan(0.002);
    for (let k = 0; k < p.keypoints.length; k += 3) {
      expect(r.keypoints[k + 2] > 0, `frame ${frame} person ${i} part ${k / 3}`).toBe(p.keypoints[k + 2] > 0);
      expect(Math.hypot(r.keypoints[k] - p.keypoints[k], r.keypoints[k + 1] - p.keypoints[k + 1])).toBeLessThan(KEYPOINT_TOLERANCE_PX);
    }
  });
}

async function strip(video: boolean): Promise<Buffer> {
  const recording = loadStreetDetections();
  const fixture = JSON.parse(readFileSync(chainsPath, 'utf8')) as ChainFixture;
  const { chains, people } = fixtureChains(fixture, recording.frames, sigmasFor(manifest));
  const rows: StripPerson[] = people.map((chain, i) => ({ name: fixture.people[i].name, parts: fixture.people[i].chains, chain }));
  // Chains of a second or more that are nobody's: shown too, so that a person missing from the fixture shows.
  const used = new Set(fixture.people.flatMap((p) => p.chains));
  for (const c of chains) if (!used.has(chainKey(c)) && c.frames.at(-1)! - c.frames[0] >= 50) rows.push({ name: `unassigned ${chainKey(c)}`, parts: [chainKey(c)], chain: c });
  return renderStrip(rows, recording.frames, chains, manifest, video ? { path: streetAvi, width: 1280, height: 720 } : undefined);
}

describe('recorded street.avi detections', () => {
  it.skipIf(writeFixture)('match a fresh run of capture and the real model on a few frames', { timeout: 300_000 }, async () => {
    const fresh = await detectStreet(new Set(CHECKED_FRAMES));
    const recorded = loadStreetDetections();
    expect(fresh.frames).toHaveLength(recorded.frames.length);
    expect([recorded.model, recorded.netHeight, recorded.captureHeight, recorded.frameMs]).toEqual([fresh.model, fresh.netHeight, fresh.captureHeight, fresh.frameMs]);
    for (const f of CHECKED_FRAMES) expectSamePeople(fresh.frames[f], recorded.frames[f], f);
  });

  it.runIf(writeFixture)('are recorded anew, with the strip', { timeout: 900_000 }, async () => {
    const fresh = await detectStreet();
    writeFileSync(detectionsPath, JSON.stringify(encodeRecording(fresh)) + '\n');
    writeFileSync(join(fixtureDir, 'strip.png'), await strip(false));
  });

  it.runIf(!!stripDir)('render the strip over the video for the check by eye', { timeout: 300_000 }, async () => {
    const out = resolve(stripDir!, 'street-chains.png');
    writeFileSync(out, await strip(true));
    console.log(`strip written to ${out}`);
  });
});
