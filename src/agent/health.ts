// What /healthz reports: each module that can be down registers a check (MQTT connection, pipeline
// progress...) and removes it when it stops. A check returns null when fine, else the reason.

export interface HealthProblem {
  check: string;
  reason: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  problems: HealthProblem[];
}

export type HealthCheck = () => string | null;

export class HealthChecks {
  private readonly checks = new Map<string, HealthCheck>();

  /** Adds a named check; returns the function that removes it. */
  add(name: string, check: HealthCheck): () => void {
    if (this.checks.has(name)) throw new Error(`health: check "${name}" is already registered`);
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  report(): HealthReport {
    const problems: HealthProblem[] = [];
    for (const [check, fn] of this.checks) {
      let reason: string | null;
      try {
        reason = fn();
      } catch (e) {
        reason = `check failed: ${(e as Error).message}`;
      }
      if (reason) problems.push({ check, reason });
    }
    return { status: problems.length ? 'degraded' : 'ok', problems };
  }
}
