// Module lifecycle: everything a module registers on shared services (HTTP routes, stats sections,
// pipeline listeners, MQTT subscriptions, timers) comes back as a disposer, and the module hands it
// to its scope. The agent disposes the scope after the module's own stop(), and also when start()
// fails half-way, so a restarted module never finds its previous registrations still in place.

export type Disposer = () => void | Promise<void>;

export interface DisposeLog {
  error(obj: object, msg: string): void;
}

export class ModuleScope {
  private disposers: Disposer[] = [];

  constructor(readonly name: string) {}

  /** Keeps `dispose` until the scope ends; returns it so a call can be written inline. */
  own<D extends Disposer>(dispose: D): D {
    this.disposers.push(dispose);
    return dispose;
  }

  /** A setInterval that ends with the scope (unref'd: a timer never keeps the process alive). */
  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.own(() => clearInterval(timer));
  }

  get size(): number {
    return this.disposers.length;
  }

  /** Runs every disposer, newest first; one that throws is logged and the rest still run. */
  async dispose(log?: DisposeLog): Promise<void> {
    const list = this.disposers;
    this.disposers = [];
    for (const d of list.reverse()) {
      try {
        await d();
      } catch (e) {
        log?.error({ module: this.name, err: (e as Error).message }, `module ${this.name}: a disposer failed`);
      }
    }
  }
}
