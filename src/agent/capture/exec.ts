// Short helper commands (probes, tool checks): run to completion with a time limit, never throw.

import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code; null when the command could not start, was killed, or timed out. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not run to completion (spawn error or timeout), else null. */
  failure: string | null;
}

export function runCommand(argv: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    let stdout = '', stderr = '', failure: string | null = null;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      failure = `${argv[0]} did not finish within ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure = e.code === 'ENOENT' ? `${argv[0]} is not installed (not found on PATH)` : `${argv[0]}: ${e.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: failure ? null : code, stdout, stderr, failure });
    });
  });
}

/** The last non-empty line of a command's error output, for one-line log messages. */
export function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '(no error output)';
}
