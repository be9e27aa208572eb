// Run-time engine choice: the engine for this model whose TensorRT + GPU match the running ones, with
// the configured precision, whose profile covers every size of the ladder. Anything else is explained
// (stale: model or TensorRT changed, ladder outside the profile) together with the command that fixes it.
// The height the pipeline runs at never matters here, only the ladder: changing height never rebuilds.

import type { NetSize } from '../backend.js';
import type { ModelManifest } from '../manifest.js';
import { describeIdentity, gpuSlug, type TrtIdentity } from './identity.js';
import { formatSize, sizesOutsideProfile } from './ladder.js';
import type { EnginePrecision } from './naming.js';
import type { EngineEntry } from './sidecar.js';

export type EngineVerdict =
  | { status: 'usable' }
  | { status: 'stale'; reason: string }
  | { status: 'other-target'; reason: string }
  | { status: 'missing-file'; reason: string };

export interface EngineWanted {
  manifest: ModelManifest;
  identity: TrtIdentity;
  precision: EnginePrecision;
  sizes: NetSize[];
}

/** Judges one engine against what is running. Other models are not judged (the caller filters by name). */
export function judgeEngine(entry: EngineEntry, want: EngineWanted): EngineVerdict {
  const s = entry.sidecar;
  const running = want.identity;
  if (s.identity.gpu.computeCapability !== running.gpu.computeCapability || gpuSlug(s.identity.gpu.name) !== gpuSlug(running.gpu.name))
    return { status: 'other-target', reason: `built for ${s.identity.gpu.name} (sm${s.identity.gpu.computeCapability}), this GPU is ${running.gpu.name} (sm${running.gpu.computeCapability})` };
  if (s.precision !== want.precision)
    return { status: 'other-target', reason: `precision ${s.precision}, config asks for ${want.precision}` };
  if (s.model.sha256 !== want.manifest.sha256)
    return { status: 'stale', reason: `model changed: built from sha256 ${s.model.sha256.slice(0, 12)}, the manifest now names ${want.manifest.sha256?.slice(0, 12)}` };
  if (s.identity.tensorrt !== running.tensorrt)
    return { status: 'stale', reason: `TensorRT changed: built with ${s.identity.tensorrt}, running ${running.tensorrt}` };
  const outside = sizesOutsideProfile(want.sizes, s.profile);
  if (outside.length)
    return { status: 'stale', reason: `ladder outside the profile: ${outside.map(formatSize).join(', ')} not in ${s.profile.min.slice(2).join('x')} .. ${s.profile.max.slice(2).join('x')}` };
  if (!entry.engineExists) return { status: 'missing-file', reason: `sidecar present but ${entry.enginePath} is missing or empty` };
  return { status: 'usable' };
}

export interface EngineChoice {
  engine: EngineEntry | null;
  /** One line per engine of this model that was not taken, with why. */
  rejected: string[];
  /** When no engine is usable: the command that builds one (and what it would replace). */
  fix: string | null;
}

/** The command that builds an engine for this model, ladder and precision. */
export function buildCommandFor(want: EngineWanted, aspect: string): string {
  const heights = [...new Set(want.sizes.map((s) => s.height))].sort((a, b) => a - b).join(',');
  return `pafcast engines build --model ${want.manifest.name} --heights ${heights} --precision ${want.precision} --aspect ${aspect}`;
}

/** Picks the newest usable engine for the model; otherwise says why none fits and how to build one. */
export function chooseEngine(entries: EngineEntry[], want: EngineWanted, aspect: string): EngineChoice {
  const mine = entries.filter((e) => e.sidecar.model.name === want.manifest.name);
  const rejected: string[] = [];
  const usable: EngineEntry[] = [];
  for (const entry of mine) {
    const verdict = judgeEngine(entry, want);
    if (verdict.status === 'usable') usable.push(entry);
    else rejected.push(`${entry.sidecar.engine}: ${verdict.status}: ${verdict.reason}`);
  }
  usable.sort((a, b) => b.sidecar.built_at.localeCompare(a.sidecar.built_at));
  if (usable.length) return { engine: usable[0], rejected, fix: null };
  const what = mine.length ? `no usable engine for ${want.manifest.name}` : `no engine built for ${want.manifest.name}`;
  return { engine: null, rejected, fix: `${what} for ${describeIdentity(want.identity)}, ${want.precision}; build one with: ${buildCommandFor(want, aspect)}` };
}
