// Which embedded broker `pafcast run` will start and why, from the same decision the agent makes
// (src/agent/broker/engine.ts): Mosquitto's version and MQTT 5 support, or the aedes fallback
// with the fix. Only reported when the embedded broker is used (mqtt.url empty).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { brokerConfigProblems, isLoopbackHost } from '../broker/config-schema.js';
import { INSTALL_MOSQUITTO_HINT, SBIN_DIRS, parseMosquittoVersion, selectEngine, type MosquittoProbe } from '../broker/engine.js';
import type { CheckResult, DoctorContext } from './types.js';

/** The embedded broker line; null when an external broker is configured. */
export async function checkBroker(ctx: DoctorContext, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult | null> {
  const { broker, mqtt } = ctx.config;
  if (mqtt.url) return null;
  const base = { id: 'broker', title: 'embedded MQTT broker' };
  const problems = brokerConfigProblems(broker);
  if (problems.length) return { ...base, verdict: 'FAIL', detail: problems.join('; '), fix: 'set the broker.* keys named above (docs/broker.md)' };

  let probe: MosquittoProbe | null = null;
  let offPath: string | null = null;
  if (broker.engine !== 'aedes') {
    const binary = broker.binary || 'mosquitto';
    const pathDirs = (env.PATH ?? '').split(':').filter((d) => d.startsWith('/'));
    const res = await ctx.run(binary, ['-h']);
    if (res) {
      // Named by its path where the PATH lookup can be repeated under the root.
      const dir = broker.binary ? undefined : pathDirs.find((d) => existsSync(join(ctx.root, d, 'mosquitto')));
      probe = { binary: dir ? join(dir, 'mosquitto') : binary, version: parseMosquittoVersion(`${res.stdout}${res.stderr}`) };
    } else if (!broker.binary) {
      const dir = SBIN_DIRS.find((d) => !pathDirs.includes(d) && existsSync(join(ctx.root, d, 'mosquitto')));
      offPath = dir ? join(dir, 'mosquitto') : null;
    }
  }
  const choice = selectEngine(broker.engine, probe, offPath);
  const where = `${broker.host}:${broker.port}, ${isLoopbackHost(broker.host) && !broker.username && !broker.password_file ? 'anonymous clients allowed (loopback only)' : 'login required'}`;
  if (choice.error) return { ...base, verdict: 'FAIL', detail: choice.reason, fix: `${INSTALL_MOSQUITTO_HINT}, or set broker.engine to auto` };
  if (choice.engine === 'mosquitto') return { ...base, verdict: 'OK', detail: `${choice.reason}; on ${where}` };
  const aedes = 'aedes (MQTT 3.1.1 only: MQTT 5 clients and Home Assistant 2027.1 and later cannot connect)';
  if (broker.engine === 'aedes')
    return { ...base, verdict: 'WARN', detail: `${aedes}, as broker.engine is aedes; on ${where}`, fix: 'install Mosquitto >= 1.6 and set broker.engine to auto' };
  // Under systemd the PATH includes /usr/sbin, so an off-PATH Mosquitto is found by the service but not by this shell.
  const fix = offPath ? `add ${offPath.replace(/\/mosquitto$/, '')} to PATH or set broker.binary=${offPath}` : INSTALL_MOSQUITTO_HINT;
  return { ...base, verdict: 'WARN', detail: `${aedes} will run: ${choice.reason.replace(/; using aedes$/, '')}`, fix };
}
