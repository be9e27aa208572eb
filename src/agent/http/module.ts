// The HTTP server as an agent module: built from the `http` config section, started and stopped with the agent.
// Other modules get `server` to register their routes (preview, telemetry's /metrics).

import type { AgentModule } from '../agent.js';
import type { HttpConfig } from '../config/sections.js';
import type { HealthReport } from '../health.js';
import { HttpServer, type HttpLog } from './server.js';

export class HttpModule implements AgentModule {
  readonly name = 'http';
  readonly server: HttpServer;

  constructor(cfg: HttpConfig, log: HttpLog, health?: () => HealthReport) {
    // An empty token in config means "no authentication".
    this.server = new HttpServer({ host: cfg.host, port: cfg.port, token: cfg.token || undefined, health }, log);
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}
