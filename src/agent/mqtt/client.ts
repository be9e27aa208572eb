// The only place in pafcast that talks MQTT. It prefixes every topic with <prefix>/<device_id>/,
// accepts only topics declared in topics.ts, keeps the retained `status` true (online on
// connect, offline as last will, stopped on clean shutdown), reconnects with exponential backoff
// and, while the broker is away, holds messages in a bounded queue flushed in order on reconnect.

import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MqttConfig } from './config-schema.js';
import { OfflineQueue } from './offline-queue.js';
import { TOPICS, encodePayload, type TopicName, type TopicPayloads } from './topics.js';

interface Outgoing {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface MqttCounters {
  connected: boolean;
  queued: number;
  dropped: number;
  published: number;
  reconnects: number;
}

export type InboundHandler = (payload: Buffer) => void;

export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

/** `<prefix>/<device_id>`, refusing anything that would make a wildcard or an empty level. */
export function baseTopic(prefix: string, deviceId: string): string {
  const base = `${prefix}/${deviceId}`;
  if (/[#+]/.test(base)) throw new TopicError(`topic base "${base}" contains an MQTT wildcard (+ or #)`);
  if (base.split('/').some((level) => level === '')) throw new TopicError(`topic base "${base}" has an empty level`);
  return base;
}

/** Reads the PEM files named in mqtt.tls; a missing file is a clear error, not a TLS failure later. */
function tlsOptions(tls: MqttConfig['tls']): Partial<IClientOptions> {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`mqtt.tls.${what}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const opts: Partial<IClientOptions> = { rejectUnauthorized: tls.reject_unauthorized };
  if (tls.ca) opts.ca = read('ca', tls.ca);
  if (tls.cert) opts.cert = read('cert', tls.cert);
  if (tls.key) opts.key = read('key', tls.key);
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new Error('mqtt.tls: cert and key must be given together');
  return opts;
}

export class AgentMqtt {
  readonly base: string;
  private client: MqttClient | undefined;
  private readonly queue: OfflineQueue<Outgoing>;
  /** Retained state topics keep only their newest value while offline; flushed before the stream. */
  private readonly pendingRetained = new Map<string, Outgoing>();
  private readonly handlers = new Map<string, InboundHandler>();
  private publishedTotal = 0;
  private reconnectsTotal = 0;
  private backoffMs: number;
  private stopping = false;

  constructor(
    private readonly url: string,
    private config: MqttConfig,
    deviceId: string,
    private readonly log: Logger,
  ) {
    this.base = baseTopic(config.prefix, deviceId);
    this.queue = new OfflineQueue<Outgoing>(config.queue_max);
    this.backoffMs = config.reconnect.min_ms;
  }

  /** Full topic name of a declared topic. */
  topic(name: TopicName): string {
    return `${this.base}/${name}`;
  }

  /**
   * True from our 'connect' handler (after the queue was flushed) until 'close'. mqtt.js's own
   * `connected` turns true earlier, while it resends its in-flight messages; publishing directly
   * in that window would overtake the queued messages.
   */
  get connected(): boolean {
    return this.linkUp;
  }

  counters(): MqttCounters {
    return {
      connected: this.connected,
      queued: this.queue.size + this.pendingRetained.size,
      dropped: this.queue.dropped,
      published: this.publishedTotal,
      reconnects: this.reconnectsTotal,
    };
  }

  /** Starts connecting and returns at once: an absent broker only delays delivery, it never fails the agent. */
  start(): void {
    const statusQos = this.config.qos.status;
    const options: IClientOptions = {
      // Derived from the whole base topic: two agents with different prefixes on one broker must not evict each other.
      clientId: this.config.client_id || `pafcast_${this.base.replaceAll('/', '_')}`,
      clean: true,
      keepalive: this.config.keepalive_s,
      reconnectPeriod: this.config.reconnect.min_ms,
      connectTimeout: 10_000,
      // Our own bounded queue replaces mqtt.js's unbounded one.
      queueQoSZero: false,
      will: { topic: this.topic('status'), payload: Buffer.from('offline'), qos: statusQos, retain: true },
      ...(this.config.username ? { username: this.config.username } : {}),
      ...(this.config.password ? { password: this.config.password } : {}),
      ...(/^(mqtts|wss):/.test(this.url) ? tlsOptions(this.config.tls) : {}),
    };
    const client = mqtt.connect(this.url, options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('reconnect', () => {
      this.reconnectsTotal++;
      this.log.debug({ delay_ms: this.backoffMs }, 'reconnecting to the MQTT broker');
    });
    client.on('error', (err) => this.log.warn({ err: err.message, url: this.url }, 'MQTT error'));
    client.on('message', (topic, payload) => {
      const handler = this.handlers.get(topic);
      if (!handler) return;
      try {
        handler(payload);
      } catch (e) {
        this.log.error({ err: (e as Error).message, topic }, 'MQTT message handler failed');
      }
    });
  }

  private wasConnected = false;
  private linkUp = false;

  private onConnect(): void {
    this.backoffMs = this.config.reconnect.min_ms;
    if (this.client) this.client.options.reconnectPeriod = this.backoffMs;
    this.wasConnected = true;
    this.log.info({ url: this.url, base: this.base }, 'connected to the MQTT broker');
    this.send({ topic: this.topic('status'), payload: 'online', qos: this.config.qos.status, retain: true });
    const retained = [...this.pendingRetained.values()];
    this.pendingRetained.clear();
    const queued = this.queue.drain();
    for (const m of retained) this.send(m);
    for (const m of queued) this.send(m);
    this.linkUp = true;
    if (queued.length) this.log.info({ flushed: queued.length, dropped_total: this.queue.dropped }, 'sent messages queued while offline');
  }

  private onClose(): void {
    this.linkUp = false;
    if (this.stopping) return;
    if (this.wasConnected) this.log.warn({ url: this.url, queue_max: this.queue.capacity }, 'MQTT broker connection lost; queueing messages');
    this.wasConnected = false;
    // mqtt.js reconnects at a fixed period; doubling it here gives backoff for the next attempt.
    if (this.client) this.client.options.reconnectPeriod = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.config.reconnect.max_ms);
  }

  private send(m: Outgoing): void {
    this.client!.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain }, (err) => {
      if (err && !this.stopping) this.log.debug({ err: err.message, topic: m.topic }, 'MQTT publish failed');
    });
    this.publishedTotal++;
  }

  /** Publishes a declared outgoing topic with its configured QoS and retain flag. */
  publish<K extends TopicName>(name: K, payload: TopicPayloads[K]): void {
    const spec = TOPICS[name];
    if (!spec) throw new TopicError(`"${String(name)}" is not a pafcast topic`);
    if (spec.direction !== 'out') throw new TopicError(`"${name}" is an incoming topic; the agent does not publish it`);
    const m: Outgoing = { topic: this.topic(name), payload: encodePayload(name, payload), qos: this.config.qos[spec.qos], retain: spec.retained };
    if (this.linkUp) this.send(m);
    else if (m.retain) this.pendingRetained.set(m.topic, m);
    else this.queue.push(m);
  }

  /** Calls `handler` with every message on a declared incoming topic (re-subscribed after reconnects). */
  subscribe(name: TopicName, handler: InboundHandler): void {
    const spec = TOPICS[name];
    if (spec.direction !== 'in') throw new TopicError(`"${name}" is published by the agent; it does not subscribe to it`);
    if (!this.client) throw new Error('AgentMqtt.subscribe before start()');
    const topic = this.topic(name);
    this.handlers.set(topic, handler);
    this.client.subscribe(topic, { qos: this.config.qos[spec.qos] }, (err) => {
      if (err) this.log.warn({ err: err.message, topic }, 'MQTT subscribe failed');
    });
  }

  /** Stops delivering messages of an incoming topic. */
  unsubscribe(name: TopicName): void {
    const topic = this.topic(name);
    if (!this.handlers.delete(topic)) return;
    this.client?.unsubscribe(topic, (err) => {
      if (err) this.log.warn({ err: err.message, topic }, 'MQTT unsubscribe failed');
    });
  }

  /** Live-changeable settings: QoS, queue size, empty-frame skipping (the rest need a restart). */
  updateConfig(config: MqttConfig): void {
    this.config = config;
    if (config.queue_max !== this.queue.capacity) this.queue.resize(config.queue_max);
  }

  /** Resolves once connected, or rejects after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client?.off('connect', onConnect);
        reject(new Error(`no MQTT connection to ${this.url} after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client?.once('connect', onConnect);
    });
  }

  /** Clean shutdown: retained `stopped`, then disconnect (so the broker does not send the last will). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    if (this.linkUp) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        client.publish(this.topic('status'), 'stopped', { qos: this.config.qos.status, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await client.endAsync(false).catch(() => undefined);
    } else {
      await client.endAsync(true).catch(() => undefined);
    }
    this.client = undefined;
  }
}
