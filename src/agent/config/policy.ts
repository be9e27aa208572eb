// How every config key may change: the one table behind live config (Agent.applyLive), remote
// config (config/set) and the generated docs/config.md. At load, each leaf of the schema is
// annotated with the policy it resolves to (`apply`, `remote` keywords), so the schema carries it.
//
// `apply`: `live` = the running agent takes the new value at once; a module name = that module is
// restarted (a pipeline restart takes its followers along); `agent` = only a process restart applies it.
// `remote`: `any` = over MQTT, signed, or unsigned where the local file sets remote.allow_unsigned;
// `signed-only` = needs a valid signature (keys that change who can reach the device);
// `local-only` = never over MQTT, signed or not: it names a program, an argument vector, a file or a
// directory, or it configures remote config itself. Those change only in the local file (SIGHUP reloads it).

import type { TSchema } from '@sinclair/typebox';

export const APPLY_SCOPES = ['live', 'pipeline', 'preview', 'telemetry', 'remote', 'stats', 'events', 'homeassistant', 'agent'] as const;
export type ApplyScope = (typeof APPLY_SCOPES)[number];
export const REMOTE_POLICIES = ['any', 'signed-only', 'local-only'] as const;
export type RemotePolicy = (typeof REMOTE_POLICIES)[number];

export interface KeyPolicy {
  apply: ApplyScope;
  remote: RemotePolicy;
}

/**
 * Rules by section ("mqtt"), prefix ("mqtt.qos.") or exact key ("mqtt.url"); for each attribute the
 * most specific matching rule wins. A section rule is required for every section (a test checks that
 * every leaf resolves), so a new key is covered by its section's defaults until it says otherwise.
 */
const RULES: Record<string, Partial<KeyPolicy>> = {
  source: { apply: 'pipeline', remote: 'any' },
  // A file path, device or URL and an argv: a remote writer must not choose what runs or what is read.
  'source.uri': { remote: 'local-only' },
  'source.pipeline': { remote: 'local-only' },

  inference: { apply: 'pipeline', remote: 'any' },
  'inference.height': { apply: 'live' },
  'inference.parser.': { apply: 'live' },
  'inference.model': { remote: 'local-only' },
  'inference.model_path': { remote: 'local-only' },
  'inference.tensorrt.engine_dir': { remote: 'local-only' },
  // Runs trtexec on the device.
  'inference.tensorrt.build_missing': { remote: 'local-only' },

  tracking: { apply: 'pipeline', remote: 'any' },

  // The broker connection decides who the device talks to; changing it needs a signature and a restart.
  mqtt: { apply: 'agent', remote: 'signed-only' },
  'mqtt.tls.ca': { remote: 'local-only' },
  'mqtt.tls.cert': { remote: 'local-only' },
  'mqtt.tls.key': { remote: 'local-only' },
  'mqtt.qos.': { apply: 'live', remote: 'any' },
  // config/set is subscribed with this QoS: the remote module re-subscribes.
  'mqtt.qos.config': { apply: 'remote' },
  'mqtt.queue_max': { apply: 'live', remote: 'any' },
  'mqtt.skip_empty_frames': { apply: 'live', remote: 'any' },
  'mqtt.decimals': { apply: 'live', remote: 'any' },
  'mqtt.stats_interval_s': { apply: 'stats', remote: 'any' },
  'mqtt.poses_expiry_s': { apply: 'live', remote: 'any' },

  broker: { apply: 'agent', remote: 'signed-only' },
  'broker.password_file': { remote: 'local-only' },
  'broker.state_dir': { remote: 'local-only' },
  'broker.binary': { remote: 'local-only' },

  http: { apply: 'agent', remote: 'signed-only' },

  preview: { apply: 'preview', remote: 'any' },
  // Turning the camera's video on decides what can be watched from the network.
  'preview.enabled': { remote: 'signed-only' },
  'preview.encoder.pipeline': { remote: 'local-only' },

  telemetry: { apply: 'telemetry', remote: 'any' },
  'telemetry.root': { remote: 'local-only' },

  // Remote config must not be able to widen or switch off its own checks.
  remote: { apply: 'remote', remote: 'local-only' },

  events: { apply: 'events', remote: 'any' },
  homeassistant: { apply: 'homeassistant', remote: 'any' },

  log: { apply: 'live', remote: 'any' },
};

function matches(rule: string, path: string): boolean {
  if (rule.endsWith('.')) return path.startsWith(rule);
  return path === rule || path.startsWith(`${rule}.`);
}

/** The policy of a dotted key path; throws when no rule covers one of its attributes. */
export function policyOf(path: string): KeyPolicy {
  const hits = Object.keys(RULES)
    .filter((r) => matches(r, path))
    .sort((a, b) => a.length - b.length || (a.endsWith('.') ? -1 : 1));
  const merged: Partial<KeyPolicy> = {};
  for (const r of hits) Object.assign(merged, RULES[r]);
  if (!merged.apply || !merged.remote) throw new Error(`config key "${path}" has no ${merged.apply ? 'remote' : 'apply'} policy in src/agent/config/policy.ts`);
  return merged as KeyPolicy;
}

/** Rules that name keys the schema does not have (a typo would silently protect nothing). */
export function unusedRules(leafPaths: readonly string[]): string[] {
  return Object.keys(RULES).filter((r) => !leafPaths.some((p) => matches(r, p)));
}

interface Annotatable {
  properties?: Record<string, TSchema>;
  apply?: ApplyScope;
  remote?: RemotePolicy;
}

/** Writes each leaf's resolved policy into the schema (keywords `apply` and `remote`). */
export function annotatePolicies(schema: TSchema, prefix = ''): void {
  const props = (schema as Annotatable).properties;
  if (!props || !Object.keys(props).length) {
    if (!prefix) return;
    const p = policyOf(prefix);
    Object.assign(schema as Annotatable, { apply: p.apply, remote: p.remote });
    return;
  }
  for (const [k, child] of Object.entries(props)) annotatePolicies(child, prefix ? `${prefix}.${k}` : k);
}
