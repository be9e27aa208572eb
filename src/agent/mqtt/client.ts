// The only place in pafcast that talks MQTT. It prefixes every topic with <prefix>/<device_id>/,
// accepts only topics declared in topics.ts, and keeps what it owns true on the broker:
// - MQTT 5 by default (message expiry on poses, content type and payload-format indicator, session
//   expiry), with one log line and a fallback to 3.1.1 when the broker refuses v5;
// - it never gives up: refused logins, bad credentials, DNS and TLS failures are all retried forever
//   with exponential backoff, logged once per change of state (not per retry) and counted;
// - every retained topic it owns (status, config, people, ...) is re-published on every connect and
//   re-asserted when somebody else overwrites it, and a second agent with the same device id is
//   detected and reported with the fix;
// - while the broker is away, messages wait in a bounded queue, flushed in order on reconnect.

import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { MetricFamily } from '../../telemetry/prometheus.js';
import type { MqttConfig } from './config-schema.js';
import { OfflineQueue } from './offline-queue.js';
import { TOPICS, encodePayload, type TopicName, type TopicPayloads } from './topics.js';

interface Outgoing {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Declared topic it belongs to (for v5 properties), or null for an external one. */
  name: TopicName | null;
}

export interface MqttCounters {
  connected: boolean;
  queued: number;
  dropped: number;
  published: number;
  reconnects: number;
  /** Connection attempts the broker refused for credentials or authorisation. */
  auth_failures: number;
  /** Protocol of the current (or last) connection: 5 or 4 (3.1.1). */
  protocol: 5 | 4;
  /** Why the connection is down (null while connected). */
  last_error: string | null;
  /** Retained topics somebody else overwrote and the agent put right again. */
  reasserted: number;
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

/** A topic outside the device's base (discovery, a consumer's birth message): no wildcards, no empty levels, not $-system. */
export function checkExternalTopic(topic: string): string {
  if (!topic || /[#+\0]/.test(topic) || topic.startsWith('$') || topic.split('/').some((l) => l === ''))
    throw new TopicError(`"${topic}" is not a topic the agent may use (wildcards, empty levels and $ topics are refused)`);
  return topic;
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

/** CONNACK codes (3.1.1 return codes and MQTT 5 reason codes) that mean "who you are is not accepted". */
const AUTH_CODES = new Set([4, 5, 134, 135, 138, 140]);
/** 3.1.1 "unacceptable protocol version" and MQTT 5 "unsupported protocol version": the broker does not speak v5. */
const PROTOCOL_CODES = new Set([1, 132]);
/** MQTT 5 DISCONNECT reason "session taken over": another client connected with our client id. */
const SESSION_TAKEN_OVER = 142;
/** A connection that lasts this long resets the backoff; shorter ones (a broker that keeps kicking us) keep growing it. */
const STABLE_CONNECTION_MS = 10_000;
/** Connections the broker closes within this time of opening them, with no error, hint at a client-id clash (3.1.1 says nothing). */
const QUICK_CLOSE_MS = 3_000;
const QUICK_CLOSES_FOR_WARNING = 3;
/** More foreign overwrites than this within the window: another agent publishes the same topics. */
const CONFLICTS_FOR_DUPLICATE = 3;
const CONFLICT_WINDOW_MS = 60_000;
/** While a duplicate is suspected, each retained topic is re-asserted at most this often (two agents must not ping-pong). */
const REASSERT_HOLDOFF_MS = 30_000;
/** A received value equal to one we sent within this time (and this many sends) is our own echo. */
const ECHO_WINDOW_MS = 30_000;
const ECHO_HISTORY = 16;

function describeError(err: Error & { code?: string | number }): string {
  const code = err.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the broker's host name (${err.message})`;
  if (code === 'ECONNREFUSED') return 'connection refused (no broker listening there)';
  if (typeof code === 'number' && AUTH_CODES.has(code)) return `${err.message} (check mqtt.username / mqtt.password, PAFCAST_MQTT_USERNAME / PAFCAST_MQTT_PASSWORD, and the broker's ACL)`;
  if (/certificate|self.signed|SSL|TLS|handshake/i.test(err.message)) return `TLS: ${err.message} (check mqtt.tls.ca and the broker's certificate)`;
  return err.message;
}

export class AgentMqtt {
  readonly base: string;
  private client: MqttClient | undefined;
  private readonly queue: OfflineQueue<Outgoing>;
  /** The value of every retained topic the agent owns: re-published on each connect, defended against overwrites. */
  private readonly retained = new Map<string, Outgoing>();
  private readonly handlers = new Map<string, { handler: InboundHandler; qos: 0 | 1 | 2 }>();
  /** Pending purges of stale retained topics (purgeStale), called with each retained topic the broker sends. */
  private readonly purges = new Set<(topic: string) => void>();
  private publishedTotal = 0;
  private reconnectsTotal = 0;
  private authFailuresTotal = 0;
  private reassertedTotal = 0;
  private backoffMs: number;
  private stopping = false;
  private linkUp = false;
  private protocol: 5 | 4;
  private connectedAt = 0;
  private downSince = Date.now();
  private lastError: string | null = 'not connected yet';
  /** The last state line logged, so a retry that fails the same way logs nothing new. */
  private lastReported = '';
  private quickCloses = 0;
  private readonly conflictTimes: number[] = [];
  private readonly lastReassert = new Map<string, number>();
  /** Re-assertions waiting out the hold-off (one per topic). */
  private readonly deferredReasserts = new Map<string, NodeJS.Timeout>();
  /** Recently sent payloads per retained topic: under 3.1.1 our own publishes come back, and may arrive after a newer value was sent. */
  private readonly recent = new Map<string, Array<{ payload: string; at: number }>>();
  private duplicateReported = false;
  /** External retained topics to delete on the next connection (deleteRetained while the broker was away). */
  private readonly pendingDeletes = new Set<string>();

  constructor(
    private readonly url: string,
    private config: MqttConfig,
    deviceId: string,
    private readonly log: Logger,
    /** Tests shorten the hold-off; the agent keeps the default. */
    private readonly reassertHoldoffMs = REASSERT_HOLDOFF_MS,
  ) {
    this.base = baseTopic(config.prefix, deviceId);
    this.queue = new OfflineQueue<Outgoing>(config.queue_max);
    this.backoffMs = config.reconnect.min_ms;
    this.protocol = config.protocol_version;
  }

  /** Full topic name of a declared topic. */
  topic(name: TopicName, param?: string): string {
    const spec = TOPICS[name];
    if (!spec?.param) return `${this.base}/${name}`;
    // One level of [A-Za-z0-9_-] (zone names are restricted to that by the events schema): never a wildcard or a new level.
    if (param === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(param)) throw new TopicError(`"${name}" needs a {${spec.param}} of 1-64 characters [A-Za-z0-9_-], got ${JSON.stringify(param)}`);
    return `${this.base}/${name.replace(`{${spec.param}}`, param)}`;
  }

  /** Topics of a parametrised declared topic (`zones/{zone}`) that the agent holds a retained value for. */
  retainedOf(name: TopicName): string[] {
    return [...this.retained.values()].filter((m) => m.name === name).map((m) => m.topic);
  }

  /**
   * True from our 'connect' handler (after the queue was flushed) until 'close'. mqtt.js's own
   * `connected` turns true earlier, while it resends its in-flight messages; publishing directly
   * in that window would overtake the queued messages.
   */
  get connected(): boolean {
    return this.linkUp;
  }

  /** Protocol in use (5, or 4 after a broker refused v5). */
  get protocolVersion(): 5 | 4 {
    return this.protocol;
  }

  counters(): MqttCounters {
    return {
      connected: this.connected,
      queued: this.queue.size,
      dropped: this.queue.dropped,
      published: this.publishedTotal,
      reconnects: this.reconnectsTotal,
      auth_failures: this.authFailuresTotal,
      protocol: this.protocol,
      last_error: this.linkUp ? null : this.lastError,
      reasserted: this.reassertedTotal,
    };
  }

  /** Null while connected; else why not, for /healthz. */
  problem(): string | null {
    if (this.linkUp) return null;
    const since = new Date(this.downSince).toISOString();
    return `not connected to the MQTT broker ${this.url} since ${since}: ${this.lastError ?? 'connecting'}`;
  }

  /** The same counters as Prometheus families, for /metrics. */
  metricFamilies(): MetricFamily[] {
    const c = this.counters();
    return [
      { name: 'pafcast_mqtt_connected', type: 'gauge', help: 'Whether the agent is connected to its MQTT broker (1) or not (0).', samples: [{ value: c.connected ? 1 : 0 }] },
      { name: 'pafcast_mqtt_protocol_version', type: 'gauge', help: 'MQTT protocol version of the connection (5, or 4 for 3.1.1).', samples: [{ value: c.protocol }] },
      { name: 'pafcast_mqtt_reconnects_total', type: 'counter', help: 'Reconnection attempts since start.', samples: [{ value: c.reconnects }] },
      { name: 'pafcast_mqtt_auth_failures_total', type: 'counter', help: 'Connections the broker refused for credentials or authorisation.', samples: [{ value: c.auth_failures }] },
      { name: 'pafcast_mqtt_messages_published_total', type: 'counter', help: 'Messages handed to the broker connection.', samples: [{ value: c.published }] },
      { name: 'pafcast_mqtt_messages_dropped_total', type: 'counter', help: 'Messages dropped because the offline queue was full.', samples: [{ value: c.dropped }] },
      { name: 'pafcast_mqtt_queued_messages', type: 'gauge', help: 'Messages waiting for the broker to come back.', samples: [{ value: c.queued }] },
      { name: 'pafcast_mqtt_retained_reasserted_total', type: 'counter', help: 'Retained topics of this device overwritten by another client and put right.', samples: [{ value: c.reasserted }] },
    ];
  }

  private connectOptions(): IClientOptions {
    const v5 = this.protocol === 5;
    const statusQos = this.config.qos.status;
    const sessionExpiry = this.config.session_expiry_s;
    return {
      protocolVersion: this.protocol,
      // Derived from the whole base topic: two agents with different prefixes on one broker must not evict each other.
      clientId: this.config.client_id || `pafcast_${this.base.replaceAll('/', '_')}`,
      // v5: the broker keeps the subscription (and queues config/set requests) across a short outage.
      clean: !(v5 && sessionExpiry > 0),
      ...(v5 ? { properties: { sessionExpiryInterval: sessionExpiry } } : {}),
      keepalive: this.config.keepalive_s,
      reconnectPeriod: this.backoffMs,
      // A refused login is retried like any other failure: a fixed broker or password must be picked up.
      reconnectOnConnackError: true,
      resubscribe: false,
      connectTimeout: 10_000,
      // Our own bounded queue replaces mqtt.js's unbounded one.
      queueQoSZero: false,
      will: {
        topic: this.topic('status'),
        payload: Buffer.from('offline'),
        qos: statusQos,
        retain: true,
        ...(v5 ? { properties: { contentType: 'text/plain', payloadFormatIndicator: true } } : {}),
      },
      ...(this.config.username ? { username: this.config.username } : {}),
      ...(this.config.password ? { password: this.config.password } : {}),
      ...(/^(mqtts|wss):/.test(this.url) ? tlsOptions(this.config.tls) : {}),
    };
  }

  /** Starts connecting and returns at once: an absent broker only delays delivery, it never fails the agent. */
  start(): void {
    const client = mqtt.connect(this.url, this.connectOptions());
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('reconnect', () => {
      this.reconnectsTotal++;
      this.log.debug({ delay_ms: this.backoffMs, protocol: this.protocol }, 'reconnecting to the MQTT broker');
    });
    client.on('error', (err) => this.onError(err as Error & { code?: string | number }));
    client.on('disconnect', (packet) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.reportDuplicate(`the broker ended this connection because another client connected with the same client id`);
      else this.lastError = `the broker disconnected us (reason code ${packet.reasonCode ?? 0})`;
    });
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
  }

  private report(level: 'info' | 'warn' | 'error', state: string, detail: object = {}): void {
    if (state === this.lastReported) return;
    this.lastReported = state;
    this.log[level]({ url: this.url, ...detail }, state);
  }

  private onError(err: Error & { code?: string | number }): void {
    if (this.stopping) return;
    const code = err.code;
    if (typeof code === 'number' && PROTOCOL_CODES.has(code) && this.protocol === 5) {
      // The broker speaks 3.1.1 only: say so once and retry at once with 3.1.1 on the same client.
      this.protocol = 4;
      const client = this.client!;
      Object.assign(client.options, this.connectOptions(), { reconnectPeriod: this.config.reconnect.min_ms });
      delete (client.options as { properties?: unknown }).properties;
      this.log.warn(
        { url: this.url },
        'the MQTT broker does not speak MQTT 5; falling back to 3.1.1 (no message expiry; Home Assistant 2027.1 and later need an MQTT 5 broker)',
      );
      return;
    }
    if (typeof code === 'number' && AUTH_CODES.has(code)) this.authFailuresTotal++;
    this.lastError = describeError(err);
    this.report('error', `MQTT connection failed: ${this.lastError}; retrying with backoff up to ${this.config.reconnect.max_ms} ms`);
  }

  private onConnect(): void {
    const now = Date.now();
    this.connectedAt = now;
    this.lastError = null;
    this.report('info', 'connected to the MQTT broker', { base: this.base, protocol: this.protocol === 5 ? '5' : '3.1.1' });
    // Subscriptions first, so a request published right after we are seen online is not missed.
    for (const [topic, { qos }] of this.handlers) this.subscribeOnBroker(topic, qos);
    this.send({ topic: this.topic('status'), payload: 'online', qos: this.config.qos.status, retain: true, name: 'status' });
    this.retained.set(this.topic('status'), { topic: this.topic('status'), payload: 'online', qos: this.config.qos.status, retain: true, name: 'status' });
    // Everything retained we own, every time: a broker restarted without persistence has forgotten it.
    for (const m of this.retained.values()) if (m.name !== 'status') this.send(m);
    for (const t of this.pendingDeletes) this.client!.publish(t, '', { qos: 1, retain: true });
    this.pendingDeletes.clear();
    // Watched after our values went out, so the stored copies the broker answers with are ours (as in publishExternal).
    this.watchOwnRetained();
    const queued = this.queue.drain();
    for (const m of queued) this.send(m);
    this.linkUp = true;
    if (queued.length) this.log.info({ flushed: queued.length, dropped_total: this.queue.dropped }, 'sent messages queued while offline');
  }

  private onClose(): void {
    const wasUp = this.linkUp;
    this.linkUp = false;
    if (this.stopping) return;
    const now = Date.now();
    if (wasUp) {
      this.downSince = now;
      const lasted = now - this.connectedAt;
      if (lasted >= STABLE_CONNECTION_MS) {
        this.backoffMs = this.config.reconnect.min_ms;
        this.quickCloses = 0;
      } else if (!this.lastError) {
        // Closed soon after opening, with no reason given: under 3.1.1 this is how a broker says another client took our client id.
        if (++this.quickCloses >= QUICK_CLOSES_FOR_WARNING)
          this.reportDuplicate(`the broker closed the connection ${this.quickCloses} times within ${QUICK_CLOSE_MS / 1000} s of opening it, without an error`);
      }
      this.lastError ??= 'the connection was lost';
      this.report('warn', `MQTT broker connection lost (${this.lastError}); queueing messages and reconnecting`, { queue_max: this.queue.capacity });
    }
    // mqtt.js reconnects at its configured period: doubling it here gives backoff for the next attempt.
    if (this.client) this.client.options.reconnectPeriod = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.config.reconnect.max_ms);
  }

  /** Logs the duplicate-device error once, with the fix; from then on re-assertion is rate-limited. */
  private reportDuplicate(evidence: string): void {
    if (this.duplicateReported) return;
    this.duplicateReported = true;
    const clientId = this.config.client_id || `pafcast_${this.base.replaceAll('/', '_')}`;
    this.log.error(
      { url: this.url, base: this.base, client_id: clientId },
      `another agent uses this device's topics on this broker (${evidence}): two devices share mqtt.device_id "${this.base.split('/').pop()}"` +
        ` (or mqtt.client_id). Give each device its own mqtt.device_id (default: the hostname), e.g. --device-id cam2`,
    );
  }

  /**
   * Subscribes to the retained topics we own, to notice when somebody else overwrites them, and to
   * our own `stats`: every agent publishes it periodically, so a stats message that is not ours
   * means a second agent publishes under this device's topics.
   */
  private watchOwnRetained(): void {
    const declared = (Object.keys(TOPICS) as TopicName[]).filter((n) => TOPICS[n].direction === 'out' && TOPICS[n].retained && !TOPICS[n].param).map((n) => this.topic(n));
    // Plus every retained topic published so far: parametrised ones (zones) and external ones (discovery).
    const published = [...this.retained.keys()];
    for (const t of new Set([...declared, ...published, this.topic('stats')])) this.subscribeOnBroker(t, 1, true);
  }

  private isRecentSend(topic: string, payload: string, now: number): boolean {
    return (this.recent.get(topic) ?? []).some((r) => r.payload === payload && now - r.at <= ECHO_WINDOW_MS);
  }

  private subscribeOnBroker(topic: string, qos: 0 | 1 | 2, own = false): void {
    // v5: noLocal keeps our own publishes from coming back, so anything received there is somebody else's.
    const opts = this.protocol === 5 && own ? { qos, nl: true } : { qos };
    this.client?.subscribe(topic, opts, (err) => {
      if (err && !this.stopping) this.log.warn({ err: err.message, topic }, 'MQTT subscribe failed');
    });
  }

  private onMessage(topic: string, payload: Buffer, retainFlag: boolean): void {
    if (this.stopping) return;
    if (topic === this.topic('stats')) {
      // v5: noLocal filters our own; 3.1.1: our own come back and are recognised by their bytes.
      const text = payload.toString('utf8');
      if (this.protocol === 5 || !this.isRecentSend(topic, text, Date.now())) this.reportDuplicate(`another client publishes on ${topic}`);
      return;
    }
    const mine = this.retained.get(topic);
    if (mine) return this.checkRetained(mine, payload, retainFlag);
    if (retainFlag && payload.length > 0) for (const purge of this.purges) purge(topic);
    const entry = this.handlers.get(topic);
    if (!entry) return;
    try {
      entry.handler(payload);
    } catch (e) {
      this.log.error({ err: (e as Error).message, topic }, 'MQTT message handler failed');
    }
  }

  /**
   * A message on a retained topic we own. The retain flag is set only on the broker's stored copy sent
   * when we subscribe (an old value, e.g. our last will: just publish ours again); a live message is
   * somebody's publish: our own echo under 3.1.1 (a value we sent recently), or an overwrite to put right.
   */
  private checkRetained(mine: Outgoing, payload: Buffer, retainFlag: boolean): void {
    if (!this.linkUp) return;
    const text = payload.toString('utf8');
    const now = Date.now();
    if (retainFlag) {
      // A stored copy equal to a value we sent moments ago is an answer to a subscription made before our newer
      // publish (a module restarted at once): the broker already has the newer one after it.
      if (text !== mine.payload && !this.isRecentSend(mine.topic, text, now)) this.send(mine);
      return;
    }
    // Under v5 our own publishes never come back (noLocal): the same "online" published live is another agent.
    if (this.protocol === 5 && mine.name === 'status' && text === 'online') {
      this.reportDuplicate('another client published "online" on this device\'s status topic');
      return;
    }
    if (text === mine.payload || (this.protocol === 4 && this.isRecentSend(mine.topic, text, now))) return;
    this.noteConflict(now, `another client published ${JSON.stringify(text.slice(0, 60))} on ${mine.topic}`);
    const last = this.lastReassert.get(mine.topic) ?? -Infinity;
    if (this.duplicateReported && now - last < this.reassertHoldoffMs) {
      // Rate-limited, not given up: the true value goes out once the hold-off has passed, so an overwrite never sticks.
      if (!this.deferredReasserts.has(mine.topic)) {
        const timer = setTimeout(() => {
          this.deferredReasserts.delete(mine.topic);
          const current = this.retained.get(mine.topic);
          if (!current || !this.linkUp || this.stopping) return;
          this.lastReassert.set(mine.topic, Date.now());
          this.reassertedTotal++;
          this.send(current);
        }, last + this.reassertHoldoffMs - now);
        timer.unref();
        this.deferredReasserts.set(mine.topic, timer);
      }
      return;
    }
    this.lastReassert.set(mine.topic, now);
    this.reassertedTotal++;
    this.log.warn({ topic: mine.topic, got: text.slice(0, 200) }, 'a retained topic of this device was overwritten by another client; publishing the true value again');
    this.send(mine);
  }

  private noteConflict(now: number, evidence: string): void {
    this.conflictTimes.push(now);
    while (this.conflictTimes.length && now - this.conflictTimes[0] > CONFLICT_WINDOW_MS) this.conflictTimes.shift();
    if (this.conflictTimes.length > CONFLICTS_FOR_DUPLICATE) this.reportDuplicate(`${this.conflictTimes.length} overwrites within a minute, the last: ${evidence}`);
  }

  private publishOptions(m: Outgoing): IClientPublishOptions {
    const opts: IClientPublishOptions = { qos: m.qos, retain: m.retain };
    if (this.protocol !== 5) return opts;
    const json = m.name !== 'status';
    const properties: NonNullable<IClientPublishOptions['properties']> = { contentType: json ? 'application/json' : 'text/plain', payloadFormatIndicator: true };
    // A consumer that reconnects after an outage wants what is true now, not a backlog of old frames.
    if (m.name === 'poses' && this.config.poses_expiry_s > 0) properties.messageExpiryInterval = this.config.poses_expiry_s;
    opts.properties = properties;
    return opts;
  }

  private send(m: Outgoing): void {
    if (m.retain || m.name === 'stats') {
      const list = this.recent.get(m.topic) ?? [];
      list.push({ payload: m.payload, at: Date.now() });
      if (list.length > ECHO_HISTORY) list.shift();
      this.recent.set(m.topic, list);
    }
    this.client!.publish(m.topic, m.payload, this.publishOptions(m), (err) => {
      if (err && !this.stopping) this.log.debug({ err: err.message, topic: m.topic }, 'MQTT publish failed');
    });
    this.publishedTotal++;
  }

  private enqueue(m: Outgoing): void {
    if (m.retain) {
      // The newest value of a retained topic is all that matters; it goes out on (re)connect.
      this.retained.set(m.topic, m);
      if (this.linkUp) this.send(m);
      return;
    }
    if (this.linkUp) this.send(m);
    else this.queue.push(m);
  }

  /** Publishes a declared outgoing topic with its configured QoS and retain flag. */
  publish<K extends TopicName>(name: K, payload: TopicPayloads[K], param?: string): void {
    const spec = TOPICS[name];
    if (!spec) throw new TopicError(`"${String(name)}" is not a pafcast topic`);
    if (spec.direction !== 'out') throw new TopicError(`"${name}" is an incoming topic; the agent does not publish it`);
    const topic = this.topic(name, param);
    const fresh = spec.retained && !this.retained.has(topic);
    this.enqueue({ topic, payload: encodePayload(name, payload), qos: this.config.qos[spec.qos], retain: spec.retained, name });
    // A retained topic first published now (a zone): defend it like the others from now on.
    if (fresh && spec.param && this.linkUp) this.subscribeOnBroker(topic, 1, true);
  }

  /**
   * Publishes JSON on a topic outside the device's base (Home Assistant discovery). Retained ones are
   * owned like the device's own: re-published on reconnect and defended.
   */
  publishExternal(topic: string, payload: unknown, opts: { retain: boolean; qos?: 0 | 1 | 2 }): void {
    checkExternalTopic(topic);
    if (topic.startsWith(`${this.base}/`)) throw new TopicError(`${topic} is under the device's own base; use publish()`);
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const m: Outgoing = { topic, payload: text, qos: opts.qos ?? 1, retain: opts.retain, name: null };
    const fresh = opts.retain && !this.retained.has(topic);
    this.pendingDeletes.delete(topic);
    this.enqueue(m);
    // Watch it only after the publish: subscribed first, the broker would hand back the previous value
    // (a restarted module's older discovery) as "stored", and that would be put right with a second publish.
    if (fresh && this.linkUp) this.subscribeOnBroker(topic, 1, true);
  }

  /**
   * Deletes a retained topic outside the device's base, whether the agent owns it now or a previous run
   * left it there (Home Assistant discovery turned off): the empty retained message goes out now, or on
   * the next connection.
   */
  deleteRetained(topic: string): void {
    checkExternalTopic(topic);
    if (topic.startsWith(`${this.base}/`)) throw new TopicError(`${topic} is under the device's own base`);
    if (this.retained.delete(topic)) this.client?.unsubscribe(topic);
    if (this.linkUp) this.client!.publish(topic, '', { qos: 1, retain: true });
    else this.pendingDeletes.add(topic);
  }

  /** Stops owning an external retained topic but leaves it on the broker (its module restarts and publishes or deletes it again). */
  forgetRetained(topic: string): void {
    if (this.retained.get(topic)?.name !== null) return;
    this.retained.delete(topic);
    this.client?.unsubscribe(topic);
  }

  /** Sends the current value of these retained topics again, for a consumer that restarted (Home Assistant's birth message). */
  resendRetained(names: readonly TopicName[]): void {
    // While disconnected there is nothing to do: every retained topic goes out on the next connection.
    if (!this.linkUp) return;
    for (const name of names) {
      const m = this.retained.get(this.topic(name));
      if (m) this.send(m);
    }
  }

  /** Removes a retained topic the agent owned (publishes the empty retained message that deletes it). */
  clearRetained(topic: string): void {
    if (!this.retained.delete(topic)) return;
    this.client?.unsubscribe(topic);
    if (this.linkUp) this.client!.publish(topic, '', { qos: 1, retain: true });
  }

  /**
   * Deletes retained values of a parametrised topic (`zones/{zone}`) that the broker holds for values
   * not in `keep` (a zone removed from the config, by this run or an earlier one). Runs on the next
   * connection if the broker is away; resolves once the broker has sent what it holds (or after `ms`).
   */
  purgeStale(name: TopicName, keep: ReadonlySet<string>, ms = 3_000): Promise<number> {
    const spec = TOPICS[name];
    if (!spec?.param) throw new TopicError(`"${name}" has no parameter`);
    const pattern = this.topic(name, 'PARAM').replace('PARAM', '+');
    const prefix = pattern.slice(0, -1);
    let purged = 0;
    const check = (topic: string) => {
      if (!topic.startsWith(prefix) || topic.slice(prefix.length).includes('/')) return;
      const value = topic.slice(prefix.length);
      if (keep.has(value) || this.retained.has(topic)) return;
      purged++;
      this.client?.publish(topic, '', { qos: 1, retain: true });
    };
    return new Promise((resolve) => {
      this.purges.add(check);
      const done = () => {
        this.purges.delete(check);
        this.client?.off('connect', subscribe);
        this.client?.unsubscribe(pattern);
        resolve(purged);
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      const subscribe = () =>
        this.client?.subscribe(pattern, { qos: 1 }, () => {
          // Retained messages come right after the SUBACK; give them a moment to arrive.
          setTimeout(() => {
            clearTimeout(timer);
            done();
          }, 500).unref();
        });
      if (this.linkUp) subscribe();
      else this.client?.once('connect', subscribe);
    });
  }

  /** Calls `handler` with every message on a declared incoming topic (re-subscribed after reconnects); returns the unsubscriber. */
  subscribe(name: TopicName, handler: InboundHandler): () => void {
    const spec = TOPICS[name];
    if (spec.direction !== 'in') throw new TopicError(`"${name}" is published by the agent; it does not subscribe to it`);
    return this.listen(this.topic(name), this.config.qos[spec.qos], handler);
  }

  /** The same for a topic outside the device's base (a consumer's birth message). */
  subscribeExternal(topic: string, handler: InboundHandler, qos: 0 | 1 | 2 = 1): () => void {
    return this.listen(checkExternalTopic(topic), qos, handler);
  }

  private listen(topic: string, qos: 0 | 1 | 2, handler: InboundHandler): () => void {
    if (!this.client) throw new Error('AgentMqtt.subscribe before start()');
    if (this.handlers.has(topic)) throw new TopicError(`${topic} already has a handler`);
    const entry = { handler, qos };
    this.handlers.set(topic, entry);
    if (this.client.connected) this.subscribeOnBroker(topic, qos);
    return () => {
      if (this.handlers.get(topic) !== entry) return;
      this.handlers.delete(topic);
      this.client?.unsubscribe(topic, (err?: Error) => {
        if (err && !this.stopping) this.log.warn({ err: err.message, topic }, 'MQTT unsubscribe failed');
      });
    };
  }

  /** Live-changeable settings: QoS, queue size, poses expiry (the rest need a restart). */
  updateConfig(config: MqttConfig): void {
    this.config = { ...config, protocol_version: this.config.protocol_version };
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
    for (const timer of this.deferredReasserts.values()) clearTimeout(timer);
    this.deferredReasserts.clear();
    if (this.linkUp) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        const m: Outgoing = { topic: this.topic('status'), payload: 'stopped', qos: this.config.qos.status, retain: true, name: 'status' };
        client.publish(m.topic, m.payload, this.publishOptions(m), () => {
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
