// Engine file names carry everything that decides whether an engine can run here, so a directory
// listing already tells which engine is for which model, TensorRT release, GPU and precision.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { gpuSlug, type TrtIdentity } from './identity.js';

export type EnginePrecision = 'fp16' | 'fp32';

/** Characters of the model sha256 kept in the name: enough to tell model files apart, short enough to read. */
export const SHORT_SHA_LENGTH = 12;

export interface EngineKey {
  model: string;
  sha256: string;
  identity: TrtIdentity;
  precision: EnginePrecision;
}

/** e.g. "lightweight-openpose-coco18.44f4a4890c76.trt8.5.2.orin-sm87.fp16" */
export function engineBaseName(key: EngineKey): string {
  const sm = `sm${key.identity.gpu.computeCapability.replace('.', '')}`;
  return [key.model, key.sha256.slice(0, SHORT_SHA_LENGTH), `trt${key.identity.tensorrt}`, `${gpuSlug(key.identity.gpu.name)}-${sm}`, key.precision].join('.');
}

export const engineFileName = (key: EngineKey) => `${engineBaseName(key)}.engine`;
export const sidecarFileName = (key: EngineKey) => `${engineBaseName(key)}.json`;

/** Timing caches depend on TensorRT and GPU only, so every model built here shares one. */
export function timingCacheFileName(identity: TrtIdentity): string {
  return `trt${identity.tensorrt}.${gpuSlug(identity.gpu.name)}-sm${identity.gpu.computeCapability.replace('.', '')}.timing.cache`;
}

/** Where engines are looked for, first match wins: the configured dir, the package's models/trt, the service state dir. */
export function engineSearchDirs(configured: string): string[] {
  const dirs = [configured, join(packageRoot, 'models', 'trt'), '/var/lib/pafcast/trt'].filter(Boolean);
  return [...new Set(dirs)];
}

function writableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `pafcast engines build` writes: the configured dir; else the package's models/trt when this
 * user may write there (development checkouts); else the service state dir (an installed service's
 * package directory belongs to root, while the build runs as the service user).
 */
export function engineOutputDir(configured: string, canWrite: (dir: string) => boolean = writableDir): string {
  if (configured) return configured;
  const packaged = join(packageRoot, 'models', 'trt');
  return canWrite(packaged) ? packaged : '/var/lib/pafcast/trt';
}
