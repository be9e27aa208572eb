// Issue 16, acceptance 4: the real agent on a UR Fall clip (the RGB half, cropped in the capture
// process) publishes a `fall` event and a retained `person_down` that a subscriber receives, and a
// client that behaves like Home Assistant sees the zone, person-down and event entities, with states.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage, PersonDownMessage, ZoneMessage } from '../../src/runtime/events/messages.js';
import { AgentProcess, ensureBuilt, waitFor } from './helpers/agent-process.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { HomeAssistantSim } from './homeassistant/support/ha-sim.js';
import { sharedPath } from '../support/shared.js';

const clip = sharedPath('media', 'falls', 'fall-01-cam0.mp4');

let broker: Mosquitto;
let client: MqttClient;
let ha: HomeAssistantSim;
const got: Array<{ topic: string; text: string; retain: boolean }> = [];

beforeAll(async () => {
  ensureBuilt();
  broker = await Mosquitto.start();
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 200 });
  client.on('message', (topic, payload, packet) => got.push({ topic, text: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync('falls/cam/#', { qos: 1 });
  ha = await HomeAssistantSim.connect(broker.url);
}, 300_000);

afterAll(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
  await client?.endAsync(true);
  await ha?.close();
  await broker?.stop();
});

describe('pose events from the real agent', () => {
  it('a fall on a UR Fall clip: a `fall` event, a retained `person_down`, zone state, and Home Assistant entities', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-events-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        // The labels' crop: the RGB half of the 640x240 frames, in the capture process.
        source: { uri: clip, mode: 'every-frame', crop: { x: 320, y: 0, width: 320, height: 240 } },
        inference: { height: 256, onnxruntime: { threads: 2 } },
        mqtt: { url: broker.url, prefix: 'falls', device_id: 'cam', stats_interval_s: 1 },
        http: { enabled: false },
        telemetry: { tegrastats: 'off', scale: { enabled: false } },
        events: { zones: [{ name: 'room', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] },
      }),
    );
    const agent = new AgentProcess(['--config', config]);
    const exit = await agent.exited;
    expect(exit.code, agent.dump()).toBe(0);

    const events = got.filter((m) => m.topic === 'falls/cam/events').map((m) => JSON.parse(m.text) as EventMessage);
    const fall = events.find((e) => e.type === 'fall');
    expect(fall, `events: ${JSON.stringify(events.map((e) => [e.type, e.frame]))}`).toBeDefined();
    // The person reaches the floor at 3.7 s (labels.json); a fall is raised after confirm_s down, while the clip lasts.
    expect(fall!.frame / 30).toBeGreaterThan(3.7 - 1);
    expect(fall!.keypoints.length).toBe(18 * 3);
    // The person lay in the room: the fall names it even though a lying person is seen too weakly to stay a member.
    expect(fall!.zone).toBe('room');

    // Retained state a subscriber that arrives now still reads.
    const late = await mqtt.connectAsync(broker.url);
    const retained: Array<{ topic: string; text: string }> = [];
    late.on('message', (topic, payload, packet) => packet.retain && retained.push({ topic, text: payload.toString() }));
    await late.subscribeAsync('falls/cam/#', { qos: 1 });
    await waitFor(() => retained.some((m) => m.topic === 'falls/cam/person_down') && retained.some((m) => m.topic === 'falls/cam/zones/room'), 'retained event states', 10_000);
    await late.endAsync(true);
    const down = JSON.parse(retained.find((m) => m.topic === 'falls/cam/person_down')!.text) as PersonDownMessage;
    expect(down.down).toBe(true);
    expect(down.people.map((p) => p.id)).toContain(fall!.id);
    const zone = JSON.parse(retained.find((m) => m.topic === 'falls/cam/zones/room')!.text) as ZoneMessage;
    expect(zone).toHaveProperty('occupied');

    // Home Assistant: the zone's occupancy and count, person down with who is down, and the event entity.
    const entities = [...ha.entities.values()];
    const byComponent = (c: string) => entities.find((e) => e.component === c);
    for (const c of ['zone_room_occupancy', 'zone_room_people', 'person_down', 'pose_event']) expect(byComponent(c), c).toBeDefined();
    expect(byComponent('person_down')!.state).toBe('on');
    expect(byComponent('person_down')!.attributes).toMatchObject({ count: down.count });
    expect(byComponent('pose_event')!.events.map((e) => e.event_type)).toContain('fall');
    expect(ha.problems).toEqual([]);
  }, 900_000);
});
