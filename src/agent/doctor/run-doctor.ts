// Runs every doctor check in order and renders the report (text lines or JSON).

import { disableOnnxRuntimeTelemetry } from '../../runtime/backends/ort-env.js';
import { execFile } from 'node:child_process';
import type { AgentConfig } from '../config/schema.js';
import { loadTrtAddon } from '../../runtime/backends/tensorrt.js';
import { DEFAULT_LADDER_HEIGHTS } from '../../runtime/engines/ladder.js';
import { engineSearchDirs } from '../../runtime/engines/naming.js';
import { checkBoard, checkCameras, checkEncoder, checkPowerMode, checkRelease, checkThermal, readBoardFacts } from './board-checks.js';
import { checkFfmpeg, checkGstreamer, checkNvidiaElements } from './media-checks.js';
import { checkBroker } from './broker-checks.js';
import { checkMqtt, probeBroker } from './mqtt-check.js';
import { checkPreviewEncoder, checkPreviewTransport } from './preview-checks.js';
import { checkGlibc, checkNode, checkOnnxRuntime, checkSharp } from './runtime-checks.js';
import { checkAddon, checkEngines, checkTensorRtInstall } from './tensorrt-checks.js';
import type { CheckResult, CommandRunner, DoctorContext, Verdict } from './types.js';

export async function runDoctor(ctx: DoctorContext): Promise<CheckResult[]> {
  const board = await readBoardFacts(ctx.root);
  const results: CheckResult[] = [checkBoard(board), checkRelease(board), checkGlibc(ctx), checkNode(ctx)];
  const { version, ...trt } = await checkTensorRtInstall(ctx, board);
  results.push(trt);
  const { identity, ...addon } = checkAddon(ctx, board, version);
  results.push(addon);
  const ladder = ctx.config.telemetry.scale.ladder.length ? ctx.config.telemetry.scale.ladder : DEFAULT_LADDER_HEIGHTS;
  results.push(await checkEngines(ctx, board, identity, ladder));
  results.push(await checkOnnxRuntime(ctx), await checkSharp(ctx));
  results.push(await checkFfmpeg(ctx), await checkGstreamer(ctx), await checkNvidiaElements(ctx, board));
  results.push(await checkEncoder(ctx, board), await checkPreviewEncoder(ctx, board), await checkPreviewTransport(ctx));
  results.push(await checkCameras(ctx), await checkThermal(ctx), await checkPowerMode(ctx, board));
  results.push(await checkMqtt(ctx));
  const broker = await checkBroker(ctx);
  if (broker) results.push(broker);
  return results;
}

export function worstVerdict(results: CheckResult[]): Verdict {
  if (results.some((r) => r.verdict === 'FAIL')) return 'FAIL';
  return results.some((r) => r.verdict === 'WARN') ? 'WARN' : 'OK';
}

export function formatReport(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.title.length));
  const lines = results.map((r) => `${r.verdict.padEnd(4)} ${r.title.padEnd(width)}  ${r.detail}${r.fix ? `\n     ${' '.repeat(width)}  fix: ${r.fix}` : ''}`);
  const counts = (['OK', 'WARN', 'FAIL'] as const).map((v) => `${results.filter((r) => r.verdict === v).length} ${v}`).join(', ');
  return `${lines.join('\n')}\n\n${counts}\n`;
}

/** Runs host commands with a timeout; null when the binary is not there. */
export const hostCommandRunner: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') resolve(null);
      else resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });

/** glibc version of this process as Node's diagnostic report states it. */
export function processGlibc(): string | null {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ?? null;
}

/**
 * Providers this onnxruntime-node install can use now ("cpu", ...). Ones it lists as not bundled
 * (cuda, tensorrt on linux-x64) need extra libraries it does not ship, so they do not count.
 * Imported lazily: a broken onnxruntime must fail its own check, not the whole doctor.
 */
export async function onnxRuntimeProviders(): Promise<string[]> {
  disableOnnxRuntimeTelemetry();
  const ort = await import('onnxruntime-node');
  return ort.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name);
}

/** The context for a real run on this machine (root "/" unless told otherwise). */
export function hostContext(config: AgentConfig, root = '/', mqttTimeoutMs = 3000): DoctorContext {
  return {
    root,
    config,
    run: hostCommandRunner,
    glibc: processGlibc(),
    node: process.version,
    importModule: (name) => import(name),
    addonLoader: () => loadTrtAddon(),
    ortProviders: onnxRuntimeProviders,
    mqttProbe: probeBroker,
    engineDirs: engineSearchDirs(config.inference.tensorrt.engine_dir),
    mqttTimeoutMs,
  };
}
