// onnxruntime on its own thread. onnxruntime-node runs a session synchronously on the calling
// thread (its promise only defers the call), so on the main thread every inference would freeze the
// event loop for its whole duration: capture pipes, MQTT and HTTP would stall with it. This worker
// owns the session; frames cross in SharedArrayBuffers (onnxruntime itself refuses shared memory, so
// each run copies input in and maps out: ~0.3 ms for a 256x456 frame).
// Plain JavaScript so that it runs unchanged from src/ (tests) and dist/ (the CLI).

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** onnxruntime's provider names as its profiler reports them → the names config uses. */
const profilerNames = {
  CPUExecutionProvider: 'cpu',
  CUDAExecutionProvider: 'cuda',
  TensorrtExecutionProvider: 'tensorrt',
  DmlExecutionProvider: 'dml',
  CoreMLExecutionProvider: 'coreml',
  XnnpackExecutionProvider: 'xnnpack',
};

/** @type {ort.InferenceSession | undefined} */
let session;
let inputName = '';
/** Profile directory until the first run has told which providers executed nodes. */
let profileDir;
/** @type {Map<string, {shared: Float32Array, input: ort.Tensor, fetches: Record<string, ort.Tensor>, outputs: Array<{name: string, own: Float32Array, shared: Float32Array}>}>} */
const slots = new Map();

const firstLine = (s) => String(s).split('\n')[0].trim();

async function load({ modelPath, providers, threads, input }) {
  const failures = [];
  for (const provider of providers) {
    const dir = await mkdtemp(join(tmpdir(), 'pafcast-ort-'));
    try {
      session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        ...(threads ? { intraOpNumThreads: threads } : {}),
        graphOptimizationLevel: 'all',
        enableProfiling: true,
        profileFilePrefix: join(dir, 'profile'),
      });
      profileDir = dir;
      inputName = input;
      return { provider, failures, inputNames: session.inputNames, outputNames: session.outputNames, version: ort.env.versions.node ?? ort.env.versions.common };
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      failures.push(`${provider}: ${firstLine(e.message)}`);
    }
  }
  return { provider: null, failures };
}

function slot({ key, input, outputs }) {
  const inputOwn = new Float32Array(input.shared.length);
  const entry = {
    shared: input.shared,
    input: new ort.Tensor('float32', inputOwn, input.dims),
    fetches: {},
    outputs: [],
  };
  for (const o of outputs) {
    const own = new Float32Array(o.shared.length);
    entry.fetches[o.name] = new ort.Tensor('float32', own, o.dims);
    entry.outputs.push({ name: o.name, own, shared: o.shared });
  }
  slots.set(key, entry);
}

/** Which providers executed nodes in the first run, from onnxruntime's own profile; then profiling stops. */
async function readProfile() {
  const dir = profileDir;
  profileDir = undefined;
  try {
    session.endProfiling();
    const files = await readdir(dir);
    const events = JSON.parse(await readFile(join(dir, files[0]), 'utf8'));
    const seen = new Set();
    for (const e of events) if (e.args?.provider) seen.add(profilerNames[e.args.provider] ?? e.args.provider);
    return { ranOn: [...seen] };
  } catch (e) {
    return { profileError: firstLine(e.message) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function run({ key }) {
  const s = slots.get(key);
  s.input.data.set(s.shared);
  await session.run({ [inputName]: s.input }, s.fetches);
  for (const o of s.outputs) o.shared.set(o.own);
  return profileDir ? await readProfile() : {};
}

parentPort.on('message', async (msg) => {
  try {
    let result = {};
    if (msg.type === 'load') result = await load(msg);
    else if (msg.type === 'slot') slot(msg);
    else if (msg.type === 'run') result = await run(msg);
    else if (msg.type === 'release') {
      if (profileDir) await rm(profileDir, { recursive: true, force: true });
      await session?.release();
      session = undefined;
      slots.clear();
    }
    parentPort.postMessage({ id: msg.id, ok: true, ...result });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, ok: false, message: firstLine(e?.message ?? e) });
  }
});
