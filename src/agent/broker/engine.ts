// Which broker engine runs, and why: the one decision shared by the agent (EmbeddedBroker) and
// `pafcast doctor`. Mosquitto speaks MQTT 5 from 1.6 on; Ubuntu 18.04's 1.4 does not, and aedes 1.x
// speaks 3.1.1 only, which Home Assistant stops accepting in 2027.1.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { BrokerConfig, BrokerEngineName } from './config-schema.js';

export interface MosquittoVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** What a `mosquitto -h` revealed, or null when there is no binary to ask. */
export interface MosquittoProbe {
  /** Absolute path when it was resolved; else the name that was run. */
  binary: string;
  /** Null when the output named no version (not Mosquitto, or it failed to run). */
  version: MosquittoVersion | null;
}

export interface EngineChoice {
  engine: BrokerEngineName;
  /** One sentence: what was found and why this engine. */
  reason: string;
  /** Set when the choice fell back to aedes although Mosquitto was allowed: the one warning line. */
  warning?: string;
  /** Set when the configured engine cannot run at all (broker.engine = mosquitto without a usable one). */
  error?: string;
  /** Mosquitto probe behind the choice (null: none found). */
  mosquitto: MosquittoProbe | null;
}

export const INSTALL_MOSQUITTO_HINT =
  'install Mosquitto >= 1.6 (Debian 11+/Ubuntu 20.04+: sudo apt install mosquitto; scripts/install.sh does it) or set broker.binary';

/** "mosquitto version 2.0.11" (1.4 appends "(build date ...)"), from `mosquitto -h`. */
export function parseMosquittoVersion(output: string): MosquittoVersion | null {
  const m = /mosquitto version (\d+)\.(\d+)(?:\.(\d+))?/i.exec(output);
  if (!m) return null;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return { major, minor, patch, text: `${major}.${minor}.${patch}` };
}

/** MQTT 5 arrived in Mosquitto 1.6. */
export function speaksMqtt5(v: MosquittoVersion): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= 6);
}

/** The first executable `name` on `pathVar` (colon-separated); an absolute or relative path is checked as is. */
export function findExecutable(name: string, pathVar: string | undefined): string | null {
  const usable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return usable(name) ? name : null;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    if (usable(p)) return p;
  }
  return null;
}

/** Finds and asks Mosquitto for its version, synchronously (a few ms, once per agent start). */
export function probeMosquittoSync(binarySetting: string, env: NodeJS.ProcessEnv): MosquittoProbe | null {
  const binary = findExecutable(binarySetting || 'mosquitto', env.PATH);
  if (!binary) return null;
  let output = '';
  try {
    output = execFileSync(binary, ['-h'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: env.PATH ?? '' } });
  } catch (e) {
    // `mosquitto -h` prints its usage and exits with 3.
    const err = e as { stdout?: string; stderr?: string };
    output = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  return { binary, version: parseMosquittoVersion(output) };
}

/** Directories Debian and Ubuntu install `mosquitto` in, which an ordinary user's PATH often lacks. */
export const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/**
 * The engine for `broker.engine` given what was found. `offPath`: a mosquitto that exists outside
 * PATH (e.g. /usr/sbin for a user shell), named in the fix.
 */
export function selectEngine(engine: BrokerConfig['engine'], probe: MosquittoProbe | null, offPath?: string | null): EngineChoice {
  const aedesLimits = 'aedes speaks MQTT 3.1.1 only: MQTT 5 clients and Home Assistant 2027.1 and later cannot connect to it';
  if (engine === 'aedes') return { engine: 'aedes', reason: `broker.engine is aedes (${aedesLimits})`, mosquitto: probe };
  const pathHint = offPath ? `; ${offPath} exists but its directory is not on PATH: add it to PATH or set broker.binary=${offPath}` : '';
  let found: string;
  if (!probe) found = `no mosquitto on PATH${pathHint}`;
  else if (!probe.version) found = `${probe.binary} did not report a Mosquitto version`;
  else if (!speaksMqtt5(probe.version)) found = `Mosquitto ${probe.version.text} at ${probe.binary} does not speak MQTT 5 (1.6 or later does; Ubuntu 18.04 ships 1.4)`;
  else
    return {
      engine: 'mosquitto',
      reason: `Mosquitto ${probe.version.text} at ${probe.binary} (MQTT 5 and 3.1.1)${engine === 'auto' ? ', chosen by broker.engine auto' : ''}`,
      mosquitto: probe,
    };
  if (engine === 'mosquitto')
    return { engine: 'mosquitto', reason: found, error: `broker.engine is mosquitto but ${found}: ${INSTALL_MOSQUITTO_HINT}, or set broker.engine to auto`, mosquitto: probe };
  return {
    engine: 'aedes',
    reason: `${found}; using aedes`,
    warning: `embedded MQTT broker: ${found}, so it runs aedes, which speaks MQTT 3.1.1 only: MQTT 5 clients and Home Assistant 2027.1 and later cannot connect. Fix: ${INSTALL_MOSQUITTO_HINT}`,
    mosquitto: probe,
  };
}

/** A mosquitto in the sbin directories when PATH has none, for the hint. */
export function mosquittoOffPath(binarySetting: string, env: NodeJS.ProcessEnv, exists: (p: string) => boolean = (p) => findExecutable(p, '') !== null): string | null {
  if (binarySetting) return null;
  for (const dir of SBIN_DIRS) {
    if ((env.PATH ?? '').split(delimiter).includes(dir)) continue;
    const p = join(dir, 'mosquitto');
    if (exists(p)) return p;
  }
  return null;
}

/** The engine decision as the agent makes it, from the real PATH. */
export function chooseEngine(config: BrokerConfig, env: NodeJS.ProcessEnv = process.env): EngineChoice {
  if (config.engine === 'aedes') return selectEngine('aedes', null);
  const probe = probeMosquittoSync(config.binary, env);
  return selectEngine(config.engine, probe, probe ? null : mosquittoOffPath(config.binary, env));
}
