// `pafcast run` end to end against a real Mosquitto (acceptance 1 and 3 of issue 3): poses that
// match what the pose runtime finds on the same frames, status online → stopped / offline, a
// broker restart mid-run, and sources that fail.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PoseRuntime } from '../../src/runtime/pose-runtime.js';
import type { RawFrame } from '../../src/runtime/types.js';
import type { PosesPayload, StatsPayload } from '../../src/agent/mqtt/topics.js';
import { WhepClient } from '../../src/agent/preview/whep-client.js';
import { AgentProcess, ensureBuilt, streetAvi, waitFor } from './helpers/agent-process.js';
import { Mosquitto } from './helpers/mosquitto.js';

// Same net size and threads in the agent and the reference runtime.
const HEIGHT = 256;
const COMMON = ['--height', String(HEIGHT), '--set', 'inference.onnxruntime.threads=2'];

interface Message {
  topic: string;
  text: string;
}

class Subscriber {
  readonly messages: Message[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.messages.push({ topic, text: payload.toString() }));
  }
  static async connect(url: string, topic: string, opts: mqtt.IClientOptions = {}): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, ...opts });
    const sub = new Subscriber(client);
    await client.subscribeAsync(topic, { qos: 1 });
    return sub;
  }
  on(suffix: string): Message[] {
    return this.messages.filter((m) => m.topic.endsWith(`/${suffix}`));
  }
  json<T>(suffix: string): T[] {
    return this.on(suffix).map((m) => JSON.parse(m.text) as T);
  }
  statuses(): string[] {
    return this.on('status').map((m) => m.text);
  }
}

/** Frame `n` (0-based) of a video decoded by ffmpeg on its own, BGR at native size. */
function decodeFrame(path: string, n: number, width: number, height: number): RawFrame {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'bgr24', 'pipe:1'], {
    maxBuffer: width * height * 3 + 1024,
  });
  if (r.status !== 0 || r.stdout.length !== width * height * 3) throw new Error(`ffmpeg could not decode frame ${n}: ${r.stderr}`);
  return { data: new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length), width, height, order: 'bgr' };
}

let broker: Mosquitto;
beforeAll(async () => {
  ensureBuilt();
  broker = await Mosquitto.start(true);
}, 300_000);
afterAll(async () => {
  await broker?.stop();
});
// A failed test must not leave its agent running into the next one.
afterEach(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
});

describe('pafcast run', () => {
  it('refuses an invalid configuration with every problem on stderr and exit code 2', async () => {
    const agent = new AgentProcess(['--set', 'mqtt.qos.poses=3', '--height', 'tall', '--set', 'mqtt.bogus=1']);
    expect((await agent.exited).code).toBe(2);
    expect(agent.stderr).toContain('mqtt.qos.poses: must be 0, 1 or 2 (got "3")');
    expect(agent.stderr).toContain('inference.height: must be an integer (got "tall")');
    expect(agent.stderr).toContain('mqtt.bogus: unknown key (from command line)');
  });

  it('prints the effective config with flags, environment and redacted secrets', async () => {
    const agent = new AgentProcess(['--print-config', '--source', 'test://', '--loop', '--prefix', 'site/cams'], { PAFCAST_MQTT_PASSWORD: 'hunter2', PAFCAST__MQTT__QOS__POSES: '1' });
    expect((await agent.exited).code).toBe(0);
    const out = agent.stdout;
    const printed = JSON.parse(out);
    expect(printed.source).toMatchObject({ uri: 'test://', loop: true });
    expect(printed.mqtt).toMatchObject({ prefix: 'site/cams', password: '***', qos: { poses: 1 } });
    expect(out).not.toContain('hunter2');
  });

  it('publishes the poses the runtime finds on the same frames; online → stopped on SIGTERM', async () => {
    const sub = await Subscriber.connect(broker.url, 'itest1/dev/#');
    const agent = new AgentProcess([
      '--source', streetAvi, '--every-frame', '--set', 'source.output_height=0',
      '--mqtt', broker.url, '--prefix', 'itest1', '--device-id', 'dev', '--set', 'mqtt.qos.poses=1', ...COMMON,
    ]);
    const poses = await waitFor(() => {
      const p = sub.json<PosesPayload>('poses');
      return p.length >= 12 && p;
    }, 'twelve poses messages', 300_000);
    expect(sub.statuses()[0]).toBe('online');
    const exit = await agent.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    await waitFor(() => sub.statuses().includes('stopped'), 'stopped status');
    expect(sub.statuses().at(-1)).toBe('stopped');

    // Every frame of the file, in order, with the documented fields.
    expect(poses.slice(0, 12).map((p) => p.frame)).toEqual([...Array(12).keys()]);
    for (const p of poses) {
      expect(p.source).toEqual({ width: 1280, height: 720 });
      expect(p.net.height).toBe(HEIGHT);
      expect(p.model).toBe('lightweight-openpose-coco18');
      expect(p.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(sub.json<{ count: number }>('people').length).toBeGreaterThan(0);

    // The reference: the same frames decoded independently and run through PoseRuntime here.
    const runtime = await PoseRuntime.create({ heights: [HEIGHT], inference: { onnxruntime: { providers: ['cpu'], threads: 2 } } });
    let comparedPeople = 0;
    for (const n of [0, 5, 11]) {
      const ref = await runtime.estimate(decodeFrame(streetAvi, n, 1280, 720), HEIGHT);
      const got = poses.find((p) => p.frame === n)!;
      expect(got.people).toHaveLength(ref.people.length);
      ref.people.forEach((person, i) => {
        const kp = got.people[i].pose_keypoints_2d;
        expect(kp).toHaveLength(person.keypoints.length);
        expect(got.people[i].score).toBeCloseTo(person.score, 2);
        // Published confidences are clamped to 1 (the net's peaks can exceed it slightly).
        for (let j = 0; j < kp.length; j += 3) {
          expect(Math.abs(kp[j] - person.keypoints[j])).toBeLessThan(0.5);
          expect(Math.abs(kp[j + 1] - person.keypoints[j + 1])).toBeLessThan(0.5);
          expect(Math.abs(kp[j + 2] - Math.min(1, person.keypoints[j + 2]))).toBeLessThan(0.01);
        }
        comparedPeople++;
      });
    }
    expect(comparedPeople).toBeGreaterThan(5);
    await runtime.dispose();
    await sub.client.endAsync();
  }, 600_000);

  it('leaves status offline (last will) when killed with SIGKILL', async () => {
    const sub = await Subscriber.connect(broker.url, 'itest2/dev/status');
    const agent = new AgentProcess(['--source', 'test://', '--mqtt', broker.url, '--prefix', 'itest2', '--device-id', 'dev', ...COMMON]);
    await waitFor(() => sub.statuses().includes('online'), 'online', 120_000);
    await agent.kill('SIGKILL');
    await waitFor(() => sub.statuses().includes('offline'), 'offline from the last will');
    expect(sub.statuses()).not.toContain('stopped');
    await sub.client.endAsync();
  }, 200_000);

  it('survives a broker restart: reconnects, delivers the queued poses in order and counts drops in stats', async () => {
    // A persistent session: the broker keeps what arrives for this subscriber while it is away.
    const sub = await Subscriber.connect(broker.url, 'itest3/dev/#', { clientId: 'pafcast-itest3', clean: false });
    const agent = new AgentProcess([
      '--source', streetAvi, '--loop', '--mqtt', broker.url, '--prefix', 'itest3', '--device-id', 'dev',
      '--set', 'mqtt.qos.poses=1', '--set', 'mqtt.qos.stats=1', '--set', 'mqtt.queue_max=3', '--set', 'mqtt.stats_interval_s=0.5',
      '--set', 'mqtt.reconnect.min_ms=500', '--set', 'mqtt.reconnect.max_ms=1000', ...COMMON,
    ]);
    await waitFor(() => sub.on('poses').length >= 3, 'poses before the restart', 300_000);
    const before = sub.on('poses').length;

    await broker.stop();
    await agent.waitForLog((l) => l.msg.includes('connection lost'), 'the agent noticing the broker is gone');
    // Let more frames than the queue holds pass while the broker is away.
    await new Promise((r) => setTimeout(r, 4000));
    expect(agent.alive).toBe(true);
    await broker.start();

    await agent.waitForLog((l) => l.msg === 'sent messages queued while offline', 'the queue being flushed', 120_000);
    const statsWithDrops = await waitFor(
      () => sub.json<StatsPayload>('stats').find((s) => s.mqtt.dropped > 0),
      'a stats message reporting drops',
      120_000,
    );
    await waitFor(() => sub.on('poses').length >= before + 3, 'poses after the restart', 120_000);
    expect(agent.alive).toBe(true);
    expect(statsWithDrops.mqtt.dropped).toBeGreaterThan(0);
    expect(statsWithDrops.mqtt.reconnects).toBeGreaterThan(0);

    // QoS 1 is at-least-once: a message in flight when the broker died is sent again after the
    // reconnect, so a frame may repeat. Every frame seen for the first time must be newer than all before: by capture
    // time, since `frame` starts again at 0 on each pass of the looping clip (4.1 s, shorter than this test).
    const seen = new Set<number>();
    const firstSeen = sub.json<PosesPayload>('poses').map((p) => p.ts).filter((ts) => !seen.has(ts) && seen.add(ts));
    expect(firstSeen.length).toBeGreaterThan(before);
    for (let i = 1; i < firstSeen.length; i++) expect(firstSeen[i]).toBeGreaterThan(firstSeen[i - 1]);

    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await sub.client.endAsync();
  }, 600_000);

  it('exits 0 on SIGTERM with the live view streaming to a viewer', async () => {
    const agent = new AgentProcess([
      '--source', streetAvi, '--loop', '--mqtt', broker.url, '--prefix', 'itest5', '--device-id', 'dev', ...COMMON,
      '--set', 'preview.enabled=true', '--set', 'http.port=0', '--log-level', 'info',
    ]);
    const listening = await waitFor(() => agent.lines.find((l) => l.msg === 'http server listening'), `http listening; log:\n${agent.dump()}`, 120_000);
    // The WHEP route exists once the live view has chosen its encoder (it probes GStreamer first).
    await waitFor(() => agent.lines.some((l) => l.msg === 'preview ready'), `preview ready; log:\n${agent.dump()}`, 120_000);
    const viewer = await WhepClient.connect(`http://127.0.0.1:${listening.port as number}/whep/live`);
    expect(viewer.status).toBe(201);
    await waitFor(() => viewer.frames >= 3, `three frames at the viewer; log:\n${agent.dump()}`, 120_000);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await viewer.close(false);
  }, 300_000);

  it.each([
    ['a missing camera device', () => '/dev/video9'],
    [
      'a corrupt video file',
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'pafcast-corrupt-'));
        const path = join(dir, 'corrupt.avi');
        // A real AVI header followed by garbage: the demuxer starts, the decoder fails.
        writeFileSync(path, Buffer.concat([readFileSync(streetAvi).subarray(0, 4096), Buffer.alloc(200_000, 0x5a)]));
        return path;
      },
    ],
  ])('keeps running with %s: logs a clear error and retries', async (_what, source) => {
    const sub = await Subscriber.connect(broker.url, 'itest4/dev/status');
    const agent = new AgentProcess(['--source', source(), '--mqtt', broker.url, '--prefix', 'itest4', '--device-id', 'dev', ...COMMON, '--set', 'source.retry.min_ms=200', '--set', 'source.retry.max_ms=400']);
    const errors = () => agent.lines.filter((l) => l.level === 'error' && l.module === 'capture');
    await waitFor(() => errors().length >= 2, `two capture errors (a retry); log:\n${agent.dump()}`, 120_000);
    expect(errors()[0].msg).toMatch(/^capture: .+/);
    expect(errors()[0].retry_in_ms).toBeGreaterThan(0);
    expect(agent.alive).toBe(true);
    await waitFor(() => sub.statuses().includes('online'), 'online');
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await waitFor(() => sub.statuses().at(-1) === 'stopped', `stopped (statuses so far: ${sub.statuses().join(', ')}); log:\n${agent.dump()}`);
    await sub.client.endAsync();
  }, 200_000);
});
