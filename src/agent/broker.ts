// The embedded MQTT broker (aedes, MQTT 3.1.1) that makes a fresh install work with one command:
// started only when mqtt.url is empty, listening on broker.host:broker.port (127.0.0.1:1883).

import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import type { BrokerConfig } from './mqtt/config-schema.js';

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: Server | undefined;

  constructor(
    private readonly config: BrokerConfig,
    private readonly log: Logger,
  ) {}

  /** mqtt:// URL clients use to reach this broker (the wildcard address is reached via loopback). */
  get url(): string {
    const host = this.config.host === '0.0.0.0' || this.config.host === '::' ? '127.0.0.1' : this.config.host;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** The port actually bound (differs from config only when config asks for port 0 in tests). */
  get port(): number {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : this.config.port;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const hint = err.code === 'EADDRINUSE' ? ` (another broker already runs there: set mqtt.url to use it, or broker.port to move)` : '';
        reject(new Error(`embedded MQTT broker cannot listen on ${this.config.host}:${this.config.port}: ${err.message}${hint}`));
      };
      server.once('error', onError);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', onError);
        resolve();
      });
    }).catch(async (e) => {
      await new Promise<void>((r) => broker.close(() => r()));
      throw e;
    });
    server.on('error', (err) => this.log.error({ err: err.message }, 'embedded MQTT broker error'));
    broker.on('clientError', (client, err) => this.log.debug({ client: client.id, err: err.message }, 'MQTT client error'));
    this.broker = broker;
    this.server = server;
    this.log.info({ host: this.config.host, port: this.port }, 'embedded MQTT broker listening');
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
