// What EmbeddedBroker needs from an engine (aedes in-process, Mosquitto as a managed child).

import type { Logger } from 'pino';
import type { MetricFamily } from '../../telemetry/prometheus.js';
import type { TopicRules } from './access.js';
import type { BrokerConfig, BrokerEngineName } from './config-schema.js';
import type { BrokerCredentials, BrokerUser } from './passwords.js';

/** Everything an engine enforces, resolved once by EmbeddedBroker.start(). */
export interface EngineSetup {
  config: BrokerConfig;
  rules: TopicRules;
  /** The agent's own login. */
  agent: BrokerCredentials;
  /** Everybody else who may log in. */
  users: BrokerUser[];
  /** Anonymous clients are accepted only on a loopback-only listener without configured users. */
  allowAnonymous: boolean;
  log: Logger;
}

export interface BrokerEngine {
  readonly name: BrokerEngineName;
  /** Port clients reach it on. */
  readonly port: number;
  /** Resolves once clients can connect; rejects with the reason it cannot. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Engine-specific figures for the `broker` stats section. */
  stats(): Record<string, unknown>;
  /** Engine-specific Prometheus families. */
  metrics(): MetricFamily[];
  /** Whether clients can connect now. */
  readonly up: boolean;
  readonly refused: RefusalCounters;
}

/** Clients refused for their credentials or for an oversized packet, for stats and /metrics. */
export interface RefusalCounters {
  logins: number;
  oversize: number;
}

export type { BrokerEngineName };
