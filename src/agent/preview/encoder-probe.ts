// What this machine offers the live view's encoder: gst-launch-1.0, the GStreamer elements of the built-in
// pipelines (asked one by one with `gst-inspect-1.0 <element>`, as `pafcast doctor` does), and the NVENC node.
// The runner and file test are passed in so that doctor runs the same probe on a recorded board.

import { access } from 'node:fs/promises';
import { runCommand } from '../capture/exec.js';
import { ENCODER_ELEMENTS, NVENC_NODES, type EncoderTools } from './encoder-plan.js';

/** Exit code of a command; null when it is not installed. */
export type ProbeRunner = (file: string, args: string[]) => Promise<{ code: number } | null>;

/** Every element any built-in pipeline uses, once each. */
export const PROBED_ELEMENTS: readonly string[] = [...new Set(Object.values(ENCODER_ELEMENTS).flat())];

export async function probeEncoderTools(run: ProbeRunner, exists: (path: string) => Promise<boolean>): Promise<EncoderTools> {
  const launch = await run('gst-launch-1.0', ['--version']);
  const gstLaunch = launch !== null && launch.code === 0;
  const elements = new Set<string>();
  if (gstLaunch) {
    // The first call rebuilds a cold GStreamer registry for the others; then all at once (~13 × 100 ms one by one).
    const [first, ...rest] = PROBED_ELEMENTS;
    const found = [await run('gst-inspect-1.0', [first!]), ...(await Promise.all(rest.map((el) => run('gst-inspect-1.0', [el]))))];
    PROBED_ELEMENTS.forEach((el, i) => {
      if (found[i]?.code === 0) elements.add(el);
    });
  }
  let nvencDevice: string | null = null;
  for (const node of NVENC_NODES) {
    if (await exists(node)) {
      nvencDevice = node;
      break;
    }
  }
  return { gstLaunch, elements, nvencDevice };
}

const PROBE_TIMEOUT_MS = 15_000;

let host: Promise<EncoderTools> | undefined;

/** The probe on this machine, with real commands; once per process (installed plugins do not change while it runs). */
export function probeHost(): Promise<EncoderTools> {
  host ??= probeEncoderTools(
    async (file, args) => {
      const r = await runCommand([file, ...args], PROBE_TIMEOUT_MS);
      return r.failure?.includes('not installed') ? null : { code: r.code ?? 1 };
    },
    (path) => access(path).then(() => true, () => false),
  );
  return host;
}
