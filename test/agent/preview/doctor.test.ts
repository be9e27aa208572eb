// `pafcast doctor`'s live view lines on recorded board trees, with a gst-inspect stand-in that answers like a
// Jetson (recorded NVIDIA element output; GStreamer's own elements from this machine).

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/agent/config/load.js';
import { checkPreviewEncoder, checkPreviewTransport } from '../../../src/agent/doctor/preview-checks.js';
import { readBoardFacts } from '../../../src/agent/doctor/board-checks.js';
import type { DoctorContext } from '../../../src/agent/doctor/types.js';
import { jetsonStandIn } from './support/gst-inspect.js';

const boards = fileURLToPath(new URL('../../fixtures/boards/', import.meta.url));

function ctx(board: string, run: DoctorContext['run'], flags: Record<string, unknown> = {}, importModule: DoctorContext['importModule'] = async () => ({})): DoctorContext {
  const { config } = loadConfig({ flags });
  return {
    root: join(boards, board), config, run, glibc: '2.31', node: 'v20.20.2', importModule,
    addonLoader: () => { throw new Error('not used'); }, ortProviders: async () => ['cpu'], mqttProbe: async () => ({ ok: true, ms: 1 }),
    engineDirs: [], mqttTimeoutMs: 100,
  };
}

describe('doctor: live view encoder and transport', () => {
  it('Xavier (JetPack 5): NVENC through nvv4l2h264enc, and why', async () => {
    const c = ctx('xavier-jp51', jetsonStandIn());
    const r = await checkPreviewEncoder(c, await readBoardFacts(c.root));
    expect(r).toMatchObject({ id: 'preview.encoder', verdict: 'OK' });
    expect(r.detail).toBe('nvv4l2h264enc (hardware H.264): NVENC (/dev/nvhost-msenc) with nvv4l2h264enc and nvvidconv (preview.enabled is false)');
  });

  it('a Jetson with the NVENC node but without NVIDIA\'s GStreamer elements: software, with the fix', async () => {
    const c = ctx('xavier-jp51', jetsonStandIn({ missing: ['nvv4l2h264enc'], stock: ['fdsrc', 'rawvideoparse', 'rtpsession', 'rtpstreampay', 'rtpstreamdepay', 'fdsink', 'fakesink', 'rtph264pay', 'x264enc'] }));
    const r = await checkPreviewEncoder(c, await readBoardFacts(c.root));
    expect(r.verdict).toBe('WARN');
    expect(r.detail).toMatch(/^x264enc \(software H.264, on the CPU\): software encoder \(not nvv4l2h264enc: gst-inspect-1.0 does not find nvv4l2h264enc/);
    expect(r.fix).toMatch(/nvidia-l4t-gstreamer/);
  });

  it('Orin Nano: no NVENC, no software encoder installed, live view enabled: FAIL with the packages to install', async () => {
    const c = ctx('orin-nano-jp6', jetsonStandIn({ stock: ['fdsrc', 'rawvideoparse', 'rtpsession', 'rtpstreampay', 'rtpstreamdepay', 'fdsink', 'fakesink', 'rtph264pay'] }), { 'preview.enabled': true });
    const r = await checkPreviewEncoder(c, await readBoardFacts(c.root));
    expect(r.verdict).toBe('FAIL');
    expect(r.detail).toMatch(/no encoder for the live view: not nvv4l2h264enc: no NVENC device node.*not x264enc: gst-inspect-1.0 does not find x264enc \(gstreamer1.0-plugins-ugly\)/);
    expect(r.fix).toMatch(/gstreamer1.0-plugins-ugly/);
  });

  it('VP8 only: works, but says that H.264 is one package away', async () => {
    const c = ctx('orin-nano-jp6', jetsonStandIn());
    const r = await checkPreviewEncoder(c, await readBoardFacts(c.root));
    expect(r).toMatchObject({ verdict: 'WARN' });
    expect(r.detail).toMatch(/^vp8enc \(software VP8/);
  });

  it('the transport: werift loads (no native code); a broken install fails only when the live view is on', async () => {
    const ok = await checkPreviewTransport(ctx('tx2-jp46', jetsonStandIn()));
    expect(ok).toMatchObject({ id: 'preview.transport', verdict: 'OK' });
    expect(ok.detail).toMatch(/^werift: WebRTC in TypeScript, no native code/);
    const broken = async () => { throw new Error("Cannot find package 'werift'"); };
    expect((await checkPreviewTransport(ctx('tx2-jp46', jetsonStandIn(), {}, broken))).verdict).toBe('WARN');
    expect(await checkPreviewTransport(ctx('tx2-jp46', jetsonStandIn(), { 'preview.enabled': true }, broken))).toMatchObject({ verdict: 'FAIL', fix: expect.stringMatching(/npm ci/) });
  });
});
