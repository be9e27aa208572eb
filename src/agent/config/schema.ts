// The one agent config schema: every section composed from the module that owns it. Types,
// defaults, bounds, descriptions and secrets come from the sections; how each key may change (live,
// by a module restart, remotely or only locally) from policy.ts, written onto every leaf here.
// docs/config.md is generated from it (src/agent/config/docs.ts).
//
// Extra keywords used on fields (ignored by the validator, read by the tools below):
//   secret: true        — redacted in logs, `config` messages and HTTP answers.
//   apply, remote       — the key's policy (policy.ts), set on every leaf at load.

import { changedPaths as jsonChangedPaths } from '../remote/merge-patch.js';
import { redactSecrets } from '../remote/redact.js';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CaptureConfigSchema } from '../capture/config-schema.js';
import { InferenceConfigSchema } from '../../runtime/backends/config-schema.js';
import { TrackingConfigSchema } from '../../runtime/tracking/config-schema.js';
import { MqttConfigSchema } from '../mqtt/config-schema.js';
import { BrokerConfigSchema } from '../broker/config-schema.js';
import { HttpConfigSchema, LogConfigSchema } from './sections.js';
import { PreviewConfigSchema } from '../preview/config-schema.js';
import { TelemetryConfigSchema } from '../../telemetry/config-schema.js';
import { RemoteConfigSchema } from '../remote/config-schema.js';
import { EventsConfigSchema } from '../../runtime/events/config-schema.js';
import { HomeAssistantConfigSchema } from '../homeassistant/config-schema.js';
import { annotatePolicies, policyOf, type KeyPolicy } from './policy.js';

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
    events: EventsConfigSchema,
    remote: RemoteConfigSchema,
    homeassistant: HomeAssistantConfigSchema,
    log: LogConfigSchema,
  },
  { additionalProperties: false, default: {} },
);

annotatePolicies(AgentConfigSchema);

export type AgentConfig = Static<typeof AgentConfigSchema>;

interface Annotated {
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

/** How `path` may change (live / module restart / agent restart; remotely or not). Throws for a path not in the schema. */
export function keyPolicy(path: string): KeyPolicy {
  if (!schemaAt(path)) throw new Error(`unknown config key "${path}"`);
  return policyOf(path);
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
