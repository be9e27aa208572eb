import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuLoadMeter, parseProcStat } from '../../src/telemetry/cpu-load.js';
import { boardRoot } from './paths.js';

/** Adds `busy` jiffies to user and `idle` jiffies to idle on every cpu line named in `perCpu` (and to the aggregate). */
function advance(procStat: string, perCpu: Record<string, { busy: number; idle: number }>): string {
  const sum = { busy: 0, idle: 0 };
  for (const d of Object.values(perCpu)) {
    sum.busy += d.busy;
    sum.idle += d.idle;
  }
  return procStat
    .split('\n')
    .map((line) => {
      const [name, ...f] = line.split(/\s+/);
      const d = name === 'cpu' ? sum : perCpu[name];
      if (!d) return line;
      const v = f.map(Number);
      v[0] += d.busy;
      v[3] += d.idle;
      return `${name} ${v.join(' ')}`;
    })
    .join('\n');
}

describe('CPU load from /proc/stat', () => {
  it('TX2 tree: only the four online cores are listed (Denver pair off)', () => {
    const stat = readFileSync(join(boardRoot('tx2-jp46'), 'proc/stat'), 'utf8');
    expect(parseProcStat(stat).map((t) => t.name)).toEqual(['cpu', 'cpu0', 'cpu3', 'cpu4', 'cpu5']);
  });

  it('first reading primes; the second gives load from the deltas, per core and overall', () => {
    const stat = readFileSync(join(boardRoot('tx2-jp46'), 'proc/stat'), 'utf8');
    const meter = new CpuLoadMeter();
    expect(meter.update(stat)).toBeNull();
    const later = advance(stat, { cpu0: { busy: 75, idle: 25 }, cpu3: { busy: 10, idle: 90 }, cpu4: { busy: 0, idle: 100 }, cpu5: { busy: 100, idle: 0 } });
    const load = meter.update(later)!;
    expect(load.perCorePct).toEqual({ 0: 75, 3: 10, 4: 0, 5: 100 });
    expect(load.totalPct).toBeCloseTo((75 + 10 + 0 + 100) / 4, 9);
  });

  it('a core that goes offline drops out instead of counting as idle', () => {
    const meter = new CpuLoadMeter();
    meter.update('cpu  100 0 0 100 0 0 0 0\ncpu0 50 0 0 50 0 0 0 0\ncpu1 50 0 0 50 0 0 0 0\n');
    const load = meter.update('cpu  150 0 0 150 0 0 0 0\ncpu0 100 0 0 100 0 0 0 0\n')!;
    expect(Object.keys(load.perCorePct)).toEqual(['0']);
    expect(load.perCorePct[0]).toBe(50);
  });

  it('iowait counts as idle, irq/softirq/steal as busy', () => {
    const [t] = parseProcStat('cpu  10 1 2 100 7 3 4 5 99 99\n');
    expect(t).toEqual({ name: 'cpu', busy: 10 + 1 + 2 + 3 + 4 + 5, total: 10 + 1 + 2 + 3 + 4 + 5 + 100 + 7 });
  });
});
