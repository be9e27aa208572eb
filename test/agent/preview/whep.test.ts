// WHEP endpoint and PreviewService with the real stack: werift peers, the real encoder child (x264enc here),
// headless viewers that decode what they get (support/viewer.ts), and one viewer in a child process that is
// SIGKILLed to prove that vanished viewers are reaped.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer } from '../../../src/agent/http/server.js';
import { previewConfig, type PreviewConfig } from '../../../src/agent/preview/config-schema.js';
import { registerPage } from '../../../src/agent/preview/page.js';
import { PreviewService } from '../../../src/agent/preview/service.js';
import { registerWhep } from '../../../src/agent/preview/whep.js';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';
import type { RawFrame } from '../../../src/runtime/types.js';
import { localInspect } from './support/gst-inspect.js';
import { connectViewer, type HeadlessViewer } from './support/viewer.js';

const quiet = { info() {}, warn() {}, error() {} };
const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
const support = fileURLToPath(new URL('./support/', import.meta.url));
const skipReason = localInspect('x264enc') === null ? 'no x264enc (apt gstreamer1.0-plugins-ugly)' : localInspect('avdec_h264') === null ? 'no avdec_h264 (apt gstreamer1.0-libav)' : undefined;
if (skipReason) console.warn(`[preview whep test] skipped: ${skipReason}`);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agent(over: Partial<PreviewConfig> = {}, token?: string) {
  const http = new HttpServer({ host: '127.0.0.1', port: 0, token }, quiet);
  const cfg = previewConfig({ enabled: true, ...over });
  const preview = new PreviewService(cfg, layout, quiet);
  await preview.start();
  const removeWhep = registerWhep(http, cfg.stream, () => (preview.sessions ? { sessions: preview.sessions, codec: preview.codec } : undefined));
  registerPage(http, `whep/${cfg.stream}`);
  const { port } = await http.start();
  cleanups.push(() => http.stop(), () => preview.stop());
  const base = `http://127.0.0.1:${port}`;
  // A pipeline stand-in: frames at 15 fps, as long as the test runs.
  let t = 0;
  const timer = setInterval(() => preview.offer(frame, [], meta, (t += 1000 / 15)), 1000 / 15);
  cleanups.push(() => clearInterval(timer));
  return { http, preview, base, whep: `${base}/whep/${cfg.stream}`, removeWhep };
}

async function viewer(endpoint: string, opts: { token?: string; decode?: boolean } = {}): Promise<HeadlessViewer> {
  const v = await connectViewer(endpoint, opts);
  cleanups.push(() => v.close(false));
  return v;
}

const until = async (what: string, cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const frame: RawFrame = { data: new Uint8Array(1280 * 720 * 3).fill(80), width: 1280, height: 720, order: 'rgb' };
const meta = { fps: 10, netWidth: 456, netHeight: 256 };
const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return existsSync(`/proc/${pid}`);
  } catch {
    return false;
  }
};

describe.skipIf(Boolean(skipReason))('WHEP endpoint', () => {
  it('answers a valid offer with 201, an H.264 answer that sends video, and a Location to DELETE', async () => {
    const { preview, whep } = await agent();
    const v = await viewer(whep);
    expect(v.status).toBe(201);
    expect(v.location).toMatch(/\/whep\/live\/[0-9a-f-]{36}$/);
    expect(v.body).toMatch(/^m=video [1-9]\d* UDP\/TLS\/RTP\/SAVPF \d+( \d+)?\r?$/m);
    expect(v.body).toMatch(/a=sendonly/);
    // One codec in the answer: the encoder's H.264 constrained baseline, packetization mode 1.
    expect(v.body.match(/a=rtpmap:\d+ H264\/90000/gi)).toHaveLength(1);
    expect(v.body).not.toMatch(/a=rtpmap:\d+ VP8/);
    expect(v.body).toMatch(/packetization-mode=1/);
    expect(preview.viewers).toBe(1);
    const del = await fetch(v.location!, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(preview.viewers).toBe(0);
    expect((await fetch(v.location!, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses garbage SDP with 400 and a reason, a wrong content type with 415, an unknown stream with 404, a VP8-only offer with 400', async () => {
    const { preview, whep, base } = await agent();
    const post = (body: string, type = 'application/sdp') => fetch(whep, { method: 'POST', headers: { 'Content-Type': type }, body });
    const garbage = await post('hello, agent');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/v=0/);
    const noIce = await post('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n');
    expect(noIce.status).toBe(400);
    expect(await noIce.text()).toMatch(/ice-ufrag/);
    const vp8Only = await post(['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=recvonly',
      'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 AA:BB', 'a=setup:actpass', 'a=rtpmap:96 VP8/90000', ''].join('\r\n'));
    expect(vp8Only.status).toBe(400);
    expect(await vp8Only.text()).toMatch(/no video codec in common: the offer has VP8, the agent sends H264 with packetization-mode=1/);
    expect((await post('{}', 'application/json')).status).toBe(415);
    expect((await viewer(`${base}/whep/other`)).status).toBe(404);
    expect(preview.viewers).toBe(0);
    expect(preview.encoderPid).toBeUndefined();
  });

  it('needs the token for the page and for WHEP, but not for /healthz or viewer.js', async () => {
    const { whep, base } = await agent({}, 'tok');
    expect((await viewer(whep)).status).toBe(401);
    expect((await viewer(whep, { token: 'wrong' })).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(401);
    const page = await fetch(`${base}/?token=tok`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('content="whep/live"');
    expect((await fetch(`${base}/viewer.js`)).status).toBe(200);
    expect((await viewer(whep, { token: 'tok' })).status).toBe(201);
  });

  it('answers 503 beyond max_viewers and admits again after a DELETE', async () => {
    const { whep, preview } = await agent({ max_viewers: 1 });
    const first = await viewer(whep);
    expect(first.status).toBe(201);
    const second = await viewer(whep);
    expect(second.status).toBe(503);
    expect(second.body).toMatch(/viewer limit/);
    expect(preview.viewers).toBe(1);
    await fetch(first.location!, { method: 'DELETE' });
    expect((await viewer(whep)).status).toBe(201);
  });

  it('answers PATCH (trickle ICE) with 405 and Allow', async () => {
    const { whep } = await agent();
    const v = await viewer(whep);
    const patch = await fetch(v.location!, { method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' }, body: 'a=end-of-candidates' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toContain('DELETE');
  });

  it('runs no encoder and draws nothing without a viewer, streams decodable preview-sized H.264 to one, and stops both after DELETE', async () => {
    const { whep, preview } = await agent({ width: 320, height: 180, fps: 15 });
    await new Promise((r) => setTimeout(r, 500));
    expect(preview.framesDrawn).toBe(0);
    expect(preview.encoderPid).toBeUndefined();
    const v = await viewer(whep, { decode: true });
    const pid = preview.encoderPid;
    expect(alive(pid)).toBe(true);
    await v.waitForFrames(10, 20_000);
    expect(v.codec).toBe('H264');
    expect(v.decodedSize).toEqual({ width: 320, height: 180 });
    expect(preview.framesDrawn).toBeGreaterThanOrEqual(10);
    await fetch(v.location!, { method: 'DELETE' });
    await until('the encoder child to exit', () => !alive(pid), 5000);
    expect(preview.encoderPid).toBeUndefined();
    const after = preview.framesDrawn;
    await new Promise((r) => setTimeout(r, 400));
    expect(preview.framesDrawn).toBe(after);
  }, 40_000);

  it('shares one encoder between viewers, and a joining viewer gets a keyframe at once, not at the next GOP', async () => {
    const { whep, preview } = await agent({ width: 320, height: 180, encoder: { keyframe_interval_s: 10 } as PreviewConfig['encoder'] });
    const first = await viewer(whep, { decode: true });
    await first.waitForFrames(20, 20_000);
    const pid = preview.encoderPid;
    const joinedAt = Date.now();
    const second = await viewer(whep, { decode: true });
    await second.waitForFrames(1, 5000);
    const firstFrameMs = Date.now() - joinedAt;
    // With a 10 s GOP only a forced IDR explains a first frame this soon (ICE + DTLS included).
    expect(firstFrameMs).toBeLessThan(5000);
    expect(preview.encoderPid).toBe(pid);
    await second.waitForFrames(15, 10_000);
    expect(first.framesDecoded).toBeGreaterThan(35);
    expect(preview.encoderCounters.keyframes).toBeGreaterThanOrEqual(2);
    console.info('[preview whep test] second viewer first frame', firstFrameMs, 'ms after POST');
  }, 60_000);

  it('answers an offer that also asks for audio (some WHEP players do) with the video', async () => {
    const { whep } = await agent();
    // A real offer from a werift client, with an audio section added like a browser's.
    const { default: werift } = { default: await import('werift') };
    const pc = new werift.RTCPeerConnection({ iceServers: [], codecs: { audio: [werift.useOPUS()], video: [werift.useH264()] } });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(whep, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const answer = await res.text();
    await pc.close();
    expect(res.status, answer).toBe(201);
    expect(answer).toMatch(/^m=video [1-9]/m);
    expect(answer).toMatch(/a=rtpmap:\d+ H264\/90000/i);
    expect(answer).toMatch(/^m=audio 0 /m);
    await fetch(new URL(res.headers.get('location')!, whep), { method: 'DELETE' });
  });

  it('answers 503 once the preview is stopped, and leaves no encoder behind', async () => {
    const { whep, preview } = await agent();
    const v = await viewer(whep);
    expect(v.status).toBe(201);
    const pid = preview.encoderPid;
    await preview.stop();
    await until('the encoder child to exit', () => !alive(pid), 5000);
    expect((await viewer(whep)).status).toBe(503);
  });

  it('reaps a viewer that vanishes without DELETE (SIGKILLed process) within 30 s with default settings', async () => {
    const { whep, preview } = await agent();
    const child: ChildProcess = spawn(process.execPath,
      ['--import', `${support}ts-register.mjs`, `${support}whep-viewer.ts`, whep], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child viewer did not connect')), 20_000);
      lines.on('line', (l) => {
        if (JSON.parse(l).event === 'connected') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // The agent must see it connected too, or the reap would prove nothing.
    await until('the agent to see the viewer connected', () => preview.sessions?.connected === 1, 5_000);
    const pid = preview.encoderPid;
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await until('the vanished viewer to be reaped', () => preview.viewers === 0, 30_000);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    // The last viewer gone: the encoder goes too.
    await until('the encoder child to exit', () => !alive(pid), 5000);
  }, 70_000);
});
