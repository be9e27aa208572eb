// CPU load from /proc/stat deltas. Read directly (not systeminformation.currentLoad) so the procfs
// root can point at a recorded board tree and so offline cores (TX2's Denver pair, power modes that
// park Xavier/Orin cores) simply drop out instead of being averaged in as idle.

/** Cumulative jiffies of one `cpu`/`cpuN` line. */
export interface CpuTimes {
  /** "cpu" for the aggregate line, "cpu0".. for cores. */
  name: string;
  busy: number;
  total: number;
}

export interface CpuLoad {
  /** Load over all online cores since the previous sample, 0..100. */
  totalPct: number;
  /** Per online core, keyed by core number. */
  perCorePct: Record<number, number>;
}

/**
 * Parses /proc/stat's cpu lines. Fields: user nice system idle iowait irq softirq steal guest guest_nice;
 * guest time is already inside user/nice, so it is not added again; idle + iowait count as not busy.
 */
export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const parts = line.trim().split(/\s+/);
    const name = parts[0];
    if (!/^cpu\d*$/.test(name)) continue;
    const v = parts.slice(1, 9).map(Number);
    while (v.length < 8) v.push(0);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = v;
    const idleAll = idle + iowait;
    const busy = user + nice + system + irq + softirq + steal;
    out.push({ name, busy, total: busy + idleAll });
  }
  return out;
}

function pct(prev: CpuTimes | undefined, cur: CpuTimes): number | null {
  if (!prev) return null;
  const dt = cur.total - prev.total;
  if (dt <= 0) return null;
  return Math.max(0, Math.min(100, ((cur.busy - prev.busy) / dt) * 100));
}

/** Turns successive /proc/stat readings into load percentages; the first reading only primes it. */
export class CpuLoadMeter {
  private previous = new Map<string, CpuTimes>();

  /** Feeds one /proc/stat text; returns the load since the previous one, or null on the first call. */
  update(procStat: string): CpuLoad | null {
    const now = parseProcStat(procStat);
    const next = new Map(now.map((t) => [t.name, t]));
    const agg = next.get('cpu');
    const total = agg ? pct(this.previous.get('cpu'), agg) : null;
    const perCorePct: Record<number, number> = {};
    for (const t of now) {
      if (t.name === 'cpu') continue;
      const p = pct(this.previous.get(t.name), t);
      if (p !== null) perCorePct[Number(t.name.slice(3))] = p;
    }
    this.previous = next;
    return total === null ? null : { totalPct: total, perCorePct };
  }
}
