// Remote configuration as an agent module: `config/set` requests go through the update handler
// (size, signature, key policy, version, full-schema validation, atomic persist), are applied to the
// running agent, and get exactly one answer on `config/result`. A change that restarts this module
// itself (it cannot stop while inside its own request) is applied after the answer is sent.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { AgentModule, AgentServices, LiveChangeResult } from '../agent.js';
import { resolveConfig } from '../config/load.js';
import { AgentConfigSchema, changedPaths, keyPolicy, type AgentConfig } from '../config/schema.js';
import type { ModuleScope } from '../lifecycle.js';
import { createConfigStore } from './config-store.js';
import { createConfigUpdateHandler, requestIdFromBytes, type ConfigUpdateHandler, type UpdateResult } from './config-updates.js';
import { loadPublicKey } from './signing.js';

export interface RemoteModuleOptions {
  /** The config file the agent was started with; changes are persisted there. */
  configFile?: string;
  /** Environment and flag overrides, re-applied on top of every patched file. */
  env: Record<string, string | undefined>;
  flags: Record<string, unknown>;
  /** Makes a new effective config live (Agent.applyLive). */
  applyLive(next: AgentConfig, opts?: { defer?: string[] }): Promise<LiveChangeResult>;
}

/** The file config with schema defaults filled in (no environment, no flags): what the file itself says. */
function fileView(fileConfig: unknown): Record<string, unknown> {
  return Value.Default(AgentConfigSchema, structuredClone(fileConfig ?? {})) as Record<string, unknown>;
}

/**
 * The key policy for one request: every key whose value the patch changes (defaults included, so
 * deleting a key counts too) must be remote-changeable, and signed-only keys need a signature.
 */
export function policyErrors(prev: unknown, next: unknown, signed: boolean): string[] {
  const errors: string[] = [];
  for (const path of changedPaths(fileView(prev) as AgentConfig, fileView(next) as AgentConfig)) {
    let remote;
    try {
      remote = keyPolicy(path).remote;
    } catch {
      continue; // not a config key: validation names it
    }
    if (remote === 'local-only')
      errors.push(`${path}: may only be changed in the device's local config file, never over MQTT (it names a program, a file or a directory, or configures remote config)`);
    else if (remote === 'signed-only' && !signed)
      errors.push(`${path}: changes who can reach the device and needs a signed update (set remote.public_key on the device, sign with \`pafcast remote set --key\`)`);
  }
  return errors;
}

export class RemoteConfigModule implements AgentModule {
  readonly name = 'remote';
  private handler: ConfigUpdateHandler | undefined;
  private unsubscribe: (() => void) | undefined;
  /** A request is being handled (its apply step may, if wired wrongly, try to restart this module). */
  private answering = false;
  /** One request at a time: each sees the config the previous one left. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly s: AgentServices,
    private readonly o: RemoteModuleOptions,
  ) {}

  async start(scope: ModuleScope): Promise<void> {
    const { config, log, mqtt } = this.s;
    const cfg = config.remote;
    const rlog = log.child({ module: 'remote' });
    if (!cfg.enabled) {
      rlog.info('remote configuration is off (remote.enabled=false)');
      return;
    }
    const reject = (why: string) =>
      scope.own(
        mqtt.subscribe('config/set', (payload) => {
          mqtt.publish('config/result', { request_id: requestIdFromBytes(payload), ok: false, errors: [why], applied: [], restarted: [], restart_required: [] });
        }),
      );
    if (!this.o.configFile) {
      // Without a file a change could not survive a restart; say so to every requester.
      rlog.warn('no --config file: config/set requests are answered with an error');
      reject('this agent runs without a config file (pafcast run --config FILE), so it cannot persist a change; nothing was changed');
      return;
    }
    if (!cfg.public_key && !cfg.allow_unsigned)
      rlog.warn('remote configuration needs remote.public_key (signed updates) or remote.allow_unsigned: true; config/set requests are refused until then');
    let startupProblem: string | undefined;
    if (cfg.public_key) {
      try {
        mkdirSync(dirname(cfg.state_file), { recursive: true, mode: 0o750 });
      } catch (e) {
        startupProblem = `cannot create the directory of remote.state_file ${cfg.state_file}: ${(e as Error).message} (create it writable for the agent's user, or point remote.state_file elsewhere)`;
        rlog.error(startupProblem);
      }
    }
    const store = createConfigStore({ configPath: this.o.configFile, statePath: cfg.state_file });
    const { env, flags } = this.o;
    this.handler = createConfigUpdateHandler<Record<string, unknown>>({
      loadCurrent: () => {
        const bytes = store.readConfigBytes();
        return bytes ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : {};
      },
      validate: (fileConfig) => resolveConfig(fileConfig as Record<string, unknown>, { env, flags }).errors,
      checkPolicy: policyErrors,
      apply: async (next) => {
        const change = await this.o.applyLive(resolveConfig(next, { env, flags }).config, { defer: ['remote'] });
        return {
          applied: change.applied,
          restarted: change.restarted,
          restart_required: change.restart.map((r) => `${r.path} (restart ${r.scope})`),
          afterAnswer: change.afterAnswer,
        };
      },
      store,
      publicKey: cfg.public_key ? loadPublicKey(cfg.public_key) : undefined,
      allowUnsigned: cfg.allow_unsigned,
      startupProblem,
      deviceId: config.mqtt.device_id,
      maxBytes: cfg.max_payload_bytes,
      log: rlog,
    });
    this.unsubscribe = scope.own(
      mqtt.subscribe('config/set', (payload) => {
        this.queue = this.queue.then(() => this.answer(payload));
      }),
    );
    rlog.info({ signed: Boolean(cfg.public_key), unsigned_allowed: !cfg.public_key && cfg.allow_unsigned, file: this.o.configFile }, 'accepting remote configuration on config/set');
  }

  private async answer(payload: Buffer): Promise<void> {
    let result: UpdateResult;
    let after: (() => Promise<void>) | undefined;
    this.answering = true;
    try {
      ({ result, afterAnswer: after } = await this.handler!.handle(payload));
    } catch (e) {
      // The handler answers every rejection itself; this is a bug or an I/O failure. Still answer once.
      result = { request_id: requestIdFromBytes(payload), ok: false, errors: [(e as Error).message], applied: [], restarted: [], restart_required: [] };
    } finally {
      this.answering = false;
    }
    this.s.mqtt.publish('config/result', result);
    // Outside this request's turn in the queue: restarting this module waits for the queue to drain.
    if (after) setImmediate(() => void after!().catch((e: Error) => this.s.log.error({ err: e.message }, 'restart after a remote change failed')));
  }

  async stop(): Promise<void> {
    // No new requests, then let the one in progress finish (and answer).
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    // Stopped from inside its own request (a restart that was not deferred): waiting for the queue
    // would wait for ourselves. That request still finishes and answers on its own.
    if (this.answering) return;
    await this.queue;
  }
}
