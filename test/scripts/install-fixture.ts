// A source tree shaped like a built release (what install.sh reads), with a stub dist/ so the
// installer can be tested without compiling the whole project, and helpers to run the scripts.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');

export function makeSourceTree(): string {
  const src = mkdtempSync(join(tmpdir(), 'pafcast-src-'));
  for (const item of ['bin', 'systemd', 'docs', 'package.json', 'package-lock.json'])
    cpSync(join(repo, item), join(src, item), { recursive: true });
  mkdirSync(join(src, 'models', 'schema'), { recursive: true });
  for (const f of readdirSync(join(repo, 'models')).filter((f) => f.endsWith('.json'))) cpSync(join(repo, 'models', f), join(src, 'models', f));
  cpSync(join(repo, 'models', 'schema'), join(src, 'models', 'schema'), { recursive: true });
  mkdirSync(join(src, 'scripts'));
  for (const f of readdirSync(join(repo, 'scripts')).filter((f) => f.endsWith('.sh'))) cpSync(join(repo, 'scripts', f), join(src, 'scripts', f));
  cpSync(join(repo, 'native', 'sd-notify'), join(src, 'native', 'sd-notify'), { recursive: true, filter: (p) => !/\/sd-notify\/build(\/|$)/.test(p) });
  mkdirSync(join(src, 'dist', 'src', 'agent', 'cli'), { recursive: true });
  writeFileSync(join(src, 'dist', 'src', 'agent', 'cli', 'main.js'), 'export async function main() { return 0; }\n');
  return src;
}

export interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runScript(src: string, script: 'install.sh' | 'uninstall.sh', args: string[], env: NodeJS.ProcessEnv = process.env): ScriptRun {
  const r = spawnSync('bash', [join(src, 'scripts', script), ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Installs into `root` the way the tests do: the repo's node_modules linked, not reinstalled. */
export function installInto(src: string, root: string, extra: string[] = []): ScriptRun {
  return runScript(src, 'install.sh', ['--root', root, '--node', process.execPath, '--node-modules', join(repo, 'node_modules'), ...extra]);
}

/** Every path under `dir` with its type, mode and content hash (links: their target). */
export function layoutOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${mode}`);
        walk(p);
      } else out.push(`${rel} ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir);
  return out;
}

/** A fake executable, e.g. a `node` that claims to be old, or a `getconf` reporting another glibc. */
export function fakeTool(dir: string, name: string, script: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${script}\n`);
  chmodSync(p, 0o755);
  return p;
}
