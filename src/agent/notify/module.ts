// systemd integration as an agent module: READY once poses flow, watchdog pings only while the
// pipeline makes progress, a STATUS line per stats tick, STOPPING on shutdown. A no-op outside systemd.

import type { AgentModule, AgentServices } from '../agent.js';
import type { ModuleScope } from '../lifecycle.js';
import { ServiceStatus } from './service-status.js';

export class NotifyModule implements AgentModule {
  readonly name = 'notify';
  /** Re-subscribes to the new pipeline when a config change restarts it. */
  readonly followsPipeline = true;

  constructor(
    private readonly s: AgentServices,
    private readonly status: ServiceStatus,
  ) {}

  /** Builds the module from the environment; throws a clear error when NOTIFY_SOCKET is set but the addon is missing. */
  static fromEnv(s: AgentServices, env: NodeJS.ProcessEnv = process.env): NotifyModule {
    return new NotifyModule(s, ServiceStatus.fromEnv(env, { onError: (e) => s.log.warn({ err: e.message }, 'sd_notify failed') }));
  }

  async start(scope: ModuleScope): Promise<void> {
    const { pipeline, stats, config } = this.s;
    if (!pipeline) throw new Error('sd_notify needs the pose pipeline, which is not running');
    // The watchdog is fed by processed frames, not by a timer: a stalled pipeline stops the pings.
    scope.own(pipeline.on({ onProgress: () => this.status.frame() }));
    scope.every(config.mqtt.stats_interval_s * 1000, () => {
      const snap = stats.meters.snapshot();
      this.status.stats({ fps: snap.fps ?? 0, net: snap.net, model: config.inference.model });
    });
  }

  /** Tells systemd the service is stopping; called on SIGTERM before the modules stop. */
  stopping(): Promise<void> {
    return this.status.stopping();
  }
}
