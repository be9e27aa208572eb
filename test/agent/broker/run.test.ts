// `pafcast run` with no mqtt.url, as a real process (issue 15, acceptance 1): with Mosquitto
// installed it runs it as a managed child and MQTT 5 and 3.1.1 subscribers both get poses; kill -9
// of that Mosquitto gets it restarted and the agent back; the agent's exit, clean or SIGKILL, takes
// it along. With Mosquitto off the PATH the aedes fallback starts with its one warning.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, ensureBuilt, waitFor } from '../helpers/agent-process.js';
import { MosquittoSub, alive, freePort, retainedValue, runClient } from './helpers.js';

const PREFIX = 'brun';
const DEVICE = 'cam';
const BASE = `${PREFIX}/${DEVICE}`;

beforeAll(() => ensureBuilt(), 300_000);
const subs: MosquittoSub[] = [];
afterEach(async () => {
  for (const s of subs.splice(0)) s.stop();
  await Promise.all(AgentProcess.all.map((a) => a.kill('SIGKILL')));
});

function agentArgs(port: number): string[] {
  return [
    '--source', 'test://?size=320x240&rate=10', '--prefix', PREFIX, '--device-id', DEVICE, '--height', '160',
    '--set', `broker.port=${port}`, '--set', 'http.enabled=false', '--set', 'inference.onnxruntime.threads=1',
  ];
}

function sub(port: number, args: string[]): MosquittoSub {
  const s = new MosquittoSub(port, args);
  subs.push(s);
  return s;
}

const poses = (s: MosquittoSub) => s.lines().filter((l) => l.startsWith(`${BASE}/poses {`));

describe('pafcast run with the embedded broker', () => {
  it('runs Mosquitto: MQTT 5 and 3.1.1 subscribers get poses, kill -9 is survived, and no Mosquitto outlives the agent', async () => {
    const port = await freePort();
    const agent = new AgentProcess(agentArgs(port));
    const running = await agent.waitForLog((l) => l.msg === 'managed Mosquitto running', 'the managed Mosquitto', 120_000);
    const pid = running.mosquitto_pid as number;
    expect(alive(pid)).toBe(true);
    await agent.waitForLog((l) => l.msg === 'embedded MQTT broker listening (mosquitto)', 'the engine line');

    const v5 = sub(port, ['-V', 'mqttv5', '-t', `${BASE}/poses`, '-t', `${BASE}/status`]);
    const v311 = sub(port, ['-V', 'mqttv311', '-t', `${BASE}/poses`, '-t', `${BASE}/status`]);
    await waitFor(() => poses(v5).length >= 3 && poses(v311).length >= 3, `poses at both subscribers; log:\n${agent.dump()}`, 120_000);
    expect(v5.lines()).toContain(`${BASE}/status online`);
    expect(v311.lines()).toContain(`${BASE}/status online`);
    // The agent connects with MQTT 5 (no fallback line) and its poses carry v5 properties.
    expect(agent.lines.filter((l) => /does not speak MQTT 5/.test(l.msg))).toEqual([]);
    const props = await runClient('mosquitto_sub', ['-p', String(port), '-V', 'mqttv5', '-t', `${BASE}/poses`, '-C', '1', '-W', '10', '-F', '%C']);
    expect(props.stdout.trim()).toBe('application/json');

    process.kill(pid, 'SIGKILL');
    await agent.waitForLog((l) => /managed Mosquitto was killed by SIGKILL; restarting it/.test(l.msg), 'the restart warning');
    const again = await agent.waitForLog((l) => l.msg === 'managed Mosquitto running again', 'the restarted Mosquitto');
    expect(again.mosquitto_pid).not.toBe(pid);
    const after = sub(port, ['-V', 'mqttv5', '-t', `${BASE}/poses`]);
    await waitFor(() => poses(after).length >= 2, `poses after the restart; log:\n${agent.dump()}`, 60_000);
    expect(await retainedValue(port, `${BASE}/status`, ['-V', 'mqttv5'])).toBe('online');

    const end = await agent.kill('SIGTERM');
    expect(end.code).toBe(0);
    expect(alive(again.mosquitto_pid as number)).toBe(false);
  });

  it('takes its Mosquitto along when the agent is killed with SIGKILL', async () => {
    const port = await freePort();
    const agent = new AgentProcess(agentArgs(port));
    const running = await agent.waitForLog((l) => l.msg === 'managed Mosquitto running', 'the managed Mosquitto', 120_000);
    await agent.kill('SIGKILL');
    await waitFor(() => !alive(running.mosquitto_pid as number), 'Mosquitto to end with the agent', 10_000);
  });

  it('falls back to aedes with one warning when Mosquitto is not on the PATH', async () => {
    const port = await freePort();
    // /usr/sbin (where Debian puts mosquitto) left out; node, ffmpeg and gst-launch-1.0 are in /usr/bin.
    const agent = new AgentProcess(agentArgs(port), { PATH: '/usr/bin:/bin' });
    await agent.waitForLog((l) => l.msg === 'embedded MQTT broker listening (aedes)', 'the aedes broker', 120_000);
    const v311 = sub(port, ['-V', 'mqttv311', '-t', `${BASE}/poses`]);
    await waitFor(() => poses(v311).length >= 3, `poses at the 3.1.1 subscriber; log:\n${agent.dump()}`, 120_000);
    const v5 = await runClient('mosquitto_sub', ['-p', String(port), '-V', 'mqttv5', '-t', `${BASE}/poses`, '-C', '1', '-W', '5']);
    expect(v5.status).not.toBe(0);
    const warnings = agent.lines.filter((l) => l.level === 'warn');
    const about = warnings.filter((l) => /MQTT 3\.1\.1|MQTT 5/.test(l.msg));
    expect(about.map((l) => l.msg)).toEqual([expect.stringMatching(/no mosquitto on PATH; \/usr\/sbin\/mosquitto exists .* it runs aedes, which speaks MQTT 3\.1\.1 only: MQTT 5 clients and Home Assistant 2027\.1 and later cannot connect/)]);
  });
});
