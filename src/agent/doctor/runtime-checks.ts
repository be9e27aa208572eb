// The JavaScript side: glibc, Node, onnxruntime's providers (the live view's checks are in preview-checks.ts).

import type { CheckResult, DoctorContext } from './types.js';

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Official Node 20 linux builds need glibc 2.28. */
export const NODE_OFFICIAL_GLIBC = '2.28';

export function checkGlibc(ctx: DoctorContext): CheckResult {
  const base = { id: 'glibc', title: 'glibc' };
  if (!ctx.glibc) return { ...base, verdict: 'WARN', detail: 'not glibc (musl or not Linux)', fix: 'JetPack is glibc-based; on other systems the native modules may need building from source' };
  if (compareVersions(ctx.glibc, NODE_OFFICIAL_GLIBC) < 0)
    return { ...base, verdict: 'WARN', detail: `${ctx.glibc}: older than ${NODE_OFFICIAL_GLIBC} (official Node 20)`, fix: 'Node must come from unofficial-builds.nodejs.org (linux-arm64-glibc-217) or the container route (docs/jetson.md)' };
  return { ...base, verdict: 'OK', detail: ctx.glibc };
}

export function checkNode(ctx: DoctorContext): CheckResult {
  const base = { id: 'node', title: 'Node.js' };
  if (compareVersions(ctx.node, '20.0.0') < 0) return { ...base, verdict: 'FAIL', detail: `${ctx.node}: pafcast needs Node 20 or newer`, fix: 'install Node 20 (docs/jetson.md lists the build for each JetPack)' };
  return { ...base, verdict: 'OK', detail: ctx.node };
}

export async function checkOnnxRuntime(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'onnxruntime', title: 'onnxruntime providers' };
  try {
    const providers = await ctx.ortProviders();
    const configured = ctx.config.inference.onnxruntime.providers;
    const missing = configured.filter((p) => !providers.includes(p));
    if (!providers.includes('cpu')) return { ...base, verdict: 'FAIL', detail: `onnxruntime-node has no CPU provider (${providers.join(', ')})`, fix: 'reinstall: npm ci' };
    if (missing.length)
      return { ...base, verdict: 'WARN', detail: `available: ${providers.join(', ')}; configured but missing: ${missing.join(', ')}`, fix: 'onnxruntime-node on linux-arm64 is CPU-only; set inference.onnxruntime.providers to ["cpu"] (TensorRT runs through pafcast\'s addon instead)' };
    return { ...base, verdict: 'OK', detail: providers.join(', ') };
  } catch (e) {
    return { ...base, verdict: 'FAIL', detail: `onnxruntime-node does not load: ${(e as Error).message.split('\n')[0]}`, fix: 'reinstall dependencies: npm ci (needs network once, on the board itself)' };
  }
}

/** sharp decodes and resizes images for the runtime; its prebuilt libvips needs glibc 2.28 (measured on linux-x64 0.35). */
export async function checkSharp(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'sharp', title: 'sharp (image decode/resize)' };
  try {
    await ctx.importModule('sharp');
    return { ...base, verdict: 'OK', detail: 'loads' };
  } catch (e) {
    const oldGlibc = ctx.glibc !== null && compareVersions(ctx.glibc, NODE_OFFICIAL_GLIBC) < 0;
    return {
      ...base, verdict: 'FAIL', detail: `does not load: ${(e as Error).message.split('\n')[0]}`,
      fix: oldGlibc ? `its prebuilt libvips needs glibc ${NODE_OFFICIAL_GLIBC}: build sharp against a system libvips (docs/jetson.md, JetPack 4)` : 'reinstall dependencies: npm ci',
    };
  }
}
