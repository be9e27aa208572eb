// Issue 13, acceptance 2: after a real `config/set` that restarts each module (pipeline, preview,
// telemetry, remote, stats), the agent answers exactly once with what was applied and restarted,
// and then everything still works: a WHEP offer gets 201 and frames reach a viewer, /metrics frame
// counters advance and agree with the MQTT `stats` figures, poses keep flowing, and the sd_notify
// watchdog keeps being fed. Real agent process, real Mosquitto, a real notify socket.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateResult } from '../../src/agent/remote/config-updates.js';
import type { StatsPayload } from '../../src/agent/mqtt/topics.js';
import { AgentProcess, ensureBuilt, streetAvi, waitFor } from './helpers/agent-process.js';
import { freePort, Mosquitto } from './helpers/mosquitto.js';
import { buildAddon, FakeSystemd } from './notify/notify-socket.js';
import { connectViewer } from './preview/support/viewer.js';

const work = mkdtempSync(join(tmpdir(), 'pafcast-matrix-'));
let broker: Mosquitto;
let systemd: FakeSystemd;
let agent: AgentProcess;
let client: MqttClient;
let httpPort: number;
const base = 'pafcast/matrix';
const results: UpdateResult[] = [];
const stats: Array<{ at: number; s: StatsPayload }> = [];
let poses = 0;
const zoneTopics = new Set<string>();

beforeAll(async () => {
  ensureBuilt();
  broker = await Mosquitto.start();
  const addon = buildAddon(work);
  systemd = new FakeSystemd(join(work, 'notify.sock'));
  await systemd.bound;
  httpPort = await freePort();
  const configFile = join(work, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      source: { uri: streetAvi, loop: true },
      inference: { height: 160, onnxruntime: { threads: 2 } },
      mqtt: { url: broker.url, device_id: 'matrix', stats_interval_s: 1 },
      http: { host: '127.0.0.1', port: httpPort },
      preview: { enabled: true, width: 320, height: 180, fps: 10 },
      telemetry: { tegrastats: 'off', interval_ms: 500, scale: { enabled: false } },
      remote: { allow_unsigned: true, state_file: join(work, 'state.json') },
    }),
  );
  client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 200 });
  client.on('message', (topic, payload) => {
    if (topic === `${base}/config/result`) results.push(JSON.parse(payload.toString()) as UpdateResult);
    else if (topic === `${base}/stats`) stats.push({ at: Date.now(), s: JSON.parse(payload.toString()) as StatsPayload });
    else if (topic === `${base}/poses`) poses++;
    else if (topic.startsWith(`${base}/zones/`)) zoneTopics.add(topic);
  });
  await client.subscribeAsync([`${base}/config/result`, `${base}/stats`, `${base}/poses`, `${base}/zones/+`], { qos: 1 });
  agent = new AgentProcess(['--config', configFile], { NOTIFY_SOCKET: systemd.path, WATCHDOG_USEC: '3000000', PAFCAST_SD_NOTIFY_ADDON: addon });
  await waitFor(() => poses >= 3 || (!agent.alive && 'dead'), 'the first poses', 120_000);
  expect(agent.alive, agent.dump()).toBe(true);
}, 300_000);

afterAll(async () => {
  await agent?.kill('SIGKILL');
  await client?.endAsync(true);
  systemd?.close();
  await broker?.stop();
  rmSync(work, { recursive: true, force: true });
});

const metricValue = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const watchdogPings = () => systemd.messages.filter((m) => m === 'WATCHDOG=1').length;

/** Everything a user relies on still works: checked after every restart. */
async function expectEverythingWorks(what: string): Promise<void> {
  const posesBefore = poses;
  const pingsBefore = watchdogPings();

  // The live view: a real offer, 201, frames arriving.
  const viewer = await connectViewer(`http://127.0.0.1:${httpPort}/whep/live`);
  try {
    expect(viewer.status, `${what}: ${viewer.body}`).toBe(201);
    await viewer.waitForFrames(5, 30_000);
  } finally {
    await viewer.close();
  }

  // /metrics and `stats` count the same frames: the scrape lies between the stats messages around it.
  const statsBefore = stats.length;
  const scrape = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const scrapedAt = Date.now();
  const scraped = metricValue(scrape, 'pafcast_frames_total');
  const prior = stats.filter((x) => x.at <= scrapedAt).at(-1)!;
  await waitFor(() => stats.length > statsBefore && stats.at(-1)!.at > scrapedAt, `${what}: a stats message after the scrape`, 15_000);
  const after = stats.find((x) => x.at > scrapedAt)!;
  expect(scraped, what).toBeGreaterThanOrEqual(prior.s.frames);
  expect(scraped, what).toBeLessThanOrEqual(after.s.frames);
  expect(metricValue(scrape, 'pafcast_net_input_height_pixels'), what).toBe(after.s.net!.height);
  expect(metricValue(scrape, 'pafcast_net_input_width_pixels'), what).toBe(after.s.net!.width);
  expect(scrape, what).toContain('pafcast_mqtt_connected 1');
  const later = await (async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return metricValue(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(), 'pafcast_frames_total');
  })();
  expect(later, `${what}: frame counter advances`).toBeGreaterThan(scraped);
  expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, what).toBe(200);

  // Poses flow and the watchdog is fed.
  await waitFor(() => poses > posesBefore + 3, `${what}: poses after the restart`, 30_000);
  await waitFor(() => watchdogPings() > pingsBefore, `${what}: watchdog pings after the restart`, 30_000);
}

async function configSet(requestId: string, patch: Record<string, unknown>): Promise<UpdateResult> {
  const before = results.length;
  await client.publishAsync(`${base}/config/set`, JSON.stringify({ request_id: requestId, patch }), { qos: 1 });
  await waitFor(() => results.slice(before).find((r) => r.request_id === requestId), `the answer to ${requestId}`, 60_000);
  // Exactly one answer: nothing else arrives for it.
  await new Promise((r) => setTimeout(r, 1500));
  const answers = results.slice(before).filter((r) => r.request_id === requestId);
  expect(answers, requestId).toHaveLength(1);
  return answers[0]!;
}

describe('the restart matrix', () => {
  it('works before any change', async () => {
    await expectEverythingWorks('at start');
  }, 120_000);

  const cases: Array<[string, Record<string, unknown>, string[], string[]]> = [
    ['pipeline', { source: { fps_cap: 12 } }, ['source.fps_cap'], ['pipeline', 'preview', 'telemetry', 'notify', 'events']],
    ['preview', { preview: { fps: 8 } }, ['preview.fps'], ['preview']],
    ['telemetry', { telemetry: { interval_ms: 700 } }, ['telemetry.interval_ms'], ['telemetry']],
    ['remote', { mqtt: { qos: { config: 0 } } }, ['mqtt.qos.config'], ['remote']],
    ['stats', { mqtt: { stats_interval_s: 1.5 } }, ['mqtt.stats_interval_s'], ['stats']],
    ['events', { events: { zones: [{ name: 'door', polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]] }] } }, ['events.zones'], ['events']],
    ['homeassistant', { homeassistant: { name: 'Matrix camera' } }, ['homeassistant.name'], ['homeassistant']],
  ];
  it.each(cases)('restarts %s: one answer, and every endpoint and topic still works', async (module, patch, applied, restarted) => {
    const r = await configSet(`restart-${module}`, patch);
    expect(r).toEqual({ request_id: `restart-${module}`, ok: true, errors: [], applied, restarted, restart_required: [] });
    await expectEverythingWorks(`after restarting ${module}`);
    // The restarted events module publishes the new zone's retained state.
    if (module === 'events') await waitFor(() => zoneTopics.has(`${base}/zones/door`), 'the new zone on MQTT', 15_000);
  }, 180_000);

  it('still answers remote config after its own restart, and reports agent-restart keys', async () => {
    const r = await configSet('after-remote', { http: { port: httpPort + 1 } });
    expect(r).toMatchObject({ ok: false });
    expect(r.errors[0]).toMatch(/http\.port: changes who can reach the device and needs a signed update/);
    const live = await configSet('live-key', { mqtt: { decimals: 2 } });
    expect(live).toMatchObject({ ok: true, applied: ['mqtt.decimals'], restarted: [] });
  }, 60_000);
});
