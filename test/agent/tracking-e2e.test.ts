// Issue 14, acceptance 2: the real agent (`pafcast run`, realtime mode, street.avi without loop) and a real
// Mosquitto subscriber. The ids a subscriber sees must be few (at most 20 distinct) and the retained `people`
// count must not flap (at most 10 changes over the clip). `frame` must be the source frame index: every published
// pose is compared with the recorded detections of that frame of the file (test/fixtures/tracking), made with the
// same capture size and net height, so the published ids can also be scored against the eye-checked identity
// chains, as street.test.ts scores the tracker alone.
//
// Realtime mode processes as many frames as the machine manages. On a 2-core machine (2 onnxruntime threads,
// the capture process decoding 50 fps beside them) capture → publish takes 290-370 ms at net height 256, so 13-16
// of the 205 frames are published (measured here five times at load averages of 0.5-2.5, gaps 1-29). Other work
// on the machine leaves fewer (6-7 at a load near 3, 700-830 ms): wait for a quiet machine rather than lowering
// MIN_PUBLISHED. The checks are meant to hold with that few frames: a count that flaps goes down every other
// frame (checked below, not only the 10 changes, which 10 frames could never exceed), ids that change every frame
// score ~0.1. The agent with a tracker that neither confirms nor remembers (--set tracking.confirm_hits=1
// tracking.confirm_ms=0 tracking.min_parts=0 tracking.min_score=0 tracking.memory_ms=0 tracking.count_hold_ms=0
// tracking.camera_motion=false) fails here: 141 ids, the count changed 17 times in 18 frames.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeoplePayload, PosesPayload } from '../../src/agent/mqtt/topics.js';
import { loadManifest } from '../../src/runtime/manifest.js';
import { fixtureChains, scoreTracking, type ChainFixture } from '../../src/runtime/tracking/evaluation.js';
import { sigmasFor } from '../../src/runtime/tracking/sigmas.js';
import { chainsPath, loadStreetDetections } from '../runtime/tracking/street-detections.js';
import { AgentProcess, ensureBuilt, streetAvi, waitFor } from './helpers/agent-process.js';
import { Mosquitto } from './helpers/mosquitto.js';

let broker: Mosquitto;
beforeAll(async () => {
  ensureBuilt();
  broker = await Mosquitto.start();
}, 300_000);
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
});

describe('pafcast run on street.avi (realtime mode), seen by an MQTT subscriber', () => {
  it('publishes few ids, a steady people count, and poses at their source frame index', async () => {
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 100 });
    const poses: PosesPayload[] = [];
    const people: PeoplePayload[] = [];
    client.on('message', (topic, payload) => {
      if (topic === 'trk/dev/poses') poses.push(JSON.parse(payload.toString()) as PosesPayload);
      if (topic === 'trk/dev/people') people.push(JSON.parse(payload.toString()) as PeoplePayload);
    });
    await client.subscribeAsync('trk/dev/#', { qos: 1 });

    // Realtime mode is the default; the net height is held at the model's 256 (no adaptive scale) so that the
    // published poses can be compared with the recording, made at that height.
    const agent = new AgentProcess([
      '--source', streetAvi, '--mqtt', broker.url, '--prefix', 'trk', '--device-id', 'dev',
      '--set', 'mqtt.qos.poses=1', '--set', 'telemetry.scale.enabled=false', '--set', 'inference.onnxruntime.threads=2',
    ]);
    const exit = await agent.exited; // a file without --loop ends the run
    expect(exit.code, agent.dump()).toBe(0);
    await waitFor(() => poses.length > 0, 'poses');
    await new Promise((r) => setTimeout(r, 300)); // the last QoS 1 messages
    await client.endAsync();

    const ids = new Set(poses.flatMap((p) => p.people.map((q) => q.id)).filter((id) => id >= 0));
    const frames = poses.map((p) => p.frame);
    const latencies = poses.map((p) => p.latency_ms).sort((a, b) => a - b);
    const conditions = `median capture → publish ${latencies[latencies.length >> 1]?.toFixed(0)} ms, load average ${loadavg()[0].toFixed(1)}`;
    console.log(`agent, realtime: ${poses.length} poses messages (frames ${frames[0]}..${frames.at(-1)}, gaps ${gaps(frames)}), ` +
      `${ids.size} distinct ids, ${people.length} people messages: ${people.map((p) => p.count).join(' → ')}; ${conditions}`);

    // Realtime mode really dropped frames (it is not every-frame in disguise), and the clip was played to its end.
    // Too few messages means the clip played while the pose runtime was still loading (it needs seconds here, the
    // clip lasts 4.1 s), or a machine too busy to process it: the checks below would then hold for nothing.
    const ready = agent.lines.find((l) => l.msg === 'pose runtime ready'), started = agent.lines.find((l) => l.msg === 'capture pipeline');
    expect(
      poses.length,
      `only frames ${frames.join(', ')} published (${conditions}); capture started ${String(started?.time)}, pose runtime ready ${String(ready?.time)}`,
    ).toBeGreaterThanOrEqual(MIN_PUBLISHED);
    expect(poses.length).toBeLessThan(205);
    expect(frames.at(-1)).toBeGreaterThan(180);
    for (let i = 1; i < frames.length; i++) expect(frames[i]).toBeGreaterThan(frames[i - 1]);

    expect(ids.size).toBeGreaterThanOrEqual(4); // there are people with ids at all
    expect(ids.size).toBeLessThanOrEqual(20);
    expect(people.length).toBeGreaterThan(0);
    expect(people.length).toBeLessThanOrEqual(10);
    expect(Math.max(...people.map((p) => p.count))).toBeGreaterThanOrEqual(4);
    // Nobody leaves the view for good before the last 2 s of the clip but someone far left (gone at 0.6 s) and the
    // brown-bag woman (at 2.9 s, still counted at the end: count_hold_ms 2000), so a steady count rarely goes down:
    // the tracker alone on 200 random realtime-like schedules (gaps 2-25, 6-24, 8-12 or 11-29 frames) went down
    // at most twice, 0 times in 80-96 % of them. The control at the top (no confirmation, no memory, no hold): down
    // 8 times in 18 frames.
    const decreases = people.filter((p, i) => i > 0 && p.count < people[i - 1].count).length;
    expect(decreases, people.map((p) => p.count).join(' → ')).toBeLessThanOrEqual(2);
    // Each `people` message names the frame it changed at, one of the published ones.
    for (const p of people) expect(frames).toContain(p.frame);

    // `frame` is the source frame index: the people published for frame n are the recording's for frame n (and
    // not n ± 1: walkers move several pixels a frame).
    const recording = loadStreetDetections();
    let compared = 0;
    for (const msg of poses) {
      const recorded = recording.frames[msg.frame];
      expect(msg.people, `frame ${msg.frame}`).toHaveLength(recorded.length);
      msg.people.forEach((person, i) => {
        const kp = recorded[i].keypoints;
        for (let j = 0; j < kp.length; j += 3) {
          expect(Math.abs(person.pose_keypoints_2d[j] - kp[j]), `frame ${msg.frame} person ${i}`).toBeLessThan(0.5);
          expect(Math.abs(person.pose_keypoints_2d[j + 1] - kp[j + 1])).toBeLessThan(0.5);
        }
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(40);

    // The ids stay with the people: scored against the eye-checked identity chains (the share of each person's
    // published frames carrying their majority id). The tracker alone on simulated realtime schedules (200 random
    // ones each): gaps of 2-25 frames (as the agent here), mean 0.955 and lowest 0.774; 8-12, mean 0.970, lowest
    // 0.882; 11-29 (a machine with other load), mean 0.940, lowest 0.708; the agent here at a load of 2.5, gaps
    // 13-24: 0.714 (a version of the tracker from earlier in this round). Ids that changed every frame would score
    // ~0.1.
    const published: (number[] | undefined)[] = new Array(recording.frames.length).fill(undefined);
    for (const msg of poses) published[msg.frame] = msg.people.map((q) => q.id);
    const fixture = JSON.parse(readFileSync(chainsPath, 'utf8')) as ChainFixture;
    const { people: chains } = fixtureChains(fixture, recording.frames, sigmasFor(loadManifest('lightweight-openpose-coco18')));
    const score = scoreTracking(chains, published);
    console.log(`agent, realtime: share of the eye-checked people's frames with their majority id ${score.share.toFixed(3)}, ` +
      `${score.switches} id switches`);
    expect(score.share).toBeGreaterThanOrEqual(0.65);
  }, 600_000);
});

/**
 * Fewest poses messages for the checks to mean something (see the top; ~13 on a 2-core machine). Fewer means the
 * clip played while the pose runtime was still loading, as before the pipeline prepared it ahead of capture (frames
 * 0, 168 and 204 only), or a machine too busy for the test.
 */
const MIN_PUBLISHED = 9;

function gaps(frames: number[]): string {
  const g = frames.slice(1).map((f, i) => f - frames[i]);
  return g.length ? `${Math.min(...g)}-${Math.max(...g)}` : '-';
}
