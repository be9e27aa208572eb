// Board identity, JetPack release, power mode, thermal zones, hardware encoder and cameras.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listThermalZones } from '../../telemetry/thermal.js';
import { parseNvpmodelQuery } from '../../telemetry/power-mode.js';
import { boardFamily, jetpackOf, parseTegraRelease, readBoardModel, readText } from './jetson-release.js';
import type { BoardFacts, CheckResult, DoctorContext } from './types.js';

export async function readBoardFacts(root: string): Promise<BoardFacts> {
  const model = await readBoardModel(root);
  const release = await readText(root, 'etc/nv_tegra_release');
  const l4t = release ? parseTegraRelease(release) : null;
  return { model, l4t, jetpack: l4t ? jetpackOf(l4t.version) : null };
}

export const isJetson = (b: BoardFacts) => b.l4t !== null;

export function checkBoard(b: BoardFacts): CheckResult {
  const base = { id: 'board', title: 'board' };
  if (b.model && isJetson(b)) return { ...base, verdict: 'OK', detail: `${b.model} (${boardFamily(b.model)})` };
  if (b.model) return { ...base, verdict: 'WARN', detail: `${b.model}: a device tree but no /etc/nv_tegra_release, so not a JetPack system`, fix: 'TensorRT and the NVIDIA GStreamer elements come with JetPack (L4T); onnxruntime on the CPU is used here' };
  return { ...base, verdict: 'WARN', detail: 'not a Jetson (no /proc/device-tree/model)', fix: 'fine for development: onnxruntime on the CPU is used; on a Jetson this file always exists' };
}

export function checkRelease(b: BoardFacts): CheckResult {
  const base = { id: 'jetpack', title: 'L4T / JetPack' };
  if (!b.l4t) return { ...base, verdict: 'WARN', detail: 'no /etc/nv_tegra_release', fix: 'not a JetPack system; Jetson-specific checks below are informational' };
  const jp = b.jetpack ?? 'unknown JetPack';
  const detail = `L4T R${b.l4t.version} = JetPack ${jp}`;
  if (b.l4t.major < 32 || (b.l4t.major === 32 && Number(b.l4t.revision.split('.')[0]) < 6))
    return { ...base, verdict: 'FAIL', detail: `${detail}: TensorRT older than 8.0`, fix: 'flash JetPack 4.6.x (TX2/Nano/Xavier) or newer; the addon needs TensorRT 8.0+' };
  if (b.l4t.major === 32)
    return { ...base, verdict: 'OK', detail: `${detail} (Ubuntu 18.04: Node 20 needs the unofficial glibc-217 build, see docs/jetson.md)` };
  return { ...base, verdict: 'OK', detail };
}

export async function checkPowerMode(ctx: DoctorContext, b: BoardFacts): Promise<CheckResult> {
  const base = { id: 'power', title: 'power mode' };
  if (!isJetson(b)) return { ...base, verdict: 'OK', detail: 'not a Jetson: no nvpmodel (nothing to set)' };
  const res = await ctx.run('nvpmodel', ['-q']);
  if (!res) return { ...base, verdict: 'WARN', detail: 'nvpmodel not found', fix: 'it ships with L4T (nvidia-l4t-tools); reinstall it: sudo apt install --reinstall nvidia-l4t-tools' };
  const mode = parseNvpmodelQuery(res.stdout);
  if (!mode) return { ...base, verdict: 'WARN', detail: `nvpmodel -q gave no mode (exit ${res.code}: ${(res.stderr || res.stdout).trim().split('\n')[0] ?? ''})`, fix: 'run `sudo nvpmodel -q` by hand; the agent adapts its input size either way' };
  const name = `${mode.name}${mode.id === null ? '' : ` (mode ${mode.id})`}`;
  if (/^MAXN/i.test(mode.name)) return { ...base, verdict: 'OK', detail: name };
  return { ...base, verdict: 'WARN', detail: `${name}: not the fastest mode`, fix: 'for full speed: sudo nvpmodel -m <MAXN id from /etc/nvpmodel.conf> && sudo jetson_clocks (the adaptive scale copes with slower modes)' };
}

export async function checkThermal(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'thermal', title: 'thermal zones' };
  const zones = await listThermalZones(ctx.root);
  if (!zones.length) return { ...base, verdict: 'WARN', detail: 'none under /sys/devices/virtual/thermal', fix: 'temperature-driven scaling is off without zones; FPS-driven scaling still works' };
  const shown = zones.map((z) => `${z.type}${z.tempC === null ? ' (offline)' : ` ${z.tempC.toFixed(1)}°C`}`).join(', ');
  return { ...base, verdict: 'OK', detail: `${zones.length}: ${shown}` };
}

async function exists(root: string, path: string): Promise<boolean> {
  return stat(join(root, path)).then(() => true, () => false);
}

/** NVENC device nodes: /dev/nvhost-msenc on L4T R32/R35, /dev/v4l2-nvenc on R36 (Orin). */
const ENCODER_NODES = ['dev/nvhost-msenc', 'dev/v4l2-nvenc'];

export async function checkEncoder(ctx: DoctorContext, b: BoardFacts): Promise<CheckResult> {
  const base = { id: 'encoder', title: 'hardware video encoder' };
  if (!isJetson(b)) return { ...base, verdict: 'OK', detail: 'not a Jetson: the preview encodes in software' };
  if (b.model && boardFamily(b.model) === 'orin-nano')
    return { ...base, verdict: 'WARN', detail: 'Orin Nano has no NVENC', fix: 'the preview encodes in software on the CPU: keep preview.enabled=false or its resolution low on this board' };
  for (const node of ENCODER_NODES) if (await exists(ctx.root, node)) return { ...base, verdict: 'OK', detail: `NVENC (/${node})` };
  return { ...base, verdict: 'WARN', detail: `no NVENC device node (${ENCODER_NODES.map((n) => `/${n}`).join(', ')})`, fix: 'check the L4T multimedia packages (sudo apt install nvidia-l4t-multimedia); the preview falls back to software encoding' };
}

export async function checkCameras(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'cameras', title: 'cameras' };
  const names = await readdir(join(ctx.root, 'dev')).catch(() => [] as string[]);
  const videos = names.filter((n) => /^video\d+$/.test(n)).sort();
  if (!videos.length) return { ...base, verdict: 'WARN', detail: 'no /dev/video*', fix: 'plug in a USB/CSI camera (CSI: check the ribbon and `dmesg | grep -i imx`), or use a file/RTSP source' };
  return { ...base, verdict: 'OK', detail: videos.map((v) => `/dev/${v}`).join(', ') };
}
