import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, defaultDeviceId, loadConfig, validateConfig } from '../../../src/agent/config/load.js';

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pafcast-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('defaultConfig', () => {
  it('fills every section from the schema defaults', () => {
    const c = defaultConfig();
    expect(c.mqtt.url).toBe('');
    expect(c.mqtt.prefix).toBe('pafcast');
    expect(c.mqtt.qos).toEqual({ status: 1, poses: 0, people: 1, stats: 0, events: 1, config: 1 });
    expect(c.broker).toMatchObject({ engine: 'auto', host: '127.0.0.1', port: 1883, max_message_bytes: 1048576 });
    expect(c.http.port).toBe(8080);
    expect(c.inference.model).toBe('lightweight-openpose-coco18');
    expect(c.log.level).toBe('info');
    expect(validateConfig(c)).toEqual([]);
  });

  it('returns independent objects', () => {
    const a = defaultConfig();
    a.mqtt.qos.poses = 2;
    expect(defaultConfig().mqtt.qos.poses).toBe(0);
  });
});

describe('loadConfig', () => {
  it('with nothing given yields the defaults and the hostname as device id', () => {
    const { config, errors } = loadConfig({ env: {} });
    expect(errors).toEqual([]);
    expect(config.mqtt.device_id).toBe(defaultDeviceId());
    expect(config.mqtt.device_id).not.toMatch(/[#+/]/);
  });

  it('merges a file over the defaults, keeping defaults of unspecified keys', () => {
    const file = configFile(JSON.stringify({ mqtt: { url: 'mqtt://broker:1883', qos: { poses: 1 } }, broker: { port: 18830 } }));
    const { config, errors } = loadConfig({ file, env: {} });
    expect(errors).toEqual([]);
    expect(config.mqtt.url).toBe('mqtt://broker:1883');
    expect(config.mqtt.qos.poses).toBe(1);
    expect(config.mqtt.qos.status).toBe(1);
    expect(config.broker).toMatchObject({ host: '127.0.0.1', port: 18830 });
  });

  it('lets environment override the file and flags override the environment', () => {
    const file = configFile(JSON.stringify({ mqtt: { prefix: 'from-file', username: 'file-user' }, inference: { height: 224 } }));
    const { config, errors } = loadConfig({
      file,
      env: { PAFCAST__MQTT__PREFIX: 'from-env', PAFCAST_MQTT_USERNAME: 'env-user', PAFCAST_MQTT_PASSWORD: 's3cret', PAFCAST__MQTT__QOS__POSES: '2', HOME: '/x' },
      flags: { 'mqtt.prefix': 'from-flag', 'inference.height': '256', 'source.loop': true },
    });
    expect(errors).toEqual([]);
    expect(config.mqtt.prefix).toBe('from-flag');
    expect(config.mqtt.username).toBe('env-user');
    expect(config.mqtt.password).toBe('s3cret');
    expect(config.mqtt.qos.poses).toBe(2);
    expect(config.inference.height).toBe(256);
    expect(config.source.loop).toBe(true);
  });

  it('converts strings from env and flags by the schema type (numbers, booleans, arrays)', () => {
    const { config, errors } = loadConfig({
      env: { PAFCAST__MQTT__SKIP_EMPTY_FRAMES: 'yes', PAFCAST__INFERENCE__MODEL_PATH: '["/opt/models"]' },
      flags: { 'broker.port': '2883', 'mqtt.stats_interval_s': '2.5' },
    });
    expect(errors).toEqual([]);
    expect(config.mqtt.skip_empty_frames).toBe(true);
    expect(config.inference.model_path).toEqual(['/opt/models']);
    expect(config.broker.port).toBe(2883);
    expect(config.mqtt.stats_interval_s).toBe(2.5);
  });

  it('names the offending key, the rule and the value', () => {
    const file = configFile(JSON.stringify({ mqtt: { qos: { poses: 3 }, queue_max: 0 }, broker: { port: 'x' }, log: { level: 'loud' } }));
    const { errors } = loadConfig({ file, env: {} });
    expect(errors).toContain('mqtt.qos.poses: must be 0, 1 or 2 (got 3)');
    expect(errors).toContain('mqtt.queue_max: must be >= 1 (got 0)');
    expect(errors).toContain('broker.port: must be an integer (got "x")');
    expect(errors).toContain('log.level: must be "fatal", "error", "warn", "info", "debug" or "trace" (got "loud")');
    expect(errors).toHaveLength(4);
  });

  it('rejects unknown keys in the file, the environment and the flags', () => {
    const file = configFile(JSON.stringify({ mqtt: { urll: 'mqtt://x' }, cameras: {} }));
    const { errors } = loadConfig({ file, env: { PAFCAST__MQTT__NOPE: '1' }, flags: { 'broker.address': '0.0.0.0' } });
    expect(errors.some((e) => e.startsWith('mqtt.urll: unknown key (known: url, protocol_version, poses_expiry_s, session_expiry_s, prefix'))).toBe(true);
    expect(errors.some((e) => e.startsWith('cameras: unknown key'))).toBe(true);
    expect(errors).toContain('mqtt.nope: unknown key (from environment PAFCAST__MQTT__NOPE)');
    expect(errors).toContain('broker.address: unknown key (from command line)');
  });

  it('refuses MQTT wildcards in the prefix and device id', () => {
    const { errors } = loadConfig({ env: {}, flags: { 'mqtt.prefix': 'a/#', 'mqtt.device_id': 'cam+1' } });
    expect(errors.some((e) => e.startsWith('mqtt.prefix: must match pattern'))).toBe(true);
    expect(errors.some((e) => e.startsWith('mqtt.device_id: must match pattern'))).toBe(true);
  });

  it('reports a missing file and broken JSON without throwing', () => {
    expect(loadConfig({ file: '/nonexistent/pafcast.json', env: {} }).errors).toEqual(['/nonexistent/pafcast.json: no such file']);
    const broken = configFile('{ "mqtt": ');
    const { errors } = loadConfig({ file: broken, env: {} });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/config\.json: .*JSON/);
    expect(loadConfig({ file: configFile('[1]'), env: {} }).errors[0]).toMatch(/must hold one JSON object/);
  });
});
