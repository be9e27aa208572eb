// Runs `node bin/pafcast.js run ...` as a child process, as systemd would, and collects its
// pino JSON log lines so tests can wait for and assert on what the agent said.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { repoRoot, sharedDir } from '../../support/shared.js';

export { repoRoot, sharedDir };
export const streetAvi = join(sharedDir, 'media', 'street.avi');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Compiles src/ into dist/ when the CLI there is missing or older than the sources (`npm test` already did it). */
export function ensureBuilt(): void {
  const cli = join(repoRoot, 'dist/src/agent/cli/run.js');
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestMtime(join(repoRoot, 'src'))) return;
  // tsc may report errors in files unrelated to the agent and still emit; the check below decides.
  spawnSync('npx', ['tsc', '-p', repoRoot], { cwd: repoRoot, stdio: 'ignore' });
  if (!existsSync(cli)) throw new Error('dist/src/agent/cli/run.js missing after tsc');
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export class AgentProcess {
  /** Every agent started by this test file, for cleanup. */
  static readonly all: AgentProcess[] = [];
  readonly proc: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  /** Everything written to stdout, unparsed. */
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [join(repoRoot, 'bin/pafcast.js'), 'run', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        if (!line.trim()) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ level: 'raw', msg: line });
        }
      }
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    AgentProcess.all.push(this);
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs = 60_000): Promise<LogLine> {
    return waitFor(() => this.lines.find(pred), `${what}; log so far:\n${this.dump()}`, timeoutMs);
  }

  dump(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n').slice(-4000) + (this.stderr ? `\nstderr: ${this.stderr.slice(-2000)}` : '');
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.proc.kill(signal);
    return this.exited;
  }
}

/** Polls `get` until it returns something truthy. The timeout only turns a hang into a readable failure. */
export async function waitFor<T>(get: () => T | undefined | null | false, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
