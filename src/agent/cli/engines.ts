// `pafcast engines build|list`: TensorRT engines for the scale ladder, built with JetPack's trtexec.

import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { loadManifest, type ModelManifest } from '../../runtime/manifest.js';
import { locateModel } from '../../runtime/model-locator.js';
import { identityOf, loadTrtAddon, type TrtAddon } from '../../runtime/backends/tensorrt.js';
import { describeIdentity, type TrtIdentity } from '../../runtime/engines/identity.js';
import { DEFAULT_LADDER_HEIGHTS, ladderSizes, parseAspect } from '../../runtime/engines/ladder.js';
import { engineOutputDir, engineSearchDirs, type EnginePrecision } from '../../runtime/engines/naming.js';
import { scanEngines, type EngineEntry } from '../../runtime/engines/sidecar.js';
import { judgeEngine } from '../../runtime/engines/selection.js';
import { buildEngine, findTrtexec, type RunProcess } from '../../runtime/engines/trtexec.js';
import { cliError, intListOption } from './common.js';

const help = `usage: pafcast engines build [options]
       pafcast engines list [--json] [-c FILE]

build: runs trtexec once per model with one optimisation profile spanning every ladder height,
       and writes <model>.<sha>.trt<version>.<gpu>.<precision>.engine + a .json sidecar.
  --model NAME          model manifest (default: inference.model from the config)
  --heights H,H,...     ladder heights (default: telemetry.scale.ladder, else ${DEFAULT_LADDER_HEIGHTS.join(',')})
  --precision P         fp16 | fp32 (default: inference.tensorrt.precision)
  --aspect W:H          source aspect the widths follow (default 16:9)
  --out DIR             where to write (default: inference.tensorrt.engine_dir, else models/trt)
  --trtexec PATH        trtexec binary (default /usr/src/tensorrt/bin/trtexec, then PATH)
  -c, --config FILE     agent config to take defaults from
list: every engine found, with whether it can run here and why not.
`;

/** Seams for tests: the addon, trtexec and output. */
export interface EnginesDeps {
  addonLoader?: () => TrtAddon;
  runProcess?: RunProcess;
  findTrtexec?: () => Promise<string | null>;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

function runningIdentity(loader: () => TrtAddon): { identity: TrtIdentity | null; why: string } {
  try {
    return { identity: identityOf(loader()), why: '' };
  } catch (e) {
    return { identity: null, why: (e as Error).message };
  }
}

export async function command(argv: string[], deps: EnginesDeps = {}): Promise<number> {
  const out = deps.out ?? ((t: string) => process.stdout.write(t));
  const err = deps.err ?? ((t: string) => process.stderr.write(t));
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    out(help);
    return sub ? 0 : 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        model: { type: 'string' }, heights: { type: 'string' }, precision: { type: 'string' }, aspect: { type: 'string' },
        out: { type: 'string' }, trtexec: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return cliError('engines', (e as Error).message, 2);
  }
  const { config, errors } = loadConfig({ file: values.config, env: process.env });
  if (errors.length) return cliError('engines', `invalid configuration:\n${errors.join('\n')}`, 2);
  const loader = deps.addonLoader ?? (() => loadTrtAddon());

  if (sub === 'list') {
    const { entries, skipped } = await scanEngines(engineSearchDirs(config.inference.tensorrt.engine_dir));
    const { identity, why } = runningIdentity(loader);
    const ladder = config.telemetry.scale.ladder;
    const rows = entries.map((e) => ({ ...describeEntry(e, identity, config.inference.tensorrt.precision, ladder), path: e.enginePath }));
    if (values.json) out(`${JSON.stringify({ running: identity, why_unknown: why || undefined, engines: rows, skipped }, null, 2)}\n`);
    else {
      out(identity ? `running: ${describeIdentity(identity)}\n` : `running: unknown (${why})\n`);
      if (!rows.length) out(`no engines in ${engineSearchDirs(config.inference.tensorrt.engine_dir).join(', ')}\n`);
      for (const r of rows) out(`${r.status.padEnd(12)} ${r.path}${r.reason ? `\n             ${r.reason}` : ''}\n`);
      for (const s of skipped) out(`skipped      ${s}\n`);
    }
    return 0;
  }
  if (sub !== 'build') return cliError('engines', `unknown subcommand "${sub}" (build or list)`, 2);

  let manifest: ModelManifest;
  let heights: number[];
  let precision: EnginePrecision;
  let aspect: string;
  try {
    manifest = loadManifest(values.model ?? config.inference.model);
    heights = intListOption('--heights', values.heights) ?? (config.telemetry.scale.ladder.length ? config.telemetry.scale.ladder : DEFAULT_LADDER_HEIGHTS);
    const p = values.precision ?? config.inference.tensorrt.precision;
    if (p !== 'fp16' && p !== 'fp32') throw new Error(`--precision must be fp16 or fp32, got "${p}"`);
    precision = p;
    aspect = values.aspect ?? '16:9';
    ladderSizes(heights, parseAspect(aspect), manifest.stride);
    const { min_height: lo, max_height: hi } = manifest.input_size;
    const outside = heights.filter((h) => h < lo || h > hi);
    if (outside.length) throw new Error(`heights ${outside.join(',')} are outside ${manifest.name}'s input range ${lo}..${hi}`);
  } catch (e) {
    return cliError('engines', (e as Error).message, 2);
  }
  const trtexec = values.trtexec ?? (await (deps.findTrtexec ?? findTrtexec)());
  if (!trtexec)
    return cliError('engines', 'trtexec not found at /usr/src/tensorrt/bin/trtexec or on PATH; on JetPack it comes with the TensorRT samples (sudo apt install tensorrt, or libnvinfer-bin)', 1);
  let modelPath: string;
  try {
    modelPath = await locateModel(manifest, config.inference.model_path);
  } catch (e) {
    return cliError('engines', (e as Error).message, 1);
  }
  const { identity } = runningIdentity(loader);
  const outDir = values.out ?? engineOutputDir(config.inference.tensorrt.engine_dir);
  err(`pafcast engines: building ${manifest.name} (${precision}, heights ${heights.join(',')}, aspect ${aspect}) with ${trtexec}; this takes minutes\n`);
  try {
    const result = await buildEngine({
      manifest, modelPath, heights, aspect, precision, outDir, trtexec, identity, run: deps.runProcess,
      optHeight: config.inference.height || manifest.input_size.default_height,
      onLine: process.env.PAFCAST_VERBOSE ? (l) => err(`  ${l}\n`) : undefined,
    });
    out(`${result.enginePath}\n`);
    err(`pafcast engines: built in ${result.sidecar.build_seconds} s for ${describeIdentity(result.sidecar.identity)}; sidecar ${result.sidecarPath}\n`);
    return 0;
  } catch (e) {
    return cliError('engines', (e as Error).message, 1);
  }
}

/** Judges an engine against the running TensorRT/GPU and the configured ladder (at the aspect it was built for). */
function describeEntry(e: EngineEntry, identity: TrtIdentity | null, precision: EnginePrecision, ladder: number[]): { model: string; status: string; reason: string } {
  const model = e.sidecar.model.name;
  if (!identity) return { model, status: 'unknown', reason: `built for ${describeIdentity(e.sidecar.identity)}; cannot check without the addon` };
  let manifest: ModelManifest;
  try {
    manifest = loadManifest(model);
  } catch {
    return { model, status: 'unknown', reason: `model "${model}" has no manifest here` };
  }
  const heights = ladder.length ? ladder : e.sidecar.ladder.heights;
  const sizes = ladderSizes(heights, parseAspect(e.sidecar.ladder.aspect), manifest.stride);
  const verdict = judgeEngine(e, { manifest, identity, precision, sizes });
  return { model, status: verdict.status, reason: verdict.status === 'usable' ? '' : verdict.reason };
}
