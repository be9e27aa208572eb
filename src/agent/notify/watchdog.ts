// Drives systemd's watchdog from the pipeline's own progress. A timer that pinged regardless
// would only prove the event loop is alive; pinging only when frames were processed since the
// last ping means a stalled camera or a hung inference stops the pings, and systemd restarts us.

import type { Notifier } from './sd-notify.js';

export interface WatchdogTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: WatchdogTimers = {
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    // The watchdog must never be the thing that keeps a stopping agent alive.
    handle.unref();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export class WatchdogDriver {
  private progressed = false;
  private handle: unknown = null;
  private pings = 0;

  constructor(
    private readonly notifier: Pick<Notifier, 'watchdog' | 'watchdogIntervalMs'>,
    private readonly timers: WatchdogTimers = realTimers,
  ) {}

  /** Whether systemd asked for pings at all (WatchdogSec set and meant for this process). */
  get active(): boolean {
    return this.notifier.watchdogIntervalMs !== null;
  }

  /** Pings sent so far (for stats and tests). */
  get pingCount(): number {
    return this.pings;
  }

  start(): void {
    const interval = this.notifier.watchdogIntervalMs;
    if (interval === null || this.handle !== null) return;
    this.handle = this.timers.setInterval(() => this.tick(), interval);
  }

  /** Call once per processed frame. */
  progress(): void {
    this.progressed = true;
  }

  stop(): void {
    if (this.handle === null) return;
    this.timers.clearInterval(this.handle);
    this.handle = null;
  }

  private tick(): void {
    if (!this.progressed) return;
    this.progressed = false;
    this.pings++;
    void this.notifier.watchdog();
  }
}
