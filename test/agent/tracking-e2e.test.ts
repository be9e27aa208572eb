// Issue 14, acceptance 2: the real agent (`pafcast run`, realtime mode, street.avi without loop) and a real
// Mosquitto subscriber. The ids a subscriber sees must be few (at most 20 distinct) and the retained `people`
// count must not flap (at most 10 changes over the clip). `frame` must be the source frame index: every published
// pose is compared with the recorded detections of that frame of the file (test/fixtures/tracking), made with the
// same capture size and net height.

import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeoplePayload, PosesPayload } from '../../src/agent/mqtt/topics.js';
import { loadStreetDetections } from '../runtime/tracking/street-detections.js';
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
    console.log(`agent, realtime: ${poses.length} poses messages (frames ${frames[0]}..${frames.at(-1)}, gaps ${gaps(frames)}), ` +
      `${ids.size} distinct ids, ${people.length} people messages: ${people.map((p) => p.count).join(' → ')}`);

    // Realtime mode really dropped frames (it is not every-frame in disguise), and the clip was played to its end.
    // Too few messages means the clip played while the pose runtime was still loading (it needs seconds here, the
    // clip lasts 4.1 s): the check below would then hold for nothing.
    const ready = agent.lines.find((l) => l.msg === 'pose runtime ready'), started = agent.lines.find((l) => l.msg === 'capture pipeline');
    expect(poses.length, `only frames ${frames.join(', ')} published; capture started ${String(started?.time)}, pose runtime ready ${String(ready?.time)}`).toBeGreaterThan(8);
    expect(poses.length).toBeLessThan(205);
    expect(frames.at(-1)).toBeGreaterThan(180);
    for (let i = 1; i < frames.length; i++) expect(frames[i]).toBeGreaterThan(frames[i - 1]);

    expect(ids.size).toBeGreaterThanOrEqual(4); // there are people with ids at all
    expect(ids.size).toBeLessThanOrEqual(20);
    expect(people.length).toBeGreaterThan(0);
    expect(people.length).toBeLessThanOrEqual(10);
    expect(Math.max(...people.map((p) => p.count))).toBeGreaterThanOrEqual(4);
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
  }, 600_000);
});

function gaps(frames: number[]): string {
  const g = frames.slice(1).map((f, i) => f - frames[i]);
  return g.length ? `${Math.min(...g)}-${Math.max(...g)}` : '-';
}
