// Runs `tegrastats --interval N` as a long-lived child and hands each parsed line to a callback.
// Streaming (one child, line by line) instead of running it per sample: tegrastats needs a full
// interval before its first line, and spawning every couple of seconds costs more than reading a pipe.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseTegrastatsLine, type TegrastatsSample } from './tegrastats.js';

export type SpawnTegrastats = (command: string, args: string[]) => ChildProcess;

export interface TegrastatsProcessOptions {
  intervalMs: number;
  onSample: (sample: TegrastatsSample) => void;
  /** Called once when the child cannot start or exits on its own (e.g. ENOENT off-Jetson). */
  onExit?: (reason: string) => void;
  command?: string;
  spawnFn?: SpawnTegrastats;
}

export class TegrastatsProcess {
  private child: ChildProcess | null = null;
  private stopping = false;

  constructor(private readonly opts: TegrastatsProcessOptions) {}

  get running(): boolean {
    return this.child !== null;
  }

  start(): void {
    if (this.child) return;
    this.stopping = false;
    const spawnFn = this.opts.spawnFn ?? ((cmd, args) => spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }));
    const child = spawnFn(this.opts.command ?? 'tegrastats', ['--interval', String(Math.max(1, Math.round(this.opts.intervalMs)))]);
    this.child = child;
    let reported = false;
    const report = (reason: string): void => {
      this.child = null;
      if (!reported && !this.stopping) this.opts.onExit?.(reason);
      reported = true;
    };
    child.on('error', (e) => report(`tegrastats failed to start: ${e.message}`));
    child.on('exit', (code, signal) => report(`tegrastats exited (${signal ?? `code ${code}`})`));
    if (child.stdout) {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (line.trim()) this.opts.onSample(parseTegrastatsLine(line));
      });
    }
  }

  stop(): void {
    this.stopping = true;
    this.child?.kill('SIGTERM');
    this.child = null;
  }
}
