// The in-process fallback engine: aedes 1.x (MQTT 3.1.1 only), with the same rules as the
// Mosquitto engine: logins checked against the configured users and the agent's own, the topic
// rules of access.ts (a refused publish closes the client's connection, as MQTT 3.1.1 allows:
// it has no negative acknowledgement), a packet size limit enforced on the byte stream, and
// retained storage capped by count and bytes for everything but the agent's own topics.

import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { MetricFamily } from '../../telemetry/prometheus.js';
import { PACKET_OVERHEAD_BYTES, PacketSizeMeter } from './packet-size.js';
import { samePassword, verifyHash, type BrokerUser } from './passwords.js';
import type { BrokerEngine, EngineSetup, RefusalCounters } from './types.js';

/** CONNACK return codes of MQTT 3.1.1. */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
/** Distinct client ids whose refused publishes were logged at warn; later ones go to debug. */
const WARNED_CLIENTS_MAX = 256;

export function listenError(host: string, port: number, err: NodeJS.ErrnoException): Error {
  const hint = err.code === 'EADDRINUSE' ? ' (another broker already runs there: set mqtt.url to use it, or broker.port to move)' : '';
  return new Error(`embedded MQTT broker cannot listen on ${host}:${port}: ${err.message}${hint}`);
}

interface RetainedStore {
  storeRetained(packet: PublishPacket): Promise<void>;
}

export class AedesEngine implements BrokerEngine {
  readonly name = 'aedes' as const;
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly users: Map<string, BrokerUser>;
  private readonly agentClients = new WeakSet<Client>();
  /** The client id the agent connected with: nobody else may take it over. */
  private agentClientId: string | null = null;
  readonly refused: RefusalCounters = { logins: 0, oversize: 0 };
  private refusedPublishes = 0;
  private readonly retained = new Map<string, number>();
  private retainedBytes = 0;
  private retainedRefused = 0;
  private retainedWarned = false;
  private readonly warnedClients = new Set<string>();

  constructor(private readonly setup: EngineSetup) {
    this.users = new Map(setup.users.map((u) => [u.username, u]));
  }

  get port(): number {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : this.setup.config.port;
  }

  get up(): boolean {
    return this.server?.listening ?? false;
  }

  async start(): Promise<void> {
    const { config, log } = this.setup;
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => done(this.publishRefusal(client, packet)),
    });
    this.boundRetained(broker);
    const maxRemaining = config.max_message_bytes + PACKET_OVERHEAD_BYTES;
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      broker.handle(socket);
      // Added after aedes' 'readable' listener, so the socket stays in paused mode and this sees
      // each chunk as aedes reads it, before its parser buffers a body.
      const meter = new PacketSizeMeter(maxRemaining);
      socket.on('data', (chunk: Buffer) => {
        const size = meter.feed(chunk);
        if (size < 0) return;
        this.refused.oversize++;
        log.warn({ remote: socket.remoteAddress, bytes: size, limit: config.max_message_bytes }, 'embedded MQTT broker: a client sent a packet over broker.max_message_bytes; disconnected');
        socket.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(config.host, config.port, err)));
      server.listen(config.port, config.host, () => {
        server.removeAllListeners('error');
        resolve();
      });
    }).catch(async (e) => {
      await new Promise<void>((r) => broker.close(() => r()));
      throw e;
    });
    server.on('error', (err) => log.error({ err: err.message }, 'embedded MQTT broker error'));
    broker.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'MQTT client error'));
    this.broker = broker;
    this.server = server;
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const refuse = (code: number, why: string) => {
      this.refused.logins++;
      this.setup.log.info({ client: client.id, user: username ?? null }, `embedded MQTT broker refused a login: ${why}`);
      done(Object.assign(new Error(why), { returnCode: code }) as AuthenticateError, null);
    };
    const accept = () => {
      if (client.id === this.agentClientId) return refuse(IDENTIFIER_REJECTED, `client id "${client.id}" belongs to the agent`);
      done(null, true);
    };
    const agent = this.setup.agent;
    if (username === agent.username) {
      if (!samePassword(agent.password, password)) return refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password for the agent user');
      this.agentClients.add(client);
      this.agentClientId = client.id;
      return done(null, true);
    }
    if (!username) return this.setup.allowAnonymous ? accept() : refuse(NOT_AUTHORIZED, 'anonymous clients are not allowed (the broker needs a user name and password)');
    const user = this.users.get(username);
    if (!user) return refuse(BAD_USERNAME_OR_PASSWORD, 'unknown user');
    if (user.password !== undefined) return samePassword(user.password, password) ? accept() : refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password');
    verifyHash(user.hash!, password ?? Buffer.alloc(0)).then(
      (ok) => (ok ? accept() : refuse(BAD_USERNAME_OR_PASSWORD, 'wrong password')),
      (e: Error) => refuse(BAD_USERNAME_OR_PASSWORD, `password check failed: ${e.message}`),
    );
  }

  /** Null when `client` may publish `packet`; else the error that makes aedes close its connection. */
  private publishRefusal(client: Client | null, packet: PublishPacket): Error | null {
    const { config, rules, log } = this.setup;
    const bytes = packet.payload?.length ?? 0;
    if (bytes > config.max_message_bytes) {
      this.refused.oversize++;
      return new Error(`message of ${bytes} bytes is over broker.max_message_bytes (${config.max_message_bytes})`);
    }
    if (client && this.agentClients.has(client)) return null;
    if (rules.strangerMayPublish(packet.topic)) return null;
    this.refusedPublishes++;
    const id = client?.id ?? '(will of a gone client)';
    const detail = { client: id, topic: packet.topic, retain: packet.retain };
    if (!this.warnedClients.has(id) && this.warnedClients.size < WARNED_CLIENTS_MAX) {
      this.warnedClients.add(id);
      log.warn(detail, `embedded MQTT broker refused a publish: only the agent may publish under ${rules.base}/ (except config/set) and on its discovery topics`);
    } else log.debug(detail, 'embedded MQTT broker refused a publish');
    return new Error(`not authorised to publish on ${packet.topic}`);
  }

  /** Wraps the in-memory persistence's storeRetained with the count and byte caps. */
  private boundRetained(broker: Aedes): void {
    const store = (broker as unknown as { persistence: RetainedStore }).persistence;
    const inner = store.storeRetained.bind(store);
    const { retained: limits } = this.setup.config;
    const rules = this.setup.rules;
    store.storeRetained = async (packet: PublishPacket) => {
      if (rules.isAgentOwned(packet.topic)) return inner(packet);
      const old = this.retained.get(packet.topic);
      const size = (packet.payload?.length ?? 0) ? Buffer.byteLength(packet.topic) + packet.payload.length : 0;
      if (size === 0) {
        if (old !== undefined) {
          this.retained.delete(packet.topic);
          this.retainedBytes -= old;
        }
        return inner(packet);
      }
      const count = this.retained.size + (old === undefined ? 1 : 0);
      const bytes = this.retainedBytes - (old ?? 0) + size;
      if (count > limits.max_messages || bytes > limits.max_bytes) {
        this.retainedRefused++;
        if (!this.retainedWarned) {
          this.retainedWarned = true;
          this.setup.log.warn(
            { topic: packet.topic, retained: this.retained.size, bytes: this.retainedBytes },
            'embedded MQTT broker: retained storage is full (broker.retained.max_messages / max_bytes); further retained messages are delivered but not kept',
          );
        }
        return;
      }
      this.retained.set(packet.topic, size);
      this.retainedBytes = bytes;
      return inner(packet);
    };
  }

  stats(): Record<string, unknown> {
    return {
      clients: this.broker?.connectedClients ?? 0,
      refused_publishes: this.refusedPublishes,
      retained: { messages: this.retained.size, bytes: this.retainedBytes, refused: this.retainedRefused },
    };
  }

  metrics(): MetricFamily[] {
    return [
      { name: 'pafcast_broker_clients', type: 'gauge', help: 'Clients connected to the embedded broker.', samples: [{ value: this.broker?.connectedClients ?? 0 }] },
      { name: 'pafcast_broker_retained_messages', type: 'gauge', help: 'Retained messages other clients keep on the embedded broker (the agent\'s own not counted).', samples: [{ value: this.retained.size }] },
      { name: 'pafcast_broker_retained_bytes', type: 'gauge', help: 'Bytes (topics + payloads) of those retained messages.', samples: [{ value: this.retainedBytes }] },
      { name: 'pafcast_broker_retained_refused_total', type: 'counter', help: 'Retained messages not kept because retained storage was full.', samples: [{ value: this.retainedRefused }] },
      { name: 'pafcast_broker_refused_publishes_total', type: 'counter', help: 'Publishes refused by the topic rules (the client was disconnected).', samples: [{ value: this.refusedPublishes }] },
    ];
  }
}
