// Loading the agent config: schema defaults, then the JSON file, then environment, then CLI
// flags (later wins). Every problem is collected as one readable line ("mqtt.qos.poses: must be
// 0, 1 or 2 (got 3)") so that a bad config says everything that is wrong at once.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { AgentConfigSchema, schemaAt, type AgentConfig } from './schema.js';
import { crossFieldProblems } from './checks.js';
import { jsonShapeProblem } from '../remote/merge-patch.js';

/** Environment variables read besides the generic PAFCAST__SECTION__KEY form. */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  PAFCAST_MQTT_URL: 'mqtt.url',
  PAFCAST_MQTT_USERNAME: 'mqtt.username',
  PAFCAST_MQTT_PASSWORD: 'mqtt.password',
  PAFCAST_BROKER_USERNAME: 'broker.username',
  PAFCAST_BROKER_PASSWORD: 'broker.password',
  PAFCAST_HTTP_TOKEN: 'http.token',
};
const ENV_GENERIC_PREFIX = 'PAFCAST__';

export interface LoadOptions {
  /** JSON config file; absent = defaults only. */
  file?: string;
  /** Usually process.env. */
  env?: Record<string, string | undefined>;
  /** Overrides by dotted key path, e.g. { 'mqtt.url': 'mqtt://h', 'inference.height': 256 }; strings are converted by the schema. */
  flags?: Record<string, unknown>;
}

export interface LoadResult {
  /** Defaults filled in and device_id resolved; only trustworthy when `errors` is empty. */
  config: AgentConfig;
  errors: string[];
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  // strict: false because TypeBox and this project add keywords (secret, apply, remote) ajv does not know.
  compiled ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(AgentConfigSchema);
  return compiled;
}

const dotted = (instancePath: string) => instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

function listWords(values: unknown[]): string {
  const words = values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v)));
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words[0];
}

function describe(e: ErrorObject): string {
  const at = dotted(e.instancePath);
  const got = ` (got ${shown(e.data)})`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return `${at === '(root)' ? key : `${at}.${key}`}: unknown key${known.length ? ` (known: ${known.join(', ')})` : ''}`;
    }
    case 'anyOf': {
      const branches = e.schema as Array<{ const?: unknown }>;
      if (branches.every((b) => 'const' in b)) return `${at}: must be ${listWords(branches.map((b) => b.const))}${got}`;
      return `${at}: does not match any allowed form${got}`;
    }
    case 'type':
      return `${at}: must be ${/^[aeiou]/.test(String(e.params.type)) ? 'an' : 'a'} ${e.params.type}${got}`;
    case 'required':
      return `${at === '(root)' ? '' : `${at}.`}${String(e.params.missingProperty)}: missing`;
    default:
      return `${at}: ${e.message ?? e.keyword}${got}`;
  }
}

/** The config is 4 levels deep; anything far deeper is an attack or an accident, refused before it reaches recursive code. */
const MAX_CONFIG_DEPTH = 32;

/**
 * Readable problems of a full config object; [] when it is valid. Defaults are not applied. The
 * schema first, then (for a schema-valid config) the checks across fields.
 */
export function validateConfig(obj: unknown): string[] {
  const shape = jsonShapeProblem(obj, 'config', MAX_CONFIG_DEPTH);
  if (shape) return [shape];
  const validate = validator();
  if (validate(obj)) return crossFieldProblems(obj as AgentConfig);
  const errors = validate.errors ?? [];
  // A failing union reports every branch too; keep only the summary line for that value.
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const kept = errors.filter((e) => e.keyword === 'anyOf' || !unionPaths.has(e.instancePath));
  return [...new Set(kept.map(describe))];
}

/** A complete config with every default filled in (device_id still empty = hostname). */
export function defaultConfig(): AgentConfig {
  return Value.Default(AgentConfigSchema, {}) as AgentConfig;
}

/** A topic-safe hostname for the default device id. */
export function defaultDeviceId(): string {
  return hostname().replace(/[#+/\s]/g, '_') || 'pafcast';
}

interface Node {
  type?: string;
  anyOf?: Array<{ const?: unknown }>;
}

/** Converts a string from env/CLI to what the schema expects; leaves it a string when it cannot, so validation names the problem. */
function coerce(raw: unknown, schema: TSchema): unknown {
  if (typeof raw !== 'string') return raw;
  const node = schema as Node;
  const numeric = raw.trim() !== '' && !Number.isNaN(Number(raw));
  if ((node.type === 'integer' || node.type === 'number') && numeric) return Number(raw);
  if (node.type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  if (node.anyOf) {
    const hit = node.anyOf.find((b) => String(b.const) === raw);
    return hit ? hit.const : raw;
  }
  if (node.type === 'array' || node.type === 'object') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let obj = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof obj[k] !== 'object' || obj[k] === null || Array.isArray(obj[k])) obj[k] = {};
    obj = obj[k] as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]] = value;
}

function applyOverride(target: Record<string, unknown>, path: string, raw: unknown, origin: string, errors: string[]): void {
  const chain = schemaAt(path);
  if (!chain || chain.length < 2) {
    errors.push(`${path}: unknown key (from ${origin})`);
    return;
  }
  setPath(target, path, coerce(raw, chain[chain.length - 1]));
}

/** Overrides found in the environment, as dotted path → raw string, with where each came from. */
export function envOverrides(env: Record<string, string | undefined>): Array<{ path: string; value: string; origin: string }> {
  const found: Array<{ path: string; value: string; origin: string }> = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name in ENV_ALIASES) found.push({ path: ENV_ALIASES[name], value, origin: name });
    else if (name.startsWith(ENV_GENERIC_PREFIX))
      found.push({ path: name.slice(ENV_GENERIC_PREFIX.length).toLowerCase().split('__').join('.'), value, origin: name });
  }
  return found;
}

/** Reads, merges and validates the config. Never throws: problems come back in `errors`. */
export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const errors: string[] = [];
  let base: Record<string, unknown> = {};
  if (opts.file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(opts.file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) errors.push(`${opts.file}: must hold one JSON object`);
      else base = parsed as Record<string, unknown>;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      errors.push(err.code === 'ENOENT' ? `${opts.file}: no such file` : `${opts.file}: ${err.message}`);
    }
  }
  const resolved = resolveConfig(base, opts);
  return { config: resolved.config, errors: [...errors, ...resolved.errors] };
}

/**
 * The effective config from a file's contents (`base`, as parsed) plus environment and flag
 * overrides, with defaults filled in and everything validated. Remote config validates a patched
 * file with this before writing it.
 */
export function resolveConfig(base: Record<string, unknown>, opts: Pick<LoadOptions, 'env' | 'flags'> = {}): LoadResult {
  const errors: string[] = [];
  const shape = jsonShapeProblem(base, 'config', MAX_CONFIG_DEPTH);
  if (shape) return { config: defaultConfig(), errors: [shape] };
  const merged = structuredClone(base);
  for (const o of envOverrides(opts.env ?? {})) applyOverride(merged, o.path, o.value, `environment ${o.origin}`, errors);
  for (const [path, value] of Object.entries(opts.flags ?? {})) {
    if (value !== undefined) applyOverride(merged, path, value, 'command line', errors);
  }
  const config = Value.Default(AgentConfigSchema, merged) as AgentConfig;
  errors.push(...validateConfig(config));
  if (errors.length === 0 && config.mqtt.device_id === '') config.mqtt.device_id = defaultDeviceId();
  return { config, errors };
}
