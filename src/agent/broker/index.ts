// The embedded MQTT broker that makes a fresh install work with one command: started only when
// mqtt.url is empty, on broker.host:broker.port (127.0.0.1:1883). Mosquitto (MQTT 5 and 3.1.1) as
// a managed child where a Mosquitto >= 1.6 is installed; aedes in-process (3.1.1 only) otherwise,
// with one warning. Both engines enforce the same rules (access.ts): authentication whenever the
// broker listens beyond loopback, only the agent's own connection publishes what the device says
// about itself, a message size limit, and bounded retained storage.
//
// The engine is chosen in the constructor (one `mosquitto -h`, a few ms), so the agent knows the
// protocol and its own credentials before it creates its MQTT client.

import type { Logger } from 'pino';
import type { MetricFamily } from '../../telemetry/prometheus.js';
import { TopicRules } from './access.js';
import { AedesEngine } from './aedes.js';
import { brokerConfigProblems, isLoopbackHost, type BrokerConfig, type BrokerEngineName } from './config-schema.js';
import { chooseEngine, type EngineChoice } from './engine.js';
import { MosquittoEngine } from './mosquitto.js';
import { agentCredentials, configuredUsers, type BrokerCredentials } from './passwords.js';
import type { BrokerEngine } from './types.js';

export { BrokerConfigSchema, type BrokerConfig } from './config-schema.js';
export type { BrokerCredentials } from './passwords.js';

export interface EmbeddedBrokerOptions {
  /** mqtt.prefix. */
  prefix: string;
  /** The resolved mqtt.device_id: `<prefix>/<deviceId>/` is what only the agent may publish under. */
  deviceId: string;
  /** homeassistant.prefix: the agent's discovery topics `<discoveryPrefix>/+/<deviceId>/#` are protected too. */
  discoveryPrefix?: string;
  log: Logger;
  /** Where `mosquitto` is looked for (PATH) and what the child inherits of it; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export class EmbeddedBroker {
  /** The agent's own login, random per EmbeddedBroker (so per agent start); give it to the agent's MQTT client. */
  readonly clientCredentials: BrokerCredentials;
  private choice: EngineChoice;
  private readonly topics: { base: string; deviceId: string; discoveryPrefix: string };
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private engine: BrokerEngine | undefined;
  private anonymous = false;

  constructor(
    private readonly config: BrokerConfig,
    opts: EmbeddedBrokerOptions,
  ) {
    this.log = opts.log;
    this.env = opts.env ?? process.env;
    this.topics = { base: `${opts.prefix}/${opts.deviceId}`, deviceId: opts.deviceId, discoveryPrefix: opts.discoveryPrefix ?? 'homeassistant' };
    this.clientCredentials = agentCredentials();
    this.choice = chooseEngine(config, this.env);
  }

  /** The engine that runs (or will run at start()). */
  get engineName(): BrokerEngineName {
    return this.choice.engine;
  }

  /** The newest MQTT protocol the engine speaks: 5 for Mosquitto, 4 (3.1.1) for aedes. */
  get protocolVersion(): 5 | 4 {
    return this.choice.engine === 'mosquitto' && !this.choice.error ? 5 : 4;
  }

  /** mqtt:// URL clients on this machine use (the wildcard addresses are reached through loopback). */
  get url(): string {
    const host = this.connectHost;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  private get connectHost(): string {
    const h = this.config.host.replace(/^\[|\]$/g, '');
    if (h === '0.0.0.0') return '127.0.0.1';
    if (h === '::') return '::1';
    return h;
  }

  /** The port clients reach it on. */
  get port(): number {
    return this.engine?.port ?? this.config.port;
  }

  /** Starts the engine; rejects with one clear message when it cannot (no credentials beyond loopback, port taken...). */
  async start(): Promise<void> {
    const problems = brokerConfigProblems(this.config);
    if (problems.length) throw new Error(`embedded MQTT broker not started: ${problems.join('; ')}`);
    if (this.choice.error) throw new Error(this.choice.error);
    // Throws for a base no ACL could protect (control characters, %...), before anything listens.
    const rules = new TopicRules(this.topics);
    const { users, problems: userProblems } = configuredUsers(this.config);
    for (const p of userProblems) this.log.warn(`broker.password_file: ${p}`);
    const loopback = isLoopbackHost(this.config.host);
    if (!loopback && users.length === 0)
      throw new Error(`embedded MQTT broker not started: it would listen on ${this.config.host} without any usable user: ${this.config.password_file} has none (see the lines above)`);
    // Configured users switch anonymous access off, as they would on any broker.
    this.anonymous = loopback && users.length === 0;
    const setup = { config: this.config, rules, agent: this.clientCredentials, users, allowAnonymous: this.anonymous, log: this.log };

    if (this.choice.engine === 'mosquitto') {
      const probe = this.choice.mosquitto!;
      const engine = new MosquittoEngine(setup, { binary: probe.binary, version: probe.version!, connectHost: this.connectHost, env: this.env });
      try {
        await engine.start();
        this.engine = engine;
        this.logStarted();
        return;
      } catch (e) {
        const msg = (e as Error).message;
        // A taken port or an explicit engine: nothing else would do better.
        if (this.config.engine === 'mosquitto' || /cannot listen on/.test(msg)) throw e;
        this.choice = {
          engine: 'aedes',
          reason: `Mosquitto failed to start (${msg}); using aedes`,
          warning: `embedded MQTT broker: Mosquitto failed to start (${msg}), so it runs aedes, which speaks MQTT 3.1.1 only: MQTT 5 clients and Home Assistant 2027.1 and later cannot connect`,
          mosquitto: this.choice.mosquitto,
        };
      }
    }
    const engine = new AedesEngine(setup);
    await engine.start();
    this.engine = engine;
    this.logStarted();
  }

  private logStarted(): void {
    const c = this.choice;
    if (c.warning) this.log.warn(c.warning);
    const auth = this.anonymous ? 'anonymous allowed (loopback only)' : 'users required';
    this.log.info({ engine: c.engine, host: this.config.host, port: this.port, auth, reason: c.reason }, `embedded MQTT broker listening (${c.engine})`);
  }

  async stop(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    await engine?.stop();
  }

  /** The `broker` section of `stats`: which engine, why, and its health. */
  statsSection(): Record<string, unknown> {
    const c = this.choice;
    const version = c.engine === 'mosquitto' ? (c.mosquitto?.version?.text ?? null) : null;
    return {
      engine: c.engine,
      version,
      mqtt5: this.protocolVersion === 5,
      reason: c.reason,
      listen: `${this.config.host}:${this.port}`,
      authentication: this.anonymous ? 'anonymous allowed (loopback only)' : 'required',
      running: this.engine?.up ?? false,
      refused: { logins: this.engine?.refused.logins ?? 0, oversize: this.engine?.refused.oversize ?? 0 },
      ...this.engine?.stats(),
    };
  }

  /** Prometheus families for /metrics: the engine (info), whether it is up, refusals, engine figures. */
  metricFamilies(): MetricFamily[] {
    const c = this.choice;
    const refused = this.engine?.refused ?? { logins: 0, oversize: 0 };
    return [
      {
        name: 'pafcast_broker_info',
        type: 'gauge',
        help: 'The embedded broker engine (label engine: mosquitto or aedes; mqtt5: whether MQTT 5 clients can connect).',
        samples: [{ labels: { engine: c.engine, version: c.engine === 'mosquitto' ? (c.mosquitto?.version?.text ?? '') : '', mqtt5: String(this.protocolVersion === 5) }, value: 1 }],
      },
      { name: 'pafcast_broker_up', type: 'gauge', help: 'Whether the embedded broker accepts connections (1) or not (0).', samples: [{ value: this.engine?.up ? 1 : 0 }] },
      { name: 'pafcast_broker_refused_logins_total', type: 'counter', help: 'Logins the embedded broker refused (unknown user, wrong password, anonymous where not allowed).', samples: [{ value: refused.logins }] },
      { name: 'pafcast_broker_oversize_total', type: 'counter', help: 'Clients disconnected for a packet over broker.max_message_bytes.', samples: [{ value: refused.oversize }] },
      ...(this.engine?.metrics() ?? []),
    ];
  }

  /** Directory of the managed Mosquitto's files while it runs (tests). */
  get mosquittoDir(): string | null {
    return this.engine instanceof MosquittoEngine ? this.engine.stateDir : null;
  }

  /** Pid of the managed Mosquitto while it runs (tests, stats). */
  get mosquittoPid(): number | null {
    return this.engine instanceof MosquittoEngine ? this.engine.pid : null;
  }
}
