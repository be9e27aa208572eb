// Test harness standing in for the agent on machines too busy for inference beside a browser: decodes a video with a child ffmpeg
// (rgb24), plays it in a loop at --fps, runs PoseRuntime on the newest frame whenever it is free, and offers
// every frame with the latest poses to a PreviewService on an HttpServer.
// Run: node --import ./ts-register.mjs street-agent.ts --media <file> [--host H] [--port P] [--token T]
// Prints JSON lines: {"event":"listening","port"}, {"event":"people","people":[{id,box:[x0,y0,x1,y1]}],"width","height"}.

import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { HttpServer } from '../../../../src/agent/http/server.js';
import { previewConfig } from '../../../../src/agent/preview/config-schema.js';
import { registerPage } from '../../../../src/agent/preview/page.js';
import { PreviewService } from '../../../../src/agent/preview/service.js';
import { registerWhep } from '../../../../src/agent/preview/whep.js';
import { PoseRuntime } from '../../../../src/runtime/pose-runtime.js';
import { keypointBox } from '../../../../src/runtime/tracking/similarity.js';
import type { RawFrame } from '../../../../src/runtime/types.js';

const { values: opt } = parseArgs({
  options: {
    media: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    token: { type: 'string' },
    width: { type: 'string', default: '960' },
    height: { type: 'string', default: '540' },
    fps: { type: 'string', default: '15' },
    'net-height': { type: 'string', default: '256' },
    // Inference is rate-limited so the CPU-only test machine keeps cycles for encoding and the browser.
    'infer-fps': { type: 'string', default: '4' },
  },
});
if (!opt.media) throw new Error('--media <video file> is required');
const width = Number(opt.width), height = Number(opt.height);

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const log = {
  info: () => {},
  warn: (o: unknown, m?: string) => process.stderr.write(`warn ${m ?? ''} ${JSON.stringify(o)}\n`),
  error: (o: unknown, m?: string) => process.stderr.write(`error ${m ?? ''} ${JSON.stringify(o)}\n`),
};

const runtime = await PoseRuntime.create({ heights: [Number(opt['net-height'])], sourceSize: { width, height }, inference: { onnxruntime: { providers: ['cpu'], threads: 1 } } });
const http = new HttpServer({ host: opt.host!, port: Number(opt.port), token: opt.token }, log);
const preview = new PreviewService(previewConfig({ enabled: true }), runtime.layout, log);
await preview.start();
registerPage(http, 'whep/live');
registerWhep(http, 'live', () => (preview.sessions ? { sessions: preview.sessions, codec: preview.codec } : undefined));

let latest: RawFrame | undefined;
let people: Array<{ id: number; keypoints: Float32Array }> = [];
let net = { width: 0, height: 0 };
let inferenceFps = 0;
let busy = false;
let lastInferAt = -Infinity;

async function inferLatest(): Promise<void> {
  const t0 = performance.now();
  if (busy || !latest || t0 - lastInferAt < 1000 / Number(opt['infer-fps'])) return;
  busy = true;
  lastInferAt = t0;
  const frame = latest;
  try {
    const r = await runtime.estimate(frame, Number(opt['net-height']));
    people = r.people.map((p, i) => ({ id: i + 1, keypoints: p.keypoints }));
    net = r.net;
    inferenceFps = 1000 / (performance.now() - t0);
    emit({ event: 'people', width: frame.width, height: frame.height, people: people.map((p) => ({ id: p.id, box: box(p.keypoints) })) });
  } finally {
    busy = false;
  }
}

function box(kp: Float32Array): number[] {
  const out = new Float32Array(4);
  keypointBox(kp, out);
  return [...out].map(Math.round);
}

// The clip is decoded once into memory and then played in a loop at --fps: a shared 2-core test machine
// cannot also decode 50 fps 720p H.264 in real time next to inference, encoding and Chromium.
const frameBytes = width * height * 3;
const clip = await decodeClip();
let decoded = 0;
const player = setInterval(() => {
  const frame: RawFrame = { data: clip[decoded % clip.length], width, height, order: 'rgb' };
  decoded++;
  latest = frame;
  preview.offer(frame, people, { fps: inferenceFps, netWidth: net.width, netHeight: net.height });
  void inferLatest();
}, 1000 / Number(opt.fps));
const { port } = await http.start();
emit({ event: 'listening', port, frames: clip.length });

function decodeClip(): Promise<Uint8Array[]> {
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', opt.media!, '-an',
    '-vf', `fps=${opt.fps},scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const frames: Uint8Array[] = [];
  let filling = new Uint8Array(frameBytes);
  let filled = 0;
  ffmpeg.stdout.on('data', (chunk: Buffer) => {
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(frameBytes - filled, chunk.length - off);
      filling.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === frameBytes) {
        frames.push(filling);
        filling = new Uint8Array(frameBytes);
        filled = 0;
      }
    }
  });
  return new Promise((ok, fail) => ffmpeg.on('exit', (code) =>
    code === 0 && frames.length > 0 ? ok(frames) : fail(new Error(`ffmpeg could not decode ${opt.media} (exit ${code})`))));
}

// Once a second: what the preview did, so a slow run can be told apart from a broken one.
setInterval(() => emit({ event: 'stats', decoded, drawn: preview.framesDrawn, viewers: preview.viewers, inferenceFps: Math.round(inferenceFps * 10) / 10 }), 1000).unref();

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(player);
  await preview.stop();
  await http.stop();
  await runtime.dispose();
  // The encoder child and the peers are closed by now; leave even if a library timer is still armed.
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
