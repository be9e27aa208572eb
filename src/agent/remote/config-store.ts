// Durable storage of the config file and the remote-config state (last applied version).
//
// Every write is atomic: the new bytes go to a temp file in the same directory (rename is only
// atomic within one filesystem), are fsync'ed, the current file is hard-linked to `<file>.prev`,
// the temp file is renamed over the target and the directory is fsync'ed so the rename itself
// survives a power cut. A crash at any point leaves either the old or the new file, never a torn
// one; a leftover temp file is harmless and cleared by the next write.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface RemoteState {
  /** Highest signed version applied so far; 0 = none yet. */
  last_version: number;
}

/** Test seam: runs after the temp file is complete and before it replaces the target. */
export type BeforeRenameHook = (tempPath: string, targetPath: string) => void;

export interface ConfigStore {
  readonly configPath: string;
  readonly statePath: string;
  /** The config file's bytes, or null when it does not exist yet. */
  readConfigBytes(): Buffer | null;
  writeConfig(config: unknown): void;
  /** Restores exact bytes (used to roll back after a failed apply). */
  writeConfigBytes(bytes: Buffer): void;
  readState(): RemoteState;
  writeState(state: RemoteState): void;
}

export interface ConfigStoreOptions {
  configPath: string;
  statePath: string;
  beforeRename?: BeforeRenameHook;
}

function tempPrefix(target: string): string {
  return `.${basename(target)}.tmp-`;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes temp files an earlier crash left behind (only ours: same prefix, same directory). */
function clearStaleTemps(target: string): void {
  const dir = dirname(target);
  const prefix = tempPrefix(target);
  for (const name of readdirSync(dir)) if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
}

export function writeFileAtomic(target: string, bytes: Buffer, options: { keepPrevious?: boolean; beforeRename?: BeforeRenameHook } = {}): void {
  const dir = dirname(target);
  clearStaleTemps(target);
  const temp = join(dir, `${tempPrefix(target)}${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(temp, 'wx', 0o640);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (options.keepPrevious) {
    // A hard link makes `.prev` point at the current bytes without ever leaving the target missing.
    const prevTemp = `${temp}.prev`;
    try {
      linkSync(target, prevTemp);
      renameSync(prevTemp, `${target}.prev`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Filesystems without hard links (vfat on some SD-card setups): keep a copy instead.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') writeFileAtomic(`${target}.prev`, readFileSync(target));
      else if (code !== 'ENOENT') throw e;
    } finally {
      // rename(2) is a successful no-op when both names already link the same file (a write that
      // crashed after this step), leaving the temp link behind.
      rmSync(prevTemp, { force: true });
    }
  }
  options.beforeRename?.(temp, target);
  renameSync(temp, target);
  fsyncDir(dir);
}

export function createConfigStore(options: ConfigStoreOptions): ConfigStore {
  const { configPath, statePath } = options;
  const serialise = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
  const writeConfigBytes = (bytes: Buffer) => writeFileAtomic(configPath, bytes, { keepPrevious: true, beforeRename: options.beforeRename });

  return {
    configPath,
    statePath,
    readConfigBytes() {
      try {
        return readFileSync(configPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    writeConfig: (config) => writeConfigBytes(serialise(config)),
    writeConfigBytes,
    readState() {
      let text: string;
      try {
        text = readFileSync(statePath, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { last_version: 0 };
        throw e;
      }
      const parsed = JSON.parse(text) as Partial<RemoteState>;
      if (typeof parsed.last_version !== 'number' || !Number.isSafeInteger(parsed.last_version) || parsed.last_version < 0)
        throw new Error(`${statePath}: "last_version" must be a non-negative integer`);
      return { last_version: parsed.last_version };
    },
    writeState: (state) => writeFileAtomic(statePath, serialise(state), { beforeRename: options.beforeRename }),
  };
}
