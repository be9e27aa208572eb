import { describe, expect, it } from 'vitest';
import { changedPaths, leafPaths, redactConfig, restartScopeOf, secretPaths } from '../../../src/agent/config/schema.js';
import { defaultConfig } from '../../../src/agent/config/load.js';

describe('restartScopeOf', () => {
  it('reads the mark on the field or its nearest ancestor', () => {
    expect(restartScopeOf('mqtt.url')).toBe('mqtt');
    expect(restartScopeOf('mqtt.tls.ca')).toBe('mqtt');
    expect(restartScopeOf('broker.port')).toBe('broker');
    expect(restartScopeOf('inference.backend')).toBe('agent');
    expect(restartScopeOf('mqtt.qos.poses')).toBeNull();
    expect(restartScopeOf('mqtt.skip_empty_frames')).toBeNull();
  });

  it('throws for keys that are not in the schema', () => {
    expect(() => restartScopeOf('mqtt.nope')).toThrow(/unknown config key "mqtt.nope"/);
  });

  it('answers for every leaf of the schema', () => {
    const paths = leafPaths();
    expect(paths).toContain('mqtt.qos.status');
    for (const p of paths) expect(() => restartScopeOf(p)).not.toThrow();
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
