// WHEP endpoint and PreviewService against real @roamhq/wrtc peers (in this process, and one in a child
// process that is SIGKILLed to prove that vanished viewers are reaped).

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer } from '../../../src/agent/http/server.js';
import { previewConfig, type PreviewConfig } from '../../../src/agent/preview/config-schema.js';
import { PreviewService } from '../../../src/agent/preview/service.js';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';
import type { RawFrame } from '../../../src/runtime/types.js';
import { WhepClient } from '../../../src/agent/preview/whep-client.js';

const quiet = { info() {}, warn() {}, error() {} };
const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
const support = fileURLToPath(new URL('./support/', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agent(over: Partial<PreviewConfig> = {}, token?: string) {
  const http = new HttpServer({ host: '127.0.0.1', port: 0, token }, quiet);
  const preview = new PreviewService(previewConfig({ enabled: true, ...over }), http, layout, quiet);
  preview.start();
  const { port } = await http.start();
  cleanups.push(() => http.stop(), () => preview.stop());
  const base = `http://127.0.0.1:${port}`;
  return { http, preview, base, whep: `${base}/whep/live` };
}

async function viewer(endpoint: string, token?: string): Promise<WhepClient> {
  const v = await WhepClient.connect(endpoint, { token });
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

/** Video bytes the viewer has received so far (inbound-rtp through getStats). */
async function bytesReceived(v: WhepClient): Promise<number> {
  let n = 0;
  (await v.pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') n = Number(s.bytesReceived ?? 0);
  });
  return n;
}

describe('send bitrate cap (preview.max_bitrate_kbps)', () => {
  it('holds a viewer to the cap, where an uncapped viewer of the same frames gets far more', async () => {
    // Noise frames: incompressible, so the encoder wants more than either cap.
    const frames = Array.from({ length: 4 }, (_, k) => {
      const data = new Uint8Array(640 * 360 * 3);
      let x = 12345 + k;
      for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      return { data, width: 640, height: 360, order: 'rgb' as const };
    });
    const capped = await agent({ max_bitrate_kbps: 250 });
    const open = await agent({ max_bitrate_kbps: 0 });
    const [vc, vo] = [await viewer(capped.whep), await viewer(open.whep)];
    await until('both viewers connected', () => vc.connectionState === 'connected' && vo.connectionState === 'connected', 20_000);
    let i = 0;
    const feed = setInterval(() => {
      const f = frames[i++ % frames.length]!;
      capped.preview.offer(f, [], meta);
      open.preview.offer(f, [], meta);
    }, 1000 / 15);
    cleanups.push(() => clearInterval(feed));
    await new Promise((r) => setTimeout(r, 5000)); // past libwebrtc's start-up ramp
    const [c0, o0] = [await bytesReceived(vc), await bytesReceived(vo)];
    await new Promise((r) => setTimeout(r, 4000));
    const kbps = (b: number, b0: number) => ((b - b0) * 8) / 4 / 1000;
    const cappedKbps = kbps(await bytesReceived(vc), c0);
    const openKbps = kbps(await bytesReceived(vo), o0);
    expect(cappedKbps).toBeGreaterThan(50); // frames do arrive
    expect(cappedKbps).toBeLessThan(250 * 1.25); // RTP/SRTP headers ride on top of the media bitrate
    expect(openKbps).toBeGreaterThan(cappedKbps * 1.5);
  }, 60_000);
});

describe('WHEP endpoint', () => {
  it('answers a valid offer with 201, an SDP answer that sends video, and a Location to DELETE', async () => {
    const { preview, whep } = await agent();
    const v = await viewer(whep);
    expect(v.status).toBe(201);
    expect(v.location).toMatch(/\/whep\/live\/[0-9a-f-]{36}$/);
    expect(v.body).toMatch(/^m=video [1-9]/m);
    expect(v.body).toMatch(/a=sendonly/);
    expect(preview.viewers).toBe(1);
    const del = await fetch(v.location!, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(preview.viewers).toBe(0);
    expect((await fetch(v.location!, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses garbage SDP with 400 and a reason, a wrong content type with 415, an unknown stream with 404', async () => {
    const { preview, whep, base } = await agent();
    const garbage = await fetch(whep, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'hello, agent' });
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/v=0/);
    const noIce = await fetch(whep, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n' });
    expect(noIce.status).toBe(400);
    expect(await noIce.text()).toMatch(/ice-ufrag/);
    const json = await fetch(whep, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect((await viewer(`${base}/whep/other`)).status).toBe(404);
    expect(preview.viewers).toBe(0);
  });

  it('needs the token for the page and for WHEP, but not for /healthz or viewer.js', async () => {
    const { whep, base } = await agent({}, 'tok');
    expect((await viewer(whep)).status).toBe(401);
    expect((await viewer(whep, 'wrong')).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(401);
    const page = await fetch(`${base}/?token=tok`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('content="whep/live"');
    expect((await fetch(`${base}/viewer.js`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await viewer(whep, 'tok')).status).toBe(201);
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

  it('draws nothing without a connected viewer, streams preview-sized frames to one, and stops after DELETE', async () => {
    const { whep, preview } = await agent({ width: 320, height: 180, fps: 30 });
    let t = 0;
    const feed = () => preview.offer(frame, [], meta, (t += 40));
    for (let i = 0; i < 50; i++) feed();
    expect(preview.framesDrawn).toBe(0);
    const v = await viewer(whep);
    await until('the viewer to connect', () => v.connectionState === 'connected', 15_000);
    const timer = setInterval(feed, 40);
    cleanups.push(() => clearInterval(timer));
    await until('decoded frames at the viewer', () => v.frames >= 10, 15_000);
    expect(v.lastSize).toEqual({ width: 320, height: 180 });
    expect(preview.framesDrawn).toBeGreaterThanOrEqual(10);
    await fetch(v.location!, { method: 'DELETE' });
    const after = preview.framesDrawn;
    await new Promise((r) => setTimeout(r, 300));
    expect(preview.framesDrawn).toBe(after);
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
    await until('the agent to see the viewer connected', () => preview.viewers === 1, 5_000);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await until('the vanished viewer to be reaped', () => preview.viewers === 0, 30_000);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
  }, 70_000);
});
