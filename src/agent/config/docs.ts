// Writes docs/config.md from the config schema, so the reference can never drift from the code.
// Regenerate: `npx tsc -p . && node dist/src/agent/config/docs.js --write`; a test fails when stale.

import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { AgentConfigSchema, keyPolicy } from './schema.js';

interface Node {
  type?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  anyOf?: Node[];
  const?: unknown;
  items?: Node;
  properties?: Record<string, Node>;
  secret?: boolean;
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (v: unknown) => '`' + JSON.stringify(v) + '`';

function typeOf(n: Node): string {
  if (n.anyOf?.every((b) => 'const' in b)) return n.anyOf.map((b) => code(b.const)).join(' | ');
  if (n.anyOf) return n.anyOf.map(typeOf).join(' or ');
  if (n.type === 'array') return `array of ${n.items ? typeOf(n.items) : 'values'}`;
  return n.type ?? 'any';
}

function bounds(n: Node): string {
  const parts: string[] = [];
  if (n.minimum !== undefined) parts.push(`≥ ${n.minimum}`);
  if (n.maximum !== undefined) parts.push(`≤ ${n.maximum}`);
  if (n.pattern) parts.push(`matches \`${n.pattern}\``);
  return parts.join(', ');
}

function applyText(path: string): string {
  const { apply } = keyPolicy(path);
  if (apply === 'live') return 'live';
  return apply === 'agent' ? 'agent restart' : `restarts ${apply}`;
}

const REMOTE_TEXT = { any: 'yes', 'signed-only': 'signed only', 'local-only': 'no (local file)' } as const;

function rows(node: Node, path: string, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = `${path}.${key}`;
    if (child.type === 'object' && child.properties && Object.keys(child.properties).length) {
      rows(child, p, out);
      continue;
    }
    const desc = (child.description ?? '') + (child.secret ? ' (secret: redacted in logs and `config`)' : '');
    out.push(`| \`${p}\` | ${cell(typeOf(child))} | ${child.default === undefined ? '' : cell(code(child.default))} | ${cell(bounds(child))} | ${applyText(p)} | ${REMOTE_TEXT[keyPolicy(p).remote]} | ${cell(desc)} |`);
  }
}

/** The whole markdown text of docs/config.md. */
export function generateConfigDocs(schema: TSchema = AgentConfigSchema): string {
  const out = [
    '# pafcast configuration reference',
    '',
    '<!-- Generated from src/agent/config/schema.ts by src/agent/config/docs.ts; do not edit by hand. -->',
    '',
    'One JSON file (`pafcast run --config FILE`); every key is optional and unknown keys are errors.',
    'Later sources win: schema defaults, the file, environment, command-line flags.',
    '',
    '- Environment: `PAFCAST__<SECTION>__<KEY>=value` sets any key (`PAFCAST__MQTT__QOS__POSES=1`);',
    '  `PAFCAST_MQTT_URL`, `PAFCAST_MQTT_USERNAME`, `PAFCAST_MQTT_PASSWORD`, `PAFCAST_BROKER_USERNAME`, `PAFCAST_BROKER_PASSWORD` and',
    '  `PAFCAST_HTTP_TOKEN` are short forms.',
    '- Command line: `--set key.path=value` sets any key; `pafcast run --help` lists the short flags.',
    '- "Applies": `live` keys change at once; `restarts X` restarts only module X (a pipeline restart takes telemetry,',
    '  preview, events and sd_notify along); `agent restart` keys need the process restarted. Changes come from remote',
    '  config (`config/set`) or from the file, re-read on SIGHUP.',
    '- "Remote": whether `config/set` may change the key: `yes` (signed, or unsigned where the local file sets',
    '  `remote.allow_unsigned`), `signed only` (keys that decide who can reach the device), `no (local file)`',
    '  (keys that name a program, an argument vector, a file or a directory, and remote config itself).',
    '',
  ];
  for (const [section, node] of Object.entries((schema as Node).properties ?? {})) {
    out.push(`## \`${section}\``, '');
    if (node.description) out.push(node.description, '');
    const body: string[] = [];
    rows(node, section, body);
    if (body.length === 0) {
      out.push('No keys yet.', '');
      continue;
    }
    out.push('| key | type | default | bounds | applies | remote | description |', '|---|---|---|---|---|---|---|', ...body, '');
  }
  return out.join('\n');
}

/** The package root, found upwards from this file so it works from src/ (tests) and dist/ (CLI). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const configDocsPath = join(packageRoot(), 'docs', 'config.md');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(configDocsPath, generateConfigDocs());
  process.stdout.write(`wrote ${configDocsPath}\n`);
}
