#!/usr/bin/env bash
# Builds the previous live view (commit a0f3af0: @roamhq/wrtc, one VP8 encoder per viewer inside the agent) in a
# throwaway checkout, with a child that speaks the isolated bench's `ready`/`sample` protocol, and prints the
# child's path. Then: PAFCAST_BENCH_PREVIEW_PREVIOUS=<that path> PAFCAST_BENCH=preview npm run bench
# measures both live views alternately in one run, on the same machine state (needs the npm registry once,
# and a glibc ≥ 2.34 for wrtc's binary).
#   usage: bench/previous-live-view.sh [DIR]   (default: a new directory under /tmp)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$(mktemp -d /tmp/pafcast-previous.XXXXXX)}"
commit=a0f3af0
if [ ! -d "$dir/.git" ]; then
  git clone -q "$repo" "$dir"
  git -C "$dir" checkout -q "$commit"
fi
cat > "$dir/bench/alone-previous.ts" <<'TS'
// The previous live view, fed as the current bench's isolated child is: 60 street.avi frames at the capture's
// 654×368, offered every 1/15 s with six people's poses; `sample` on stdin prints CPU so far and frames offered.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { HttpServer } from '../src/agent/http/server.js';
import { previewConfig } from '../src/agent/preview/config-schema.js';
import { PreviewService } from '../src/agent/preview/service.js';
import { layoutOf, loadManifest } from '../src/runtime/manifest.js';
import { packageRoot } from '../src/runtime/package-root.js';

const port = Number(process.argv[3]);
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const media = join(process.env.PAFCAST_SHARED ?? resolve(packageRoot, '..', 'shared'), 'media', 'street.avi');
const w = 654, h = 368;
const clip = await new Promise<Uint8Array[]>((ok, fail) => {
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', media, '-frames:v', '60', '-vf', `scale=${w}:${h}`,
    '-f', 'rawvideo', '-pix_fmt', 'bgr24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  ff.stdout.on('data', (c: Buffer) => chunks.push(c));
  ff.on('exit', (code) => {
    const all = Buffer.concat(chunks);
    const n = Math.floor(all.length / (w * h * 3));
    if (code !== 0 || n === 0) return fail(new Error(`ffmpeg could not decode ${media}`));
    ok(Array.from({ length: n }, (_, i) => new Uint8Array(all.subarray(i * w * h * 3, (i + 1) * w * h * 3))));
  });
});
const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
const people = Array.from({ length: 6 }, (_, p) => {
  const kp = new Float32Array(layout.numParts * 3);
  const cx = 60 + p * 100, top = 80;
  for (let k = 0; k < layout.numParts; k++) {
    kp[k * 3] = cx + ((k % 3) - 1) * 12;
    kp[k * 3 + 1] = top + (k / layout.numParts) * 220;
    kp[k * 3 + 2] = 0.9;
  }
  return { id: p + 1, keypoints: kp };
});
const quiet = { info() {}, warn() {}, error() {} };
const http = new HttpServer({ host: '127.0.0.1', port, token: undefined } as never, quiet as never);
const cfg = previewConfig({ enabled: true });
const preview = new PreviewService(cfg, http, layout, quiet as never);
preview.start();
await http.start();
let offered = 0;
const timer = setInterval(() => {
  preview.offer({ data: clip[offered % clip.length]!, width: w, height: h, order: 'bgr' } as never, people as never,
    { fps: 15, netWidth: 456, netHeight: 256 } as never);
  offered++;
}, 1000 / 15);
emit({ event: 'ready' });
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'sample') continue;
  const u = process.cpuUsage();
  emit({ event: 'sample', cpuMs: (u.user + u.system) / 1000, offered, encoderPid: 0 });
}
clearInterval(timer);
await preview.stop();
await http.stop();
process.exit(0);
TS
cd "$dir"
[ -d node_modules/@roamhq/wrtc ] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2
npx tsc -p tsconfig.json >&2
echo "$dir/dist/bench/alone-previous.js"
