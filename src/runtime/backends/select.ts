// Chooses and loads the inference backend from config (`inference.backend: auto | tensorrt | onnxruntime`).
// This is the only place that knows which backends exist; everything above sees an InferenceBackend.
// auto: TensorRT when the addon loads and an engine matching the running TensorRT/GPU/ladder exists
// (or, with tensorrt.build_missing, can be built), otherwise onnxruntime on the CPU. Either way one
// log line says which backend runs, why, and how long one inference at the largest size takes once warm.

import { BackendUnavailableError, type InferenceBackend, type NetSize } from '../backend.js';
import type { ModelManifest } from '../manifest.js';
import { describeIdentity, type TrtIdentity } from '../engines/identity.js';
import { aspectLabel, formatSize } from '../engines/ladder.js';
import { engineOutputDir, engineSearchDirs } from '../engines/naming.js';
import { scanEngines } from '../engines/sidecar.js';
import { chooseEngine } from '../engines/selection.js';
import { buildEngine, findTrtexec, type RunProcess } from '../engines/trtexec.js';
import type { InferenceConfig } from './config-schema.js';
import type { BackendLog, OnnxRuntimeOptions } from './onnxruntime.js';
import { identityOf, loadTrtAddon, TensorRtBackend, type TrtAddon } from './tensorrt.js';

export interface SelectBackendOptions {
  inference: InferenceConfig;
  manifest: ModelManifest;
  modelPath: string;
  /** Every size the pipeline may run (the scale ladder). */
  sizes: NetSize[];
  log: BackendLog;
  /** Stand-in for the native addon (tests); defaults to loading native/tensorrt/build/Release/pafcast_trt.node. */
  addonLoader?: () => TrtAddon;
  createOnnxRuntime?: (opts: OnnxRuntimeOptions) => InferenceBackend;
  /** Engine directories to search instead of the configured/default ones (tests). */
  engineDirs?: string[];
  /** trtexec runner and location for tensorrt.build_missing (tests). */
  runProcess?: RunProcess;
  trtexecPath?: string | null;
  /** Clock for the inference-time measurement, in milliseconds. */
  now?: () => number;
}

export interface SelectedBackend {
  backend: InferenceBackend;
  /** Why this backend was chosen (also logged). */
  reason: string;
}

function largest(sizes: NetSize[]): NetSize {
  return sizes.reduce((a, b) => (b.height * b.width > a.height * a.width ? b : a));
}

/**
 * Times one inference at the largest size after one untimed run, so one-off start costs (CUDA's lazy
 * kernel loading on the first TensorRT enqueue, allocator warm-up) do not pass for the frame time.
 */
async function timeInference(backend: InferenceBackend, sizes: NetSize[], now: () => number): Promise<string> {
  const size = largest(sizes);
  backend.input(size).fill(0);
  await backend.run(size);
  const t0 = now();
  await backend.run(size);
  return `inference at ${formatSize(size)}: ${(now() - t0).toFixed(1)} ms`;
}

/** Tries to bring up TensorRT; resolves with a loaded backend or throws BackendUnavailableError saying why not. */
async function tryTensorRt(o: SelectBackendOptions): Promise<{ backend: TensorRtBackend; why: string }> {
  const addon = (o.addonLoader ?? loadTrtAddon)();
  let identity: TrtIdentity;
  try {
    identity = identityOf(addon);
  } catch (e) {
    throw new BackendUnavailableError(`TensorRT addon loads but reports no GPU: ${(e as Error).message}`);
  }
  const trt = o.inference.tensorrt;
  const want = { manifest: o.manifest, identity, precision: trt.precision, sizes: o.sizes };
  const aspect = aspectLabel(o.sizes, o.manifest.stride);
  const dirs = o.engineDirs ?? engineSearchDirs(trt.engine_dir);
  let choice = chooseEngine((await scanEngines(dirs)).entries, want, aspect);
  let built = '';
  if (!choice.engine && trt.build_missing === true) {
    const trtexec = o.trtexecPath !== undefined ? o.trtexecPath : await findTrtexec();
    if (!trtexec) throw new BackendUnavailableError(`${choice.fix}; tensorrt.build_missing is on but trtexec was not found`);
    o.log('info', `building a TensorRT engine for ${o.manifest.name} (${describeIdentity(identity)}); this takes minutes`);
    const outDir = o.engineDirs?.[0] ?? engineOutputDir(trt.engine_dir);
    await buildEngine({
      manifest: o.manifest, modelPath: o.modelPath, heights: o.sizes.map((s) => s.height), aspect, precision: trt.precision,
      optHeight: o.inference.height || o.manifest.input_size.default_height, outDir, trtexec, identity, run: o.runProcess,
    });
    choice = chooseEngine((await scanEngines(dirs)).entries, want, aspect);
    built = ', built now';
  }
  if (!choice.engine) {
    const rejected = choice.rejected.length ? ` (not usable: ${choice.rejected.join('; ')})` : '';
    throw new BackendUnavailableError(`${choice.fix}${rejected}`);
  }
  const backend = new TensorRtBackend({ addon, enginePath: choice.engine.enginePath, precision: trt.precision });
  try {
    await backend.load(o.manifest, o.modelPath, o.sizes);
  } catch (e) {
    await backend.dispose().catch(() => undefined);
    throw e;
  }
  return { backend, why: `engine ${choice.engine.sidecar.engine} matches ${describeIdentity(identity)}${built}` };
}

/** Creates and loads the configured backend (load() already called with `sizes`). */
export async function selectBackend(o: SelectBackendOptions): Promise<SelectedBackend> {
  const now = o.now ?? (() => performance.now());
  const wanted = o.inference.backend;
  let trtFailure = '';
  if (wanted !== 'onnxruntime') {
    try {
      const { backend, why } = await tryTensorRt(o);
      const reason = `inference backend: tensorrt, ${backend.info.precision} on ${backend.info.device} (${wanted === 'auto' ? 'auto: ' : ''}${why}); ${await timeInference(backend, o.sizes, now)}`;
      o.log('info', reason);
      return { backend, reason };
    } catch (e) {
      // An explicit `tensorrt` must not quietly turn into a CPU backend ten times slower.
      if (wanted === 'tensorrt') throw e instanceof BackendUnavailableError ? e : new BackendUnavailableError((e as Error).message);
      trtFailure = (e as Error).message;
    }
  }
  const ortOpts: OnnxRuntimeOptions = { providers: o.inference.onnxruntime.providers, threads: o.inference.onnxruntime.threads, log: o.log };
  // Imported only when needed: onnxruntime-node's prebuilt needs glibc 2.28, which JetPack 4 lacks,
  // and a board running TensorRT must not fail because the fallback cannot load.
  let create = o.createOnnxRuntime;
  if (!create) {
    const { OnnxRuntimeBackend } = await import('./onnxruntime.js');
    create = (opts) => new OnnxRuntimeBackend(opts);
  }
  const backend = create(ortOpts);
  const why = wanted === 'onnxruntime' ? 'config asks for onnxruntime' : `auto: TensorRT not used: ${trtFailure}`;
  let timing: string;
  try {
    await backend.load(o.manifest, o.modelPath, o.sizes);
    timing = await timeInference(backend, o.sizes, now);
  } catch (e) {
    // A model whose tensors do not match its manifest fails here: free the session before reporting.
    await backend.dispose().catch(() => undefined);
    throw e;
  }
  const reason = `inference backend: onnxruntime on ${backend.info.device} (${why}); ${timing}`;
  o.log(wanted === 'onnxruntime' ? 'info' : 'warn', reason);
  return { backend, reason };
}
