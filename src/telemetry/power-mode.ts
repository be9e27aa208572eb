// Jetson power mode from `nvpmodel -q`. Only the tool knows the mode's name (the sysfs knobs it sets
// carry no name), so it is run asynchronously with execFile and its answer reused for a while.

import { execFile } from 'node:child_process';

export interface PowerMode {
  /** e.g. "MAXN", "5W", "MAXN_SUPER". */
  name: string;
  /** Numeric mode id; null when the output had none (seen on AGX Xavier JP4). */
  id: number | null;
}

/**
 * Parses `nvpmodel -q`: the `NV Power Mode: <NAME>` line, then the id on its own line. Other lines
 * (`NV Fan Mode:...` before, `NVPM ERROR: ...` after when not root) are ignored.
 */
export function parseNvpmodelQuery(text: string): PowerMode | null {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith('NV Power Mode:'));
  if (at < 0) return null;
  const name = lines[at].slice('NV Power Mode:'.length).trim();
  if (!name) return null;
  const idLine = lines.slice(at + 1).find((l) => /^\d+$/.test(l));
  return { name, id: idLine === undefined ? null : Number(idLine) };
}

/** Runs a command and resolves with its stdout (stdout is still parsed when the exit code is non-zero). */
export type RunCommand = (file: string, args: string[]) => Promise<string>;

const runWithExecFile: RunCommand = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
      // nvpmodel exits non-zero without root after printing the mode; the mode is still right.
      if (err && !stdout) reject(err);
      else resolve(stdout);
    });
  });

/** Answers the current power mode, asking nvpmodel at most once per `refreshMs`. */
export class PowerModeReader {
  private cached: { at: number; mode: PowerMode | null } | null = null;
  private missing = false;

  constructor(
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
    private readonly run: RunCommand = runWithExecFile,
    private readonly command = 'nvpmodel',
  ) {}

  async read(): Promise<PowerMode | null> {
    if (this.missing) return null;
    const t = this.now();
    if (this.cached && t - this.cached.at < this.refreshMs) return this.cached.mode;
    let mode: PowerMode | null = null;
    try {
      mode = parseNvpmodelQuery(await this.run(this.command, ['-q']));
    } catch (e) {
      // Not a Jetson (or nvpmodel not installed): stop asking.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.missing = true;
    }
    this.cached = { at: t, mode };
    return mode;
  }
}
