// The one agent config schema: every section composed from the module that owns it. Types,
// defaults, bounds, descriptions, secrets and "needs restart" all come from here; docs/config.md
// is generated from it (src/agent/config/docs.ts).
//
// Extra keywords used on fields (ignored by the validator, read by the tools below):
//   requiresRestart: true | '<module>' — a change takes effect only after restarting that module
//                    (true = the whole agent). Inherited by everything below the marked node.
//   secret: true     — redacted in logs, `config` messages and HTTP answers.

import { changedPaths as jsonChangedPaths } from '../remote/merge-patch.js';
import { redactSecrets } from '../remote/redact.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CaptureConfigSchema } from '../capture/config-schema.js';
import { InferenceConfigSchema } from '../../runtime/backends/config-schema.js';
import { TrackingConfigSchema } from '../../runtime/tracking/config-schema.js';
import { MqttConfigSchema, BrokerConfigSchema } from '../mqtt/config-schema.js';
import { HttpConfigSchema, LogConfigSchema } from './sections.js';
import { PreviewConfigSchema } from '../preview/config-schema.js';
import { TelemetryConfigSchema } from '../../telemetry/config-schema.js';
import { RemoteConfigSchema } from '../remote/config-schema.js';

export const AgentConfigSchema = Type.Object(
  {
    source: CaptureConfigSchema,
    inference: InferenceConfigSchema,
    tracking: TrackingConfigSchema,
    mqtt: MqttConfigSchema,
    broker: BrokerConfigSchema,
    http: HttpConfigSchema,
    preview: PreviewConfigSchema,
    telemetry: TelemetryConfigSchema,
    remote: RemoteConfigSchema,
    log: LogConfigSchema,
  },
  { additionalProperties: false, default: {} },
);

export type AgentConfig = Static<typeof AgentConfigSchema>;

/** Where a change to a key takes effect: null = live, 'agent' = whole-agent restart, else the module to restart. */
export type RestartScope = null | 'agent' | string;

interface Annotated {
  requiresRestart?: boolean | string;
  secret?: boolean;
  properties?: Record<string, TSchema>;
}

/** The schema node at a dotted path (e.g. "mqtt.qos.poses"), with its ancestors, or undefined. */
export function schemaAt(path: string, root: TSchema = AgentConfigSchema): TSchema[] | undefined {
  const chain: TSchema[] = [root];
  let node: TSchema = root;
  for (const key of path.split('.').filter(Boolean)) {
    const next = (node as Annotated).properties?.[key];
    if (!next) return undefined;
    chain.push(next);
    node = next;
  }
  return chain;
}

/**
 * Whether changing `path` needs a restart, and of what. The nearest node (the field itself,
 * else its closest ancestor) that says `requiresRestart` decides; unmarked keys apply live.
 * Throws for a path that is not in the schema.
 */
export function restartScopeOf(path: string): RestartScope {
  const chain = schemaAt(path);
  if (!chain) throw new Error(`unknown config key "${path}"`);
  for (let i = chain.length - 1; i >= 0; i--) {
    const mark = (chain[i] as Annotated).requiresRestart;
    if (mark === undefined) continue;
    if (mark === false) return null;
    return mark === true ? 'agent' : mark;
  }
  return null;
}

/** Every leaf key path, depth first in schema order (sections, then their fields). */
export function leafPaths(node: TSchema = AgentConfigSchema, prefix = ''): string[] {
  const props = (node as Annotated).properties;
  if (!props) return prefix ? [prefix] : [];
  return Object.entries(props).flatMap(([k, child]) => leafPaths(child, prefix ? `${prefix}.${k}` : k));
}

/** Dotted paths of the fields marked `secret`, computed once from the schema. */
export const secretPaths: readonly string[] = (function collect(node: TSchema, prefix: string): string[] {
  const own = (node as Annotated).secret && prefix ? [prefix] : [];
  const props = (node as Annotated).properties ?? {};
  return own.concat(...Object.entries(props).map(([k, c]) => collect(c, prefix ? `${prefix}.${k}` : k)));
})(AgentConfigSchema, '');

/** A deep copy with every non-empty secret replaced by "***", for logs and published config. */
export function redactConfig<T>(config: T): T {
  return redactSecrets(config, secretPaths);
}

/** Leaf key paths whose values differ between two configs (arrays compare as whole values). */
export function changedPaths(before: AgentConfig, after: AgentConfig): string[] {
  return jsonChangedPaths(before, after);
}
