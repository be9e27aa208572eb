// The engine decision, the config's safety checks, the topic rules, the password file format and
// the packet size meter, without starting a broker.

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TopicRules } from '../../../src/agent/broker/access.js';
import { brokerConfigProblems, isLoopbackHost } from '../../../src/agent/broker/config-schema.js';
import { chooseEngine, parseMosquittoVersion, selectEngine } from '../../../src/agent/broker/engine.js';
import { PacketSizeMeter } from '../../../src/agent/broker/packet-size.js';
import { formatHash, hashPassword, parseHash, parsePasswordFile, verifyHash } from '../../../src/agent/broker/passwords.js';
import { loadConfig } from '../../../src/agent/config/load.js';
import { brokerConfig } from './helpers.js';

// First lines of `mosquitto -h` as each version prints them.
const HELP_2_0_11 = 'mosquitto version 2.0.11\n\nmosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n';
const HELP_1_6_9 = 'mosquitto version 1.6.9\n\nmosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n';
const HELP_1_4_15 = 'mosquitto version 1.4.15 (build date Tue, 18 Jun 2019 11:59:34 -0300)\n\nmosquitto is an MQTT v3.1.1/v3.1 broker.\n';

function fakeMosquitto(help: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pafcast-fake-mosquitto-'));
  const p = join(dir, 'mosquitto');
  writeFileSync(p, `#!/bin/sh\nprintf '%s' '${help.replace(/'/g, "'\\''")}'\nexit 3\n`);
  chmodSync(p, 0o755);
  return dir;
}

describe('engine choice', () => {
  it('reads the version Mosquitto prints, and knows which versions speak MQTT 5', () => {
    expect(parseMosquittoVersion(HELP_2_0_11)).toMatchObject({ major: 2, minor: 0, patch: 11, text: '2.0.11' });
    expect(parseMosquittoVersion(HELP_1_4_15)?.text).toBe('1.4.15');
    expect(parseMosquittoVersion('usage: something else')).toBeNull();
    const probe = (help: string) => ({ binary: '/usr/sbin/mosquitto', version: parseMosquittoVersion(help) });
    expect(selectEngine('auto', probe(HELP_2_0_11))).toMatchObject({ engine: 'mosquitto', reason: expect.stringMatching(/Mosquitto 2\.0\.11 at \/usr\/sbin\/mosquitto \(MQTT 5/) });
    expect(selectEngine('auto', probe(HELP_1_6_9)).engine).toBe('mosquitto');
    const old = selectEngine('auto', probe(HELP_1_4_15));
    expect(old.engine).toBe('aedes');
    expect(old.warning).toMatch(/Mosquitto 1\.4\.15 .* does not speak MQTT 5 .*MQTT 3\.1\.1 only: MQTT 5 clients and Home Assistant 2027\.1 and later cannot connect/);
    expect(selectEngine('mosquitto', probe(HELP_1_4_15)).error).toMatch(/broker\.engine is mosquitto but Mosquitto 1\.4\.15/);
    expect(selectEngine('mosquitto', null).error).toMatch(/no mosquitto on PATH: install Mosquitto >= 1\.6 .*sudo apt install mosquitto/);
    const chosen = selectEngine('aedes', probe(HELP_2_0_11));
    expect(chosen.engine).toBe('aedes');
    // A configured aedes is a choice, not a fallback: no warning.
    expect(chosen.warning).toBeUndefined();
  });

  it('looks for mosquitto on PATH only, and says where an off-PATH one is', () => {
    const real = chooseEngine(brokerConfig(), process.env);
    expect(real).toMatchObject({ engine: 'mosquitto', mosquitto: { version: { major: 2 } } });
    // Debian installs it in /usr/sbin, which a user's PATH may lack.
    const noSbin = chooseEngine(brokerConfig(), { PATH: '/usr/bin:/bin' });
    expect(noSbin.engine).toBe('aedes');
    expect(noSbin.warning).toMatch(/no mosquitto on PATH; \/usr\/sbin\/mosquitto exists but its directory is not on PATH: add it to PATH or set broker\.binary=\/usr\/sbin\/mosquitto/);
    const ubuntu1804 = chooseEngine(brokerConfig(), { PATH: `${fakeMosquitto(HELP_1_4_15)}:/usr/bin:/bin` });
    expect(ubuntu1804).toMatchObject({ engine: 'aedes', warning: expect.stringMatching(/1\.4\.15 .*does not speak MQTT 5/) });
    const fake2 = fakeMosquitto(HELP_2_0_11);
    expect(chooseEngine(brokerConfig({ binary: join(fake2, 'mosquitto') }), { PATH: '/usr/bin:/bin' }).mosquitto?.binary).toBe(join(fake2, 'mosquitto'));
  });
});

describe('broker config checks', () => {
  it('tells loopback from the network', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.20', 'cam.local', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses to listen beyond loopback without credentials, with the fix', () => {
    const [problem] = brokerConfigProblems(brokerConfig({ host: '0.0.0.0' }));
    expect(problem).toMatch(/listen on 0\.0\.0\.0, reachable from the network, without authentication\. Set broker\.username and broker\.password \(or PAFCAST_BROKER_USERNAME \/ PAFCAST_BROKER_PASSWORD\), or broker\.password_file/);
    expect(brokerConfigProblems(brokerConfig({ host: '0.0.0.0', username: 'ha', password: 'long enough' }))).toEqual([]);
    expect(brokerConfigProblems(brokerConfig({ host: '0.0.0.0', password_file: '/etc/pafcast/broker.passwd' }))).toEqual([]);
    // Unused with an external broker.
    expect(brokerConfigProblems(brokerConfig({ host: '0.0.0.0' }), 'mqtt://site:1883')).toEqual([]);
    expect(brokerConfigProblems(brokerConfig({ username: 'ha', password: 'short' }))).toEqual(['broker.password: must be at least 8 characters']);
    expect(brokerConfigProblems(brokerConfig({ username: 'ha' }))[0]).toMatch(/no password/);
    expect(brokerConfigProblems(brokerConfig({ username: 'pafcast-agent', password: '12345678' }))[0]).toMatch(/reserved/);
    expect(brokerConfigProblems(brokerConfig({ state_dir: '/tmp/x\nlistener 1 0.0.0.0' }))[0]).toMatch(/broker\.state_dir: contains control characters/);
  });

  it('runs inside config validation, with PAFCAST_BROKER_PASSWORD as the password', () => {
    const bad = loadConfig({ env: {}, flags: { 'broker.host': '0.0.0.0' } });
    expect(bad.errors.join('\n')).toMatch(/broker\.host: the embedded broker would listen on 0\.0\.0\.0/);
    const ok = loadConfig({ env: { PAFCAST_BROKER_USERNAME: 'ha', PAFCAST_BROKER_PASSWORD: 'from the environment' }, flags: { 'broker.host': '0.0.0.0' } });
    expect(ok.errors).toEqual([]);
    expect(ok.config.broker).toMatchObject({ username: 'ha', password: 'from the environment' });
    expect(loadConfig({ env: {}, flags: { 'broker.username': 'bad user' } }).errors.join('\n')).toMatch(/broker\.username/);
  });
});

describe('topic rules', () => {
  const rules = new TopicRules({ base: 'pf/cam1', deviceId: 'cam1', discoveryPrefix: 'homeassistant' });
  it('keep the device base and its discovery topics for the agent, config/set and the rest open', () => {
    for (const t of ['pf/cam1', 'pf/cam1/status', 'pf/cam1/people', 'pf/cam1/config', 'pf/cam1/config/result', 'homeassistant/device/cam1/config', 'homeassistant/sensor/cam1/people/config', '$SYS/x'])
      expect(rules.strangerMayPublish(t), t).toBe(false);
    for (const t of ['pf/cam1/config/set', 'homeassistant/status', 'homeassistant/sensor/other/x/config', 'pf/cam2/status', 'pf/cam10/status', 'zigbee2mqtt/lamp/set'])
      expect(rules.strangerMayPublish(t), t).toBe(true);
  });

  it('refuse names that would escape the ACL file', () => {
    expect(() => new TopicRules({ base: 'pf/ca\nm', deviceId: 'ca\nm', discoveryPrefix: 'homeassistant' })).toThrow(/cannot be protected/);
    expect(() => new TopicRules({ base: 'pf/%c', deviceId: '%c', discoveryPrefix: 'homeassistant' })).toThrow(/cannot be protected/);
    expect(() => new TopicRules({ base: 'pf/cam', deviceId: 'cam', discoveryPrefix: 'home assistant ' })).toThrow(/cannot be protected/);
  });
});

describe('Mosquitto password file format', () => {
  it('writes $7$ and $6$ hashes that verify, and refuses everything else', async () => {
    for (const type of [6, 7] as const) {
      const h = hashPassword('correct horse', type);
      const line = formatHash(h);
      expect(line).toMatch(type === 7 ? /^\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/ : /^\$6\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
      const parsed = parseHash(line);
      expect(typeof parsed).toBe('object');
      expect(await verifyHash(parsed as Exclude<typeof parsed, string>, Buffer.from('correct horse'))).toBe(true);
      expect(await verifyHash(parsed as Exclude<typeof parsed, string>, Buffer.from('wrong horse'))).toBe(false);
    }
    const { users, problems } = parsePasswordFile(
      ['# comment', `ha:${formatHash(hashPassword('pw-of-ha', 7))}`, 'plain:secret', 'pafcast-agent:$7$1$AAAA$BBBB', 'no colon', 'sp ace:$6$x$y', `ha:${formatHash(hashPassword('x', 6))}`].join('\n'),
      'users.txt',
    );
    expect(users.map((u) => u.username)).toEqual(['ha']);
    expect(problems).toEqual([
      'users.txt line 3: not a $6$ or $7$ hash (plain-text passwords must be hashed: mosquitto_passwd -U FILE)',
      'users.txt line 4: "pafcast-agent" is reserved for the agent\'s own connection; line ignored',
      'users.txt line 5: no "user:hash"',
      'users.txt line 6: user name "sp ace" has spaces, control characters, \':\' or wildcards',
      'users.txt line 7: user "ha" appears twice; the first line counts',
    ]);
  });
});

describe('packet size meter', () => {
  const header = (remaining: number) => {
    const out = [0x30];
    do {
      let b = remaining % 128;
      remaining = Math.floor(remaining / 128);
      if (remaining) b |= 0x80;
      out.push(b);
    } while (remaining);
    return out;
  };
  it('follows packets across chunks and flags the first one over the limit at its header', () => {
    const meter = new PacketSizeMeter(1000);
    const small = Uint8Array.from([...header(300), ...new Array(300).fill(7)]);
    const stream = Uint8Array.from([...small, ...small, 0xc0, 0x00, ...header(5000)]);
    // Fed in 7-byte pieces, boundaries fall anywhere, including inside a length field.
    let result = -1;
    for (let i = 0; i < stream.length && result < 0; i += 7) result = meter.feed(stream.subarray(i, i + 7));
    expect(result).toBe(5000);
    expect(new PacketSizeMeter(1000).feed(small)).toBe(-1);
    expect(new PacketSizeMeter(1000).feed(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toBe(Infinity);
  });
});
