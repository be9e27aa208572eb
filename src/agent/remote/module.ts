// Remote configuration as an agent module: `config/set` requests go through the update handler
// (size, signature, version, full-schema validation, atomic persist), are applied to the running
// agent, and get exactly one answer on `config/result`.

import type { AgentModule, AgentServices, LiveChangeResult } from '../agent.js';
import { resolveConfig } from '../config/load.js';
import type { AgentConfig } from '../config/schema.js';
import { createConfigStore } from './config-store.js';
import { createConfigUpdateHandler, type ConfigUpdateHandler, type UpdateResult } from './config-updates.js';
import { loadPublicKey } from './signing.js';

export interface RemoteModuleOptions {
  /** The config file the agent was started with; changes are persisted there. */
  configFile?: string;
  /** Environment and flag overrides, re-applied on top of every patched file. */
  env: Record<string, string | undefined>;
  flags: Record<string, unknown>;
  /** Makes a new effective config live (Agent.applyLive). */
  applyLive(next: AgentConfig): Promise<LiveChangeResult>;
}

export class RemoteConfigModule implements AgentModule {
  readonly name = 'remote';
  private handler: ConfigUpdateHandler | undefined;
  /** One request at a time: each sees the config the previous one left. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly s: AgentServices,
    private readonly o: RemoteModuleOptions,
  ) {}

  async start(): Promise<void> {
    const { config, log, mqtt } = this.s;
    const cfg = config.remote;
    const rlog = log.child({ module: 'remote' });
    if (!cfg.enabled) {
      rlog.info('remote configuration is off (remote.enabled=false)');
      return;
    }
    if (!this.o.configFile) {
      // Without a file a change could not survive a restart; say so to every requester.
      mqtt.subscribe('config/set', (payload) => {
        mqtt.publish('config/result', {
          request_id: requestIdOf(payload),
          ok: false,
          errors: ['this agent runs without a config file (pafcast run --config FILE), so it cannot persist a change; nothing was changed'],
          applied: [],
          restart_required: [],
        });
      });
      rlog.warn('no --config file: config/set requests are answered with an error');
      return;
    }
    const store = createConfigStore({ configPath: this.o.configFile, statePath: cfg.state_file });
    const env = this.o.env;
    const flags = this.o.flags;
    this.handler = createConfigUpdateHandler<Record<string, unknown>>({
      loadCurrent: () => {
        const bytes = store.readConfigBytes();
        return bytes ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : {};
      },
      validate: (fileConfig) => resolveConfig(fileConfig as Record<string, unknown>, { env, flags }).errors,
      apply: async (next) => {
        const change = await this.o.applyLive(resolveConfig(next, { env, flags }).config);
        return { applied: change.applied, restart_required: change.restart.map((r) => `${r.path} (restart ${r.scope})`) };
      },
      store,
      publicKey: cfg.public_key ? loadPublicKey(cfg.public_key) : undefined,
      deviceId: config.mqtt.device_id,
      maxBytes: cfg.max_payload_bytes,
      log: rlog,
    });
    mqtt.subscribe('config/set', (payload) => {
      this.queue = this.queue.then(() => this.answer(payload));
    });
    rlog.info({ signed: Boolean(cfg.public_key), file: this.o.configFile }, 'accepting remote configuration on config/set');
  }

  private async answer(payload: Buffer): Promise<void> {
    let result: UpdateResult;
    try {
      result = await this.handler!.handle(payload);
    } catch (e) {
      // The handler answers every rejection itself; this is a bug or an I/O failure. Still answer once.
      result = { request_id: requestIdOf(payload), ok: false, errors: [(e as Error).message], applied: [], restart_required: [] };
    }
    this.s.mqtt.publish('config/result', result);
  }

  async stop(): Promise<void> {
    this.s.mqtt.unsubscribe('config/set');
    await this.queue;
  }
}

/** Best-effort request id of a message the handler never saw, so the answer can still be matched. */
function requestIdOf(payload: Buffer): string | null {
  try {
    const msg = JSON.parse(payload.toString('utf8')) as { request_id?: unknown; payload?: unknown };
    const inner = typeof msg.payload === 'string' ? (JSON.parse(msg.payload) as { request_id?: unknown }) : msg;
    return typeof inner.request_id === 'string' ? inner.request_id : null;
  } catch {
    return null;
  }
}
