// TensorRT: the installed version (from its headers), whether pafcast's addon loads, and whether an
// engine exists for the configured model and ladder on this TensorRT + GPU.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrtAddonInfo } from '../../runtime/backends/tensorrt.js';
import { loadManifest } from '../../runtime/manifest.js';
import { describeIdentity, type TrtIdentity } from '../../runtime/engines/identity.js';
import { ladderSizes } from '../../runtime/engines/ladder.js';
import { scanEngines } from '../../runtime/engines/sidecar.js';
import { chooseEngine } from '../../runtime/engines/selection.js';
import { JETPACK_TRTEXEC } from '../../runtime/engines/trtexec.js';
import { isJetson } from './board-checks.js';
import { parseTrtHeaderVersion, readText, TRT_HEADER_PATHS } from './jetson-release.js';
import type { BoardFacts, CheckResult, DoctorContext } from './types.js';

/** libnvinfer's runtime library (the major version is in the soname: .so.8 on JetPack 4/5, .so.10 on 6). */
const LIB_DIRS = ['usr/lib/aarch64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'usr/local/tensorrt/lib'];

async function findRuntimeLib(root: string): Promise<string | null> {
  for (const dir of LIB_DIRS)
    for (const name of ['libnvinfer.so.10', 'libnvinfer.so.8'])
      if (await stat(join(root, dir, name)).then(() => true, () => false)) return `/${dir}/${name}`;
  return null;
}

export async function checkTensorRtInstall(ctx: DoctorContext, b: BoardFacts): Promise<CheckResult & { version: string | null }> {
  const base = { id: 'tensorrt', title: 'TensorRT' };
  let header: { path: string; version: string } | null = null;
  for (const p of TRT_HEADER_PATHS) {
    const text = await readText(ctx.root, p);
    const version = text ? parseTrtHeaderVersion(text) : null;
    if (version) {
      header = { path: `/${p}`, version };
      break;
    }
  }
  const lib = await findRuntimeLib(ctx.root);
  const pkg = b.l4t && b.l4t.major >= 36 ? 'nvidia-tensorrt-dev' : 'libnvinfer-dev';
  if (header && lib) return { ...base, verdict: 'OK', detail: `${header.version} (${header.path}, ${lib})`, version: header.version };
  if (header) return { ...base, verdict: 'WARN', detail: `headers ${header.version} but no libnvinfer runtime library`, fix: `sudo apt install ${pkg}`, version: header.version };
  if (lib) return { ...base, verdict: 'WARN', detail: `runtime ${lib} but no headers: the addon cannot be built`, fix: `sudo apt install ${pkg}`, version: null };
  if (!isJetson(b)) return { ...base, verdict: 'WARN', detail: 'not installed (not a Jetson)', fix: 'onnxruntime on the CPU is used; TensorRT is for Jetson boards', version: null };
  return { ...base, verdict: 'FAIL', detail: 'not installed', fix: `sudo apt install nvidia-jetpack (or ${pkg}); TensorRT is part of JetPack`, version: null };
}

export function checkAddon(ctx: DoctorContext, b: BoardFacts, headerVersion: string | null): CheckResult & { identity: TrtIdentity | null } {
  const base = { id: 'tensorrt.addon', title: 'TensorRT addon' };
  let info: TrtAddonInfo;
  try {
    info = ctx.addonLoader().info();
  } catch (e) {
    const why = (e as Error).message;
    const canBuild = headerVersion !== null;
    return {
      ...base, identity: null, verdict: isJetson(b) ? 'WARN' : 'OK',
      detail: isJetson(b) ? why : `not used here (${why.split(';')[0]})`,
      ...(isJetson(b) ? { fix: canBuild ? 'build it: scripts/build-tensorrt-addon.sh (then restart the service); until then onnxruntime on the CPU runs' : 'install the TensorRT headers first (see the TensorRT line), then scripts/build-tensorrt-addon.sh' } : {}),
    };
  }
  const identity = { tensorrt: info.runtime, gpu: { name: info.gpu.name, computeCapability: info.gpu.computeCapability } };
  const detail = `loads: ${describeIdentity(identity)}, ${info.api} API, built against ${info.compiledWith}${info.gpu.integrated ? ', zero-copy mapped memory' : ''}`;
  const [cm, cmi] = info.compiledWith.split('.');
  const [rm, rmi] = info.runtime.split('.');
  if (cm !== rm || cmi !== rmi)
    return { ...base, identity, verdict: 'FAIL', detail: `${detail}: compiled for ${info.compiledWith}, running ${info.runtime}`, fix: 'rebuild it after the TensorRT upgrade: scripts/build-tensorrt-addon.sh' };
  return { ...base, identity, verdict: 'OK', detail };
}

export async function checkEngines(ctx: DoctorContext, b: BoardFacts, identity: TrtIdentity | null, ladder: number[]): Promise<CheckResult> {
  const base = { id: 'tensorrt.engines', title: 'TensorRT engines' };
  const { entries } = await scanEngines(ctx.engineDirs);
  const trtexec = await stat(join(ctx.root, JETPACK_TRTEXEC)).then(() => true, () => false);
  const inference = ctx.config.inference;
  if (!identity) {
    if (!isJetson(b)) return { ...base, verdict: 'OK', detail: `not used here (${entries.length} engine sidecar(s) found)` };
    return { ...base, verdict: 'WARN', detail: `${entries.length} engine sidecar(s) found; cannot match them without the addon`, fix: 'build the addon first (see above), then run this again' };
  }
  let manifest;
  try {
    manifest = loadManifest(inference.model);
  } catch (e) {
    return { ...base, verdict: 'FAIL', detail: (e as Error).message.split('\n')[0], fix: 'fix inference.model in the config' };
  }
  const sizes = ladderSizes(ladder, 16 / 9, manifest.stride);
  const choice = chooseEngine(entries, { manifest, identity, precision: inference.tensorrt.precision, sizes }, '16:9');
  if (choice.engine) return { ...base, verdict: 'OK', detail: `${choice.engine.sidecar.engine} covers heights ${ladder.join(',')}` };
  const rejected = choice.rejected.length ? `; rejected: ${choice.rejected.join('; ')}` : '';
  const fix = trtexec ? choice.fix!.replace(/^.*build one with: /, '') : `trtexec is missing (${JETPACK_TRTEXEC}): sudo apt install tensorrt (JetPack's samples), then ${choice.fix!.replace(/^.*build one with: /, '')}`;
  return { ...base, verdict: 'WARN', detail: `${choice.fix!.replace(/; build one with: .*$/, '')}${rejected}`, fix: `${fix} (set --aspect to your camera's; until then onnxruntime on the CPU runs)` };
}
