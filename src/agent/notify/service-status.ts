// What the agent tells systemd over its life: READY after the first processed frame (not at
// process start, so `systemctl start` returns once poses actually flow), a STATUS line with FPS
// and net size, watchdog pings driven by frames, and STOPPING on shutdown.

import { createNotifier, type Notifier, type NotifierOptions } from './sd-notify.js';
import { WatchdogDriver, type WatchdogTimers } from './watchdog.js';

export interface ServiceStats {
  fps: number;
  net: { width: number; height: number } | null;
  model?: string;
}

export function statusLine(stats: ServiceStats): string {
  const net = stats.net ? `net ${stats.net.width}x${stats.net.height}` : 'net -';
  return `${stats.fps.toFixed(1)} fps, ${net}${stats.model ? `, ${stats.model}` : ''}`;
}

export class ServiceStatus {
  private ready = false;
  readonly watchdog: WatchdogDriver;

  constructor(readonly notifier: Notifier, timers?: WatchdogTimers) {
    this.watchdog = new WatchdogDriver(notifier, timers);
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env, options: NotifierOptions = {}): ServiceStatus {
    return new ServiceStatus(createNotifier(env, options));
  }

  /** Call once per processed frame. The first one sends READY and starts the watchdog. */
  frame(): void {
    this.watchdog.progress();
    if (this.ready) return;
    this.ready = true;
    void this.notifier.ready('first frame processed');
    this.watchdog.start();
  }

  /** Call on each stats tick. */
  stats(stats: ServiceStats): void {
    if (this.ready) void this.notifier.status(statusLine(stats));
  }

  /** Call on SIGTERM before stopping the modules; pings stop so a hung shutdown is killed. */
  async stopping(): Promise<void> {
    this.watchdog.stop();
    await this.notifier.stopping('stopping');
  }
}
