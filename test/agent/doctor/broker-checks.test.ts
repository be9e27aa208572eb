// `pafcast doctor`'s embedded-broker line: which engine `pafcast run` will start and why, from
// recorded `mosquitto -h` outputs (Debian 12's 2.0.11, Ubuntu 20.04's 1.6.9, Ubuntu 18.04's 1.4.15)
// and a scratch root, and once on this machine's real Mosquitto.

import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/agent/config/load.js';
import { checkBroker } from '../../../src/agent/doctor/broker-checks.js';
import { hostContext } from '../../../src/agent/doctor/run-doctor.js';
import type { CommandResult, DoctorContext } from '../../../src/agent/doctor/types.js';

const help = (version: string, v5 = true): CommandResult => ({
  code: 3,
  stdout: `mosquitto version ${version}\n\nmosquitto is an MQTT ${v5 ? 'v5.0/' : ''}v3.1.1/v3.1 broker.\n`,
  stderr: '',
});

function ctx(answer: CommandResult, flags: Record<string, unknown> = {}, root = '/nonexistent'): DoctorContext {
  const { config, errors } = loadConfig({ env: {}, flags });
  expect(errors).toEqual([]);
  return { ...hostContext(config, root), run: async (file, args) => (file === (config.broker.binary || 'mosquitto') && args[0] === '-h' ? answer : null) };
}

describe('doctor: embedded broker', () => {
  it('names Mosquitto and its MQTT 5 support when one >= 1.6 is installed', async () => {
    expect(await checkBroker(ctx(help('2.0.11')))).toMatchObject({ id: 'broker', verdict: 'OK', detail: expect.stringMatching(/^Mosquitto 2\.0\.11 at mosquitto \(MQTT 5 and 3\.1\.1\), chosen by broker\.engine auto; on 127\.0\.0\.1:1883, anonymous clients allowed \(loopback only\)$/) });
    expect((await checkBroker(ctx(help('1.6.9'))))?.verdict).toBe('OK');
    const lan = await checkBroker(ctx(help('2.0.11'), { 'broker.host': '0.0.0.0', 'broker.username': 'ha', 'broker.password': 'ha-password' }));
    expect(lan?.detail).toMatch(/on 0\.0\.0\.0:1883, login required$/);
  });

  it('warns with the fix when only aedes can run', async () => {
    const old = await checkBroker(ctx(help('1.4.15 (build date Tue, 18 Jun 2019 11:59:34 -0300)', false)));
    expect(old).toMatchObject({ verdict: 'WARN', detail: expect.stringMatching(/^aedes \(MQTT 3\.1\.1 only: MQTT 5 clients and Home Assistant 2027\.1 and later cannot connect\) will run: Mosquitto 1\.4\.15 at mosquitto does not speak MQTT 5/) });
    expect(old?.fix).toMatch(/install Mosquitto >= 1\.6 \(Debian 11\+\/Ubuntu 20\.04\+: sudo apt install mosquitto/);
    const none = await checkBroker(ctx(null));
    expect(none).toMatchObject({ verdict: 'WARN', detail: expect.stringMatching(/will run: no mosquitto on PATH$/) });
    // Installed in /usr/sbin, which this PATH lacks: the fix says so.
    const root = mkdtempSync(join(tmpdir(), 'pafcast-doctor-root-'));
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    writeFileSync(join(root, 'usr/sbin/mosquitto'), '#!/bin/sh\n');
    chmodSync(join(root, 'usr/sbin/mosquitto'), 0o755);
    const offPath = await checkBroker(ctx(null, {}, root), { PATH: '/usr/bin:/bin' });
    expect(offPath?.fix).toBe('add /usr/sbin to PATH or set broker.binary=/usr/sbin/mosquitto');
    expect(await checkBroker(ctx(help('2.0.11'), { 'broker.engine': 'aedes' }))).toMatchObject({ verdict: 'WARN', fix: 'install Mosquitto >= 1.6 and set broker.engine to auto' });
  });

  it('fails when broker.engine insists on a Mosquitto that is not there, and is silent with an external broker', async () => {
    expect(await checkBroker(ctx(null, { 'broker.engine': 'mosquitto' }))).toMatchObject({ verdict: 'FAIL', detail: 'no mosquitto on PATH' });
    expect(await checkBroker(ctx(null, { 'mqtt.url': 'mqtt://broker.lan:1883' }))).toBeNull();
  });

  it('on this machine finds the real Mosquitto by its path', async () => {
    const { config } = loadConfig({ env: {} });
    const line = await checkBroker(hostContext(config));
    expect(line).toMatchObject({ verdict: 'OK', detail: expect.stringMatching(/^Mosquitto 2\.\d+\.\d+ at \/usr\/sbin\/mosquitto \(MQTT 5 and 3\.1\.1\)/) });
  });
});
