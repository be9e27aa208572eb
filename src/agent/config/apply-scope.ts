// How a changed config key takes effect in a running agent: live, by restarting one module, or only
// with a restart of the whole agent. One table for Agent.applyLive and the generated docs/config.md.

import { restartScopeOf } from './schema.js';

/** Keys (or key prefixes ending in '.') the agent changes without restarting anything. */
export const LIVE_KEYS: readonly string[] = [
  'inference.height',
  'inference.parser.',
  'mqtt.qos.',
  'mqtt.queue_max',
  'mqtt.skip_empty_frames',
  'mqtt.decimals',
  'mqtt.stats_interval_s',
  'log.level',
];

/** Which module applies the keys of each section when they cannot change live. */
const SECTION_MODULE: Readonly<Record<string, string>> = {
  source: 'pipeline',
  inference: 'pipeline',
  tracking: 'pipeline',
  telemetry: 'telemetry',
  preview: 'preview',
  remote: 'remote',
};

export type ApplyScope = 'live' | 'agent' | string;

/**
 * 'live', the module to restart, or 'agent'. A schema mark (`requiresRestart`) naming a module wins;
 * `true` or no mark means the key's section module; sections without one (mqtt, broker, http) need
 * the agent restarted, because the broker connection and the listening socket are shared by all.
 */
export function applyScopeOf(path: string): ApplyScope {
  const mark = restartScopeOf(path);
  if (mark === null && LIVE_KEYS.some((k) => (k.endsWith('.') ? path.startsWith(k) : path === k))) return 'live';
  if (mark && mark !== 'agent' && Object.values(SECTION_MODULE).includes(mark)) return mark;
  return sectionModuleOf(path);
}

/** The module owning `path`'s section, or 'agent' for the shared connections (mqtt, broker, http). */
export function sectionModuleOf(path: string): string {
  return SECTION_MODULE[path.split('.')[0]!] ?? 'agent';
}
