// /proc readings and small process helpers shared by the benchmarks that run the real agent as a child.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';

let clockTicks: number | undefined;
/** sysconf(_SC_CLK_TCK), the unit of /proc/<pid>/stat times: 100 on every Linux the agent runs on. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime+stime and cutime+cstime of one process, in clock ticks; null once it is gone. */
export function procTimes(pid: number): { own: number; reaped: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

export function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone, or no `children` file (kernel without CONFIG_PROC_CHILDREN): count the agent alone
  }
  return out;
}

export function descendants(pid: number): number[] {
  const all: number[] = [];
  for (const c of children(pid)) all.push(c, ...descendants(c));
  return all;
}

export function vmHwmKb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface ProcSample {
  atMs: number;
  /** CPU ticks of the agent, its live descendants and its reaped children. */
  ticks: number;
  /** CPU ticks of the agent's own process alone. */
  own: number;
}

export function sampleTree(pid: number): ProcSample | null {
  const kids = descendants(pid);
  const self = procTimes(pid);
  if (!self) return null;
  let ticks = self.own + self.reaped;
  for (const k of kids) {
    const t = procTimes(k);
    if (t) ticks += t.own + t.reaped;
  }
  return { atMs: performance.now(), ticks, own: self.own };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function connectWithRetry(url: string, deadlineMs: number, alive: () => boolean): Promise<MqttClient> {
  for (;;) {
    try {
      return await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 2_000 });
    } catch (e) {
      if (!alive()) throw new Error('the agent exited before its broker accepted a connection');
      if (Date.now() > deadlineMs) throw new Error(`could not connect to the agent's broker at ${url}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

