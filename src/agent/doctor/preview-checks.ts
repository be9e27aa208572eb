// The live view: which encoder the board will run and why (the agent's own choice, made from the same probe:
// the NVENC device node and `gst-inspect-1.0` of each element of the built-in pipelines), and which WebRTC
// transport carries it (werift, pure TypeScript: it loads wherever Node does, whatever the glibc).

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { chooseEncoder, EncoderUnavailableError, unusable } from '../preview/encoder-plan.js';
import { probeEncoderTools } from '../preview/encoder-probe.js';
import { isJetson } from './board-checks.js';
import type { BoardFacts, CheckResult, DoctorContext } from './types.js';

const SOFTWARE_PACKAGES = 'sudo apt install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly';

export async function checkPreviewEncoder(ctx: DoctorContext, b: BoardFacts): Promise<CheckResult> {
  const base = { id: 'preview.encoder', title: 'live view encoder' };
  const enabled = ctx.config.preview.enabled;
  const tools = await probeEncoderTools(
    async (file, args) => {
      const r = await ctx.run(file, args);
      return r ? { code: r.code } : null;
    },
    (path) => access(join(ctx.root, path)).then(() => true, () => false),
  );
  const off = enabled ? '' : ' (preview.enabled is false)';
  try {
    const c = chooseEncoder(ctx.config.preview.encoder, tools);
    if (c.encoder === 'custom') return { ...base, verdict: 'OK', detail: `preview.encoder.pipeline (${c.codec})${off}` };
    const kind = c.hardware ? 'hardware H.264' : c.codec === 'H264' ? 'software H.264, on the CPU' : 'software VP8, on the CPU (no H.264 encoder installed)';
    const detail = `${c.encoder} (${kind}): ${c.why}${off}`;
    // A Jetson with the encoder node but without NVIDIA's elements is a fixable loss of the hardware encoder.
    const nvWhy = unusable(tools, 'nvv4l2h264enc');
    if (!c.hardware && isJetson(b) && tools.nvencDevice && nvWhy)
      return { ...base, verdict: 'WARN', detail, fix: 'sudo apt install nvidia-l4t-gstreamer (then rm ~/.cache/gstreamer-1.0/registry.*.bin): the board has NVENC but GStreamer does not see nvv4l2h264enc' };
    if (c.codec === 'VP8')
      return { ...base, verdict: 'WARN', detail, fix: `${SOFTWARE_PACKAGES} (x264enc: H.264, which phones and Safari decode in hardware)` };
    return { ...base, verdict: 'OK', detail };
  } catch (e) {
    if (!(e instanceof EncoderUnavailableError)) throw e;
    return { ...base, verdict: enabled ? 'FAIL' : 'WARN', detail: `${e.message}${off}`, fix: isJetson(b) ? `sudo apt install nvidia-l4t-gstreamer; or ${SOFTWARE_PACKAGES}` : SOFTWARE_PACKAGES };
  }
}

export async function checkPreviewTransport(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'preview.transport', title: 'live view transport (WebRTC)' };
  const off = ctx.config.preview.enabled ? '' : ' (preview.enabled is false)';
  try {
    await ctx.importModule('werift');
    return { ...base, verdict: 'OK', detail: `werift: WebRTC in TypeScript, no native code, so any glibc Node ${ctx.node} runs on; it forwards the encoder's stream to each viewer${off}` };
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    return { ...base, verdict: ctx.config.preview.enabled ? 'FAIL' : 'WARN', detail: `werift does not load: ${why}${off}`, fix: 'reinstall the package (npm ci, or scripts/install.sh)' };
  }
}
