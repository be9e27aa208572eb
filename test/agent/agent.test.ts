// The agent core in-process: embedded broker by default, one failing module does not stop the rest,
// clean stop says `stopped`.
import mqtt from 'mqtt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Agent, type AgentModule } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/agent/config/load.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/mosquitto.js';
import { repoRoot, waitFor } from './helpers/agent-process.js';

describe('Agent', () => {
  it('starts the embedded broker when no URL is set and keeps going when modules fail to start', async () => {
    const port = await freePort();
    // A known model whose file is nowhere: the pipeline cannot start, everything else must.
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-agent-'));
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'models', 'lightweight-openpose-coco18.json'), 'utf8'));
    const manifestPath = join(dir, 'absent.json');
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, $schema: undefined, name: 'absent-model', file: 'absent-model.onnx' }));
    const { config, errors } = loadConfig({
      env: {},
      flags: { 'broker.port': port, 'mqtt.device_id': 'core', 'inference.model': manifestPath, 'source.uri': 'test://' },
    });
    expect(errors).toEqual([]);
    const logged: Array<{ level: number; msg: string; module?: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const order: string[] = [];
    const probe = (name: string, fail = false): AgentModule => ({
      name,
      start: async () => {
        if (fail) throw new Error(`${name} cannot start`);
        order.push(`start ${name}`);
      },
      stop: async () => void order.push(`stop ${name}`),
    });
    const agent = new Agent(config, log, { extraModules: () => [probe('first'), probe('broken', true), probe('last')] });
    await agent.start();

    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    const got: string[] = [];
    sub.on('message', (t, p) => got.push(`${t} ${t.endsWith('/config') ? JSON.parse(p.toString()).mqtt.device_id : p.toString()}`));
    await sub.subscribeAsync('pafcast/core/#', { qos: 1 });
    await waitFor(() => got.length >= 2, 'retained status and config');
    expect(got).toContain('pafcast/core/status online');
    expect(got).toContain('pafcast/core/config core');

    // A module that failed half-way is stopped at once, so what it started does not linger.
    expect(order).toEqual(['start first', 'stop broken', 'start last']);
    const failures = logged.filter((l) => l.level === 50).map((l) => l.msg);
    expect(failures.some((m) => m.startsWith('module pipeline failed to start'))).toBe(true);
    expect(failures.some((m) => m.startsWith('module broken failed to start'))).toBe(true);

    // A live change: what can apply now does; the stats interval restarts the stats module; pipeline
    // keys restart the pipeline (which fails again here, so they are reported as not in effect); the
    // broker port needs a process restart.
    const next = structuredClone(agent.services.config);
    next.mqtt.qos.poses = 1;
    next.mqtt.stats_interval_s = 5;
    next.broker.port = port + 1;
    next.tracking.enabled = false;
    next.inference.backend = 'onnxruntime';
    const change = await agent.applyLive(next);
    expect(change.applied.sort()).toEqual(['mqtt.qos.poses', 'mqtt.stats_interval_s']);
    expect(change.restarted).toEqual(['stats']);
    expect(change.restart).toEqual([
      { path: 'broker.port', scope: 'agent' },
      { path: 'inference.backend', scope: 'pipeline' },
      { path: 'tracking.enabled', scope: 'pipeline' },
    ]);
    expect(agent.services.config.mqtt.qos.poses).toBe(1);

    await agent.stop();
    expect(order).toEqual(['start first', 'stop broken', 'start last', 'stop last', 'stop first']);
    await waitFor(() => got.includes('pafcast/core/status stopped'), 'stopped');
    sub.end(true);
  });
});
