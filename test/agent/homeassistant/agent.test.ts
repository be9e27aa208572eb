// Acceptance 3 of issue 15: the real `pafcast run` on street.avi against a real Mosquitto 2, watched by a
// client that behaves like Home Assistant (support/ha-sim.ts: MQTT 5, subscribes to homeassistant/#,
// publishes the birth message, validates the discovery against the documented option names, subscribes
// to the entities' topics and renders their templates on the real messages by Home Assistant's rules).
// The board is the recorded Orin Nano tree (telemetry.root), so model and temperatures are a Jetson's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeoplePayload, StatsPayload } from '../../../src/agent/mqtt/topics.js';
import { HA_EVENT_TYPES } from '../../../src/agent/homeassistant/event-components.js';
import { readDeviceInfo } from '../../../src/telemetry/device-info.js';
import { AgentProcess, ensureBuilt, repoRoot, streetAvi, waitFor } from '../helpers/agent-process.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { HomeAssistantSim, type Entity } from './support/ha-sim.js';

const DEVICE = 'ha-cam';
const BASE = `pafcast/${DEVICE}`;
const DISCOVERY = `homeassistant/device/${DEVICE}/config`;
const BOARD = join(repoRoot, 'test/fixtures/boards/orin-nano-jp6');
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

let broker: Mosquitto;
let ha: HomeAssistantSim;
beforeAll(async () => {
  ensureBuilt();
  broker = await Mosquitto.start();
  ha = await HomeAssistantSim.connect(broker.url);
}, 300_000);
afterAll(async () => {
  await ha?.close();
  await broker?.stop();
});
afterEach(async () => {
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
});

/**
 * The agent on the looping street video. Stats only every hour and no adaptive scale: every `stats`
 * message Home Assistant gets is then one the agent sent because of its birth message.
 */
function agent(extra: string[] = []): AgentProcess {
  return new AgentProcess([
    '--source', streetAvi, '--loop', '--height', '160', '--mqtt', broker.url, '--device-id', DEVICE,
    '--set', 'inference.onnxruntime.threads=2', '--set', `telemetry.root=${BOARD}`, '--set', 'telemetry.scale.enabled=false',
    '--set', 'mqtt.stats_interval_s=3600', '--set', 'http.port=0', ...extra,
  ]);
}

/** waitFor, with the failure message built when it fails (the agent's log and the entities by then). */
async function until<T>(get: () => T | undefined | null | false, what: () => string, ms = 60_000): Promise<T> {
  try {
    return await waitFor(get, 'it', ms);
  } catch {
    throw new Error(`timed out waiting for ${what()}`);
  }
}

const withAvailability = () => [...ha.entities.values()].filter((e) => e.availability.length > 0);
const show = (e: Entity[]) => JSON.stringify(e.map((x) => ({ c: x.component, available: x.available, state: x.state })));

describe('Home Assistant discovery with the real agent', () => {
  it('appears as one valid device whose entities all read real values; unavailable on stop and on the last will; everything again after the birth message', async () => {
    const a = agent();
    await until(() => ha.discoveries.has(DISCOVERY), () => `the discovery message; agent log:\n${a.dump()}`, 120_000);
    expect(ha.problems).toEqual([]);
    // One device-based message and nothing else under the discovery prefix (no single-component topics).
    const configTopics = new Set(ha.received.filter((m) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config')).map((m) => m.topic));
    expect([...configTopics]).toEqual([DISCOVERY]);
    expect(ha.messagesOn(DISCOVERY)).toHaveLength(1);
    const discovery = ha.discoveries.get(DISCOVERY)!;
    const board = await readDeviceInfo(BOARD);
    expect(discovery.device).toMatchObject({ identifiers: ['pafcast_ha-cam'], name: `pafcast ${DEVICE}`, model: board.model, manufacturer: 'NVIDIA', sw_version: VERSION });
    expect(discovery.origin).toMatchObject({ name: 'pafcast', sw_version: VERSION });
    const ids = discovery.components.map((c) => c.config.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    // Nine of the agent itself, and the person-down sensor and pose-event entity of the events (on by default).
    expect(ids).toHaveLength(11);

    // The retained status and people arrive as Home Assistant subscribes to the entities' topics.
    await waitFor(() => withAvailability().every((e) => e.available) && ha.entity('connectivity')?.state === 'on', 'entities available', 60_000);
    await until(() => ha.entity('occupancy')?.state === 'on', () => `somebody in view; agent log:\n${a.dump()}`, 300_000);
    const people = ha.messagesOn(`${BASE}/people`).map((m) => JSON.parse(m.payload) as PeoplePayload);
    expect(ha.entity('people')!.state).toBe(String(people.at(-1)!.count));
    expect(Number(ha.entity('people')!.state)).toBeGreaterThan(0);
    // Nothing sent stats yet (hourly interval): the diagnostic sensors wait for them.
    expect(ha.messagesOn(`${BASE}/stats`)).toHaveLength(0);
    expect(ha.entity('fps')!.state).toBeNull();

    // Birth message: discovery, status, people and stats again, stats twice (at once and once Home Assistant has subscribed).
    const mark = await ha.birth();
    await waitFor(() => ha.messagesOn(`${BASE}/stats`, mark).length >= 2, 'stats after the birth message', 60_000);
    expect(ha.messagesOn(DISCOVERY, mark)).toHaveLength(1);
    expect(ha.messagesOn(DISCOVERY, mark)[0].payload).toBe(ha.messagesOn(DISCOVERY)[0].payload);
    expect(ha.messagesOn(`${BASE}/status`, mark).map((m) => m.payload)).toEqual(['online']);
    expect(ha.messagesOn(`${BASE}/people`, mark).length).toBeGreaterThanOrEqual(1);
    expect(a.lines.filter((l) => l.msg.startsWith('Home Assistant came online'))).toHaveLength(1);

    // Every entity shows what the last real message says, computed here independently of the templates.
    const stats = JSON.parse(ha.messagesOn(`${BASE}/stats`).at(-1)!.payload) as StatsPayload;
    const telemetry = stats.telemetry as { thermal: { hottest: { temp_c: number } } };
    expect(stats.fps).not.toBeNull();
    const expected: Record<string, string> = {
      people: String(JSON.parse(ha.messagesOn(`${BASE}/people`).at(-1)!.payload).count),
      occupancy: JSON.parse(ha.messagesOn(`${BASE}/people`).at(-1)!.payload).count > 0 ? 'on' : 'off',
      connectivity: 'on',
      fps: String(stats.fps),
      inference_ms: String(stats.stages.inference.median_ms),
      latency_ms: String(stats.latency_ms.median),
      net_height: '160',
      hottest_temperature: String(telemetry.thermal.hottest.temp_c),
      backend: `${stats.backend!.backend} ${stats.backend!.provider}${stats.backend!.precision ? ` ${stats.backend!.precision}` : ''}`,
      person_down: JSON.parse(ha.messagesOn(`${BASE}/person_down`).at(-1)!.payload).down ? 'on' : 'off',
    };
    // The event entity has a state only once a momentary event (a wave, say) fired on the street clip.
    const lastEvent = ha.messagesOn(`${BASE}/events`).filter((m) => !m.retain).map((m) => JSON.parse(m.payload) as { type: string })
      .filter((e) => (HA_EVENT_TYPES as readonly string[]).includes(e.type)).at(-1);
    expected.pose_event = lastEvent ? lastEvent.type : (null as unknown as string);
    expect(Object.fromEntries([...ha.entities.values()].map((e) => [e.component, e.state]))).toEqual(expected);
    expect(expected.backend).toMatch(/^onnxruntime cpu/);
    expect(Number(expected.hottest_temperature)).toBeGreaterThan(30);
    for (const e of ha.entities.values()) if (e.component !== 'pose_event' || lastEvent) expect(e.updates, e.component).toBeGreaterThan(0);
    expect(ha.problems).toEqual([]);

    // Clean stop: `stopped` makes every entity unavailable; the connectivity sensor stays and says disconnected.
    expect(await a.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await waitFor(() => ha.messagesOn(`${BASE}/status`).at(-1)?.payload === 'stopped', 'stopped');
    expect(withAvailability().filter((e) => e.available)).toEqual([]);
    expect(ha.entity('connectivity')).toMatchObject({ available: true, state: 'off' });
    // The device stays in Home Assistant (retained discovery), unavailable, until the agent comes back.
    expect(ha.discoveries.has(DISCOVERY)).toBe(true);

    // Back, then killed: the broker's last will `offline` does the same.
    const b = agent();
    await until(() => withAvailability().every((e) => e.available), () => `entities available again; ${show(withAvailability())}; log:\n${b.dump()}`, 120_000);
    expect(ha.entity('connectivity')!.state).toBe('on');
    await b.kill('SIGKILL');
    await waitFor(() => ha.messagesOn(`${BASE}/status`).at(-1)?.payload === 'offline', 'offline (last will)');
    expect(withAvailability().filter((e) => e.available)).toEqual([]);
    expect(ha.entity('connectivity')).toMatchObject({ available: true, state: 'off' });
    expect(ha.problems).toEqual([]);
  }, 600_000);

  it('turns off and on again live (SIGHUP), answers the birth message after that, and a run with it off deletes what a previous run left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-ha-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ homeassistant: { enabled: true, name: 'Hall camera' } }));
    const a = agent(['--config', file]);
    await until(() => a.lines.some((l) => l.msg === 'Home Assistant discovery published'), () => `discovery published; log:\n${a.dump()}`, 120_000);
    await waitFor(() => ha.discoveries.get(DISCOVERY)?.device.name === 'Hall camera', 'the named device');

    const off = ha.lastSeq;
    writeFileSync(file, JSON.stringify({ homeassistant: { enabled: false, name: 'Hall camera' } }));
    a.proc.kill('SIGHUP');
    await waitFor(() => ha.messagesOn(DISCOVERY, off).some((m) => m.payload === ''), 'the discovery deleted');
    expect(ha.discoveries.has(DISCOVERY)).toBe(false);
    expect(ha.entities.size).toBe(0);
    // Off means off: a birth message is not answered.
    const quiet = await ha.birth();
    await waitFor(() => a.lines.some((l) => l.msg === 'SIGHUP: config file re-read'), 'the reload');
    await new Promise((r) => setTimeout(r, 3000));
    expect(ha.messagesOn(DISCOVERY, quiet)).toHaveLength(0);

    writeFileSync(file, JSON.stringify({ homeassistant: { enabled: true, name: 'Hall camera' } }));
    a.proc.kill('SIGHUP');
    await waitFor(() => ha.discoveries.has(DISCOVERY), 'the discovery back');
    await until(() => withAvailability().every((e) => e.available), () => `entities available; ${show(withAvailability())}`);
    const mark = await ha.birth();
    await waitFor(() => ha.messagesOn(DISCOVERY, mark).length === 1 && ha.messagesOn(`${BASE}/stats`, mark).length >= 1, 'the birth answered after the restart', 60_000);
    expect(ha.problems).toEqual([]);
    expect(await a.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(ha.discoveries.has(DISCOVERY)).toBe(true);

    // A later run with discovery off removes the device the earlier run left.
    const gone = ha.lastSeq;
    const b = agent(['--set', 'homeassistant.enabled=false']);
    await until(() => ha.messagesOn(DISCOVERY, gone).some((m) => m.payload === ''), () => `the leftover deleted; log:\n${b.dump()}`, 120_000);
    expect(ha.discoveries.has(DISCOVERY)).toBe(false);
    expect(await b.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(ha.problems).toEqual([]);
  }, 600_000);
});
