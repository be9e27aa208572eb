// Engine builds with JetPack's trtexec: one build per model whose optimisation profile spans the whole
// ladder, so any height the adaptive controller picks runs on the same engine. The command line is
// derived from the ladder here and recorded verbatim in the sidecar.

import { spawn } from 'node:child_process';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ModelManifest } from '../manifest.js';
import { identityFromTrtexecLog, type TrtIdentity } from './identity.js';
import { ladderSizes, parseAspect, profileForLadder, type InputProfile } from './ladder.js';
import { engineBaseName, timingCacheFileName, SHORT_SHA_LENGTH, type EnginePrecision } from './naming.js';
import { SIDECAR_FORMAT, writeSidecar, type EngineSidecar } from './sidecar.js';

/** Where JetPack installs trtexec (it is not on PATH by default). */
export const JETPACK_TRTEXEC = '/usr/src/tensorrt/bin/trtexec';

/** Finds trtexec: JetPack's location first, then PATH. Returns null when neither has it. */
export async function findTrtexec(env: NodeJS.ProcessEnv = process.env, isExecutable = executable): Promise<string | null> {
  const candidates = [JETPACK_TRTEXEC, ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'trtexec'))];
  for (const c of candidates) if (await isExecutable(c)) return c;
  return null;
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

const shape = (dims: number[]) => dims.join('x');

/** trtexec arguments (without the binary) for one engine covering `profile`. */
export function trtexecArgs(o: {
  onnxPath: string;
  input: string;
  profile: InputProfile;
  precision: EnginePrecision;
  enginePath: string;
  timingCachePath: string;
}): string[] {
  return [
    `--onnx=${o.onnxPath}`,
    `--minShapes=${o.input}:${shape(o.profile.min)}`,
    `--optShapes=${o.input}:${shape(o.profile.opt)}`,
    `--maxShapes=${o.input}:${shape(o.profile.max)}`,
    ...(o.precision === 'fp16' ? ['--fp16'] : []),
    `--timingCacheFile=${o.timingCachePath}`,
    `--saveEngine=${o.enginePath}`,
    // The build is what matters; one timed iteration only proves the engine runs.
    '--warmUp=0',
    '--duration=0',
    '--iterations=1',
  ];
}

/** Runs a process to completion, streaming each output line to `onLine`; resolves with its exit code and full output. */
export type RunProcess = (file: string, args: string[], onLine?: (line: string) => void) => Promise<{ code: number; output: string }>;

export const spawnProcess: RunProcess = (file, args, onLine) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      if (onLine) for (const l of lines) onLine(l);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      if (pending && onLine) onLine(pending);
      resolve({ code: code ?? 1, output });
    });
  });

export interface BuildRequest {
  manifest: ModelManifest;
  modelPath: string;
  heights: number[];
  /** Source aspect as given by the user, e.g. "16:9". */
  aspect: string;
  precision: EnginePrecision;
  /** Height the profile is tuned for (the configured start height). */
  optHeight: number;
  outDir: string;
  trtexec: string;
  /** The running TensorRT + GPU when the addon could tell; otherwise it is read from trtexec's log. */
  identity: TrtIdentity | null;
  run?: RunProcess;
  onLine?: (line: string) => void;
  now?: () => Date;
}

export interface BuildResult {
  enginePath: string;
  sidecarPath: string;
  sidecar: EngineSidecar;
}

export class EngineBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineBuildError';
  }
}

/**
 * Builds one engine for the ladder. The engine is written under a temporary name and renamed once
 * trtexec has said which TensorRT and GPU built it, so a failed build never leaves a plausible file.
 */
export async function buildEngine(req: BuildRequest): Promise<BuildResult> {
  const { manifest } = req;
  if (!manifest.sha256) throw new EngineBuildError(`model "${manifest.name}" has no file to build from (layout-only manifest)`);
  const sizes = ladderSizes(req.heights, parseAspect(req.aspect), manifest.stride);
  const profile = profileForLadder(sizes, req.optHeight);
  await mkdir(req.outDir, { recursive: true });
  const tmpEngine = join(req.outDir, `${manifest.name}.${manifest.sha256.slice(0, SHORT_SHA_LENGTH)}.building-${process.pid}.engine`);
  const cache = join(req.outDir, req.identity ? timingCacheFileName(req.identity) : 'trtexec.timing.cache');
  const args = trtexecArgs({ onnxPath: req.modelPath, input: manifest.input.name, profile, precision: req.precision, enginePath: tmpEngine, timingCachePath: cache });
  const started = (req.now ?? (() => new Date()))();
  const { code, output } = await (req.run ?? spawnProcess)(req.trtexec, args, req.onLine);
  const seconds = ((req.now ?? (() => new Date()))().getTime() - started.getTime()) / 1000;
  const failed = (why: string) => rm(tmpEngine, { force: true }).then(() => { throw new EngineBuildError(why); });
  if (code !== 0) {
    const tail = output.trim().split('\n').slice(-8).join('\n');
    return failed(`trtexec exited with code ${code}:\n${tail}`);
  }
  const identity = identityFromTrtexecLog(output) ?? req.identity;
  if (!identity) return failed('trtexec did not report its TensorRT version and GPU (no "Selected Device"/"Compute Capability" lines)');
  const base = engineBaseName({ model: manifest.name, sha256: manifest.sha256, identity, precision: req.precision });
  const enginePath = join(req.outDir, `${base}.engine`);
  const sidecarPath = join(req.outDir, `${base}.json`);
  try {
    await rename(tmpEngine, enginePath);
  } catch (e) {
    return failed(`trtexec finished but produced no engine at ${tmpEngine}: ${(e as Error).message}`);
  }
  const sidecar: EngineSidecar = {
    format: SIDECAR_FORMAT,
    engine: `${base}.engine`,
    model: { name: manifest.name, sha256: manifest.sha256, file: manifest.file ?? '' },
    identity,
    precision: req.precision,
    input: manifest.input.name,
    profile,
    ladder: { heights: sizes.map((s) => s.height), aspect: req.aspect },
    command: [req.trtexec, ...args],
    built_at: started.toISOString(),
    build_seconds: Math.round(seconds * 10) / 10,
  };
  await writeSidecar(sidecarPath, sidecar);
  return { enginePath, sidecarPath, sidecar };
}
