import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { HttpServer } from '../../../../src/agent/http/server.js';
import { previewConfig } from '../../../../src/agent/preview/config-schema.js';
import { PreviewService } from '../../../../src/agent/preview/service.js';
import { layoutOf, loadManifest } from '../../../../src/runtime/manifest.js';
const quiet = { info() {}, warn() {}, error() {} };
const W = 1280, H = 720;
const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', '../shared/media/street.avi', '-frames:v', '60', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 30 });
const frames = Array.from({ length: 60 }, (_, i) => new Uint8Array(raw.buffer, raw.byteOffset + i * W * H * 3, W * H * 3));
const http = new HttpServer({ host: '127.0.0.1', port: 0 }, quiet);
const preview = new PreviewService(previewConfig({ enabled: true }), http, layoutOf(loadManifest('lightweight-openpose-coco18')), quiet);
preview.start();
const { port } = await http.start();
const child = spawn(process.execPath, ['--import', './test/agent/preview/support/ts-register.mjs', 'test/agent/preview/support/whep-viewer.ts', `http://127.0.0.1:${port}/whep/live`], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((ok) => createInterface({ input: child.stdout! }).on('line', (l) => { if (l.includes('connected')) ok(); }));
async function run(n: number) {
  const c0 = process.cpuUsage(); const d0 = preview.framesDrawn;
  for (let i = 0; i < n; i++) {
    preview.offer({ data: frames[i % 60], width: W, height: H, order: 'rgb' }, [], { fps: 7, netWidth: 456, netHeight: 256 });
    await new Promise((r) => setTimeout(r, 1000 / 7));
  }
  const c = process.cpuUsage(c0);
  return { drawn: preview.framesDrawn - d0, cpuMsPerFrame: (c.user + c.system) / 1000 / n };
}
await run(20);
console.log(process.env.LABEL, JSON.stringify(await run(100)));
child.kill('SIGKILL');
await preview.stop(); await http.stop(); process.exit(0);
