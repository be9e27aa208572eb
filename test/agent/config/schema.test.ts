import { describe, expect, it } from 'vitest';
import { AgentConfigSchema, changedPaths, keyPolicy, leafPaths, redactConfig, schemaAt, secretPaths } from '../../../src/agent/config/schema.js';
import { unusedRules } from '../../../src/agent/config/policy.js';
import { defaultConfig } from '../../../src/agent/config/load.js';

describe('key policy', () => {
  it('resolves for every leaf of the schema, and is written onto the leaf itself', () => {
    const paths = leafPaths();
    expect(paths).toContain('mqtt.qos.status');
    for (const p of paths) {
      const policy = keyPolicy(p);
      const node = schemaAt(p)!.at(-1) as { apply?: string; remote?: string };
      expect({ apply: node.apply, remote: node.remote }, p).toEqual(policy);
    }
  });

  it('has no rule for a key the schema does not have (a typo would protect nothing)', () => {
    expect(unusedRules(leafPaths())).toEqual([]);
  });

  it('keeps every key that names a program, an argument vector, a file or a directory local-only', () => {
    // Caught by name or by description, so a new key of that kind cannot slip in as remote-changeable.
    const byName = /(^|[._])(path|paths|file|dir|pipeline|program|binary|root|key|cert|ca|trtexec|uri)$/;
    const byText = /\b(file|directory|argv|program|path)\b/i;
    const risky: string[] = [];
    for (const p of leafPaths()) {
      const node = schemaAt(p)!.at(-1) as { type?: string; description?: string; secret?: boolean };
      const stringish = node.type === 'string' || node.type === 'array';
      if (!stringish) continue;
      if (byName.test(p) || (byText.test(node.description ?? '') && !/topic/i.test(p))) risky.push(p);
    }
    expect(risky.length).toBeGreaterThan(8);
    const notLocal = risky.filter((p) => keyPolicy(p).remote !== 'local-only');
    // Reviewed exceptions: strings whose description mentions files but that name none.
    const reviewed = new Set(['mqtt.url', 'mqtt.client_id', 'mqtt.username', 'mqtt.password', 'http.token', 'http.host', 'mqtt.prefix', 'mqtt.device_id', 'broker.host', 'telemetry.thermal.zones']);
    expect(notLocal.filter((p) => !reviewed.has(p))).toEqual([]);
  });

  it('puts the connection and reachability keys behind a signature and remote config out of reach', () => {
    expect(keyPolicy('source.pipeline')).toEqual({ apply: 'pipeline', remote: 'local-only' });
    expect(keyPolicy('remote.public_key').remote).toBe('local-only');
    expect(keyPolicy('remote.allow_unsigned').remote).toBe('local-only');
    expect(keyPolicy('mqtt.url')).toEqual({ apply: 'agent', remote: 'signed-only' });
    expect(keyPolicy('http.host').remote).toBe('signed-only');
    expect(keyPolicy('broker.port').remote).toBe('signed-only');
    expect(keyPolicy('mqtt.tls.ca').remote).toBe('local-only');
    expect(keyPolicy('inference.height')).toEqual({ apply: 'live', remote: 'any' });
    expect(keyPolicy('mqtt.qos.poses')).toEqual({ apply: 'live', remote: 'any' });
    expect(keyPolicy('mqtt.stats_interval_s').apply).toBe('stats');
    expect(keyPolicy('telemetry.interval_ms').apply).toBe('telemetry');
  });

  it('throws for keys that are not in the schema', () => {
    expect(() => keyPolicy('mqtt.nope')).toThrow(/unknown config key "mqtt.nope"/);
    expect(AgentConfigSchema.properties.mqtt).toBeDefined();
  });
});

describe('secrets', () => {
  it('are found from the schema and redacted in a copy', () => {
    expect(secretPaths).toContain('mqtt.password');
    expect(secretPaths).toContain('http.token');
    const c = defaultConfig();
    c.mqtt.password = 'hunter2';
    const red = redactConfig(c);
    expect(red.mqtt.password).toBe('***');
    expect(red.http.token).toBe('');
    expect(c.mqtt.password).toBe('hunter2');
    expect(JSON.stringify(red)).not.toContain('hunter2');
  });
});

describe('changedPaths', () => {
  it('lists the leaf keys that differ, arrays as whole values', () => {
    const a = defaultConfig();
    const b = defaultConfig();
    expect(changedPaths(a, b)).toEqual([]);
    b.mqtt.qos.stats = 2;
    b.inference.model_path = ['/opt/m'];
    b.log.level = 'debug';
    expect(changedPaths(a, b)).toEqual(['inference.model_path', 'mqtt.qos.stats', 'log.level']);
  });
});
