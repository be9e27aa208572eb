// A small stand-in for the agent's config schema and the parts the update handler needs.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { createConfigStore, type ConfigStore } from '../../../src/agent/remote/config-store.js';
import { changedPaths } from '../../../src/agent/remote/merge-patch.js';
import type { ApplyOutcome } from '../../../src/agent/remote/config-updates.js';

export const TestConfigSchema = Type.Object(
  {
    parser: Type.Object({ threshold: Type.Number({ minimum: 0, maximum: 1 }), max_people: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    preview: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
    mqtt: Type.Object({ url: Type.String(), password: Type.String() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type TestConfig = Static<typeof TestConfigSchema>;

export const initialConfig: TestConfig = {
  parser: { threshold: 0.1, max_people: 0 },
  preview: { enabled: false },
  mqtt: { url: 'mqtt://broker', password: 's3cret' },
};

export function validateTestConfig(config: unknown): string[] {
  return [...Value.Errors(TestConfigSchema, config)].map((e) => `${e.path || '(root)'}: ${e.message}`);
}

/** Which keys apply live in this fake agent: everything except the broker connection. */
export async function applyTestConfig(next: TestConfig, prev: TestConfig): Promise<ApplyOutcome> {
  const changed = changedPaths(prev, next);
  return { applied: changed.filter((p) => !p.startsWith('mqtt.')), restarted: [], restart_required: changed.filter((p) => p.startsWith('mqtt.')) };
}

export interface TestDevice {
  dir: string;
  store: ConfigStore;
  current(): TestConfig;
}

export function makeDevice(config: TestConfig = initialConfig): TestDevice {
  const dir = mkdtempSync(join(tmpdir(), 'pafcast-remote-'));
  const store = createConfigStore({ configPath: join(dir, 'config.json'), statePath: join(dir, 'state.json') });
  writeFileSync(store.configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { dir, store, current: () => JSON.parse(store.readConfigBytes()!.toString('utf8')) as TestConfig };
}

export const quietLog = { info: () => {}, warn: () => {} };
