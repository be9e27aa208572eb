// `pafcast models fetch|list`: get the model files the manifests name, verified by sha256.

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listManifests, loadManifest, type ModelManifest } from '../../runtime/manifest.js';
import { MODEL_PATH_ENV } from '../../runtime/model-locator.js';
import { fetchModel } from '../models/fetch-model.js';
import { createProgress } from '../models/progress.js';
import { cliError, intOption, parseCommandArgs } from './common.js';

const USAGE = `usage: pafcast models fetch [NAME...] [--from URL|DIR] [--dir DEST] [--retries N]
       pafcast models list [--dir DEST]

fetch   downloads (or copies) each model's file into DEST, checks its size and sha256 against the
        manifest and only then moves it into place; an existing good file is left alone, a bad
        download never replaces anything. Without NAME: every runnable model.
list    the models, their files and whether DEST holds the right file.

options:
      --from URL|DIR   base URL (http/https) or directory holding the files, instead of the
                       manifests' own URLs
      --dir DEST       model directory (default: first entry of $${MODEL_PATH_ENV}, else
                       /var/lib/pafcast/models when it exists, else ./models)
      --retries N      further attempts after a broken connection (default 4); each resumes
  -h, --help           this text
`;

function defaultDir(env: NodeJS.ProcessEnv): string {
  const first = (env[MODEL_PATH_ENV] ?? '').split(':').find(Boolean);
  if (first) return resolve(first);
  return existsSync('/var/lib/pafcast/models') ? '/var/lib/pafcast/models' : resolve('models');
}

function runnable(): ModelManifest[] {
  return listManifests()
    .map((n) => loadManifest(n))
    .filter((m) => !m.layout_only);
}

async function fetchCommand(names: string[], values: { from?: string; dir?: string; retries?: string }): Promise<number> {
  const manifests = names.length ? names.map((n) => loadManifest(n)) : runnable();
  const destDir = values.dir ? resolve(values.dir) : defaultDir(process.env);
  const retries = intOption('--retries', values.retries) ?? 4;
  let failed = 0;
  for (const m of manifests) {
    const progress = createProgress(process.stderr, m.name);
    try {
      const r = await fetchModel(m, {
        destDir,
        from: values.from,
        retries,
        onProgress: (n, total) => progress.update(n, total),
        onNotice: (text) => {
          progress.done();
          process.stderr.write(`pafcast models: ${text}\n`);
        },
      });
      progress.done();
      process.stdout.write(`${m.name}: ${r.action === 'installed' ? `installed ${r.path} (sha256 verified, from ${r.source})` : `up to date (${r.path})`}\n`);
    } catch (e) {
      progress.done();
      failed++;
      cliError('models', (e as Error).message, 1);
    }
  }
  return failed ? 1 : 0;
}

function listCommand(values: { dir?: string }): number {
  const destDir = values.dir ? resolve(values.dir) : defaultDir(process.env);
  process.stdout.write(`model directory: ${destDir}\n`);
  for (const name of listManifests()) {
    const m = loadManifest(name);
    if (m.layout_only) {
      process.stdout.write(`${name}  layout only (no file)\n`);
      continue;
    }
    const path = join(destDir, m.file!);
    // Size only: hashing every file on a plain `list` would take seconds on a Nano; fetch verifies.
    const state = !existsSync(path) ? 'missing' : statSync(path).size === m.size_bytes ? 'present' : 'wrong size (run fetch)';
    process.stdout.write(`${name}  ${m.file}  ${m.size_bytes ?? '?'} bytes  ${state}\n`);
  }
  return 0;
}

export async function command(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'models',
    argv,
    {
      from: { type: 'string' },
      dir: { type: 'string' },
      retries: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (!parsed) return 2;
  const [action, ...names] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (action === 'fetch') return await fetchCommand(names, parsed.values);
    if (action === 'list') return listCommand(parsed.values);
  } catch (e) {
    return cliError('models', (e as Error).message, 1);
  }
  return cliError('models', `expected "fetch" or "list"${action ? `, got "${action}"` : ''}\n\n${USAGE}`, 2);
}
