// The live view's encoder child run for real: the built-in software pipelines (x264enc, and openh264enc and
// vp8enc where installed) fed drawn I420 frames, their RTP decoded again by a real decoder (GStreamer), keyframes
// on request, the bitrate setting, timestamps and sequence numbers, and restart after the child is killed.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EncoderProcess, type EncodedPacket } from '../../../src/agent/preview/encoder.js';
import { encoderCommand, type EncoderName } from '../../../src/agent/preview/encoder-plan.js';
import type { I420Frame } from '../../../src/agent/preview/i420.js';
import { rtpTimestamp, sequenceNumber, type VideoCodec } from '../../../src/agent/preview/rtp.js';
import { localInspect } from './support/gst-inspect.js';
import { RtpDecoder } from './support/rtp-decoder.js';

const W = 320, H = 180, FPS = 15;
const SSRC = 0x50414643;
const canRun = (name: string) => localInspect(name) !== null && localInspect(name === 'vp8enc' ? 'vp8dec' : 'avdec_h264') !== null;

interface Logged { level: string; obj: Record<string, unknown>; msg?: string }

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function encoder(name: EncoderName, opts: { bitrateKbps?: number; keyframeIntervalS?: number; w?: number; h?: number; env?: NodeJS.ProcessEnv } = {}) {
  const codec: VideoCodec = name === 'vp8enc' ? 'VP8' : 'H264';
  const width = opts.w ?? W, height = opts.h ?? H;
  const argv = encoderCommand({ encoder: name, codec, hardware: false, why: '' }, {
    width, height, fps: FPS, bitrateKbps: opts.bitrateKbps ?? 500, keyframeIntervalS: opts.keyframeIntervalS ?? 2, ssrc: SSRC, pt: 96, mtu: 1200,
  });
  const packets: EncodedPacket[] = [];
  const logs: Logged[] = [];
  const log = { info: (obj: unknown, msg?: string) => logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg }), warn: (obj: unknown, msg?: string) => logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }) };
  const decoder = new RtpDecoder(codec, 96);
  // Packets are copied as they arrive: the encoder rewrites later ones in place, never earlier ones, but a test keeps them.
  const enc = new EncoderProcess({ argv, codec, width, height, fps: FPS, ssrc: SSRC, describe: { encoder: name }, env: opts.env }, (p) => {
    packets.push({ ...p, packet: Buffer.from(p.packet) });
    decoder.push(p.packet);
  }, log);
  cleanups.push(() => enc.stop(), () => decoder.kill());
  return { enc, packets, logs, decoder, argv };
}

/** A moving test picture: a gradient with a bright bar that moves each frame (noise: incompressible). */
function paint(f: I420Frame, i: number, noise = false): void {
  const { width: w, height: h, data } = f;
  if (noise) {
    let x = 0x9e3779b9 ^ i;
    for (let k = 0; k < data.length; k++) data[k] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x + y + i * 4) & 0xff;
  const bar = (i * 8) % w;
  for (let y = 0; y < h; y++) for (let x = bar; x < Math.min(w, bar + 16); x++) data[y * w + x] = 235;
  data.fill(128, w * h);
}

/** Feeds `count` frames at FPS with their real capture times; returns those times. */
async function feed(enc: EncoderProcess, count: number, opts: { noise?: boolean; onFrame?: (i: number) => void } = {}): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const f = enc.acquire();
    if (f) {
      paint(f, i, opts.noise);
      const t = performance.now();
      enc.submit(f, t);
      times.push(t);
    }
    opts.onFrame?.(i);
    await new Promise((r) => setTimeout(r, 1000 / FPS));
  }
  return times;
}

const until = async (what: string, cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Whether frame `k` (counting frame starts) carries a keyframe start. */
function frameIsKey(packets: EncodedPacket[], k: number, from = 0): boolean {
  let frame = -1;
  for (const p of packets.slice(from)) {
    if (p.frameStart) frame++;
    if (frame > k) return false;
    if (frame === k && p.keyframe) return true;
  }
  return false;
}

/** Frames (runs of packets ending with the marker bit) and their RTP timestamps. */
function frameTimestamps(packets: EncodedPacket[]): number[] {
  return packets.filter((p) => p.frameStart).map((p) => rtpTimestamp(p.packet));
}

describe.skipIf(!canRun('x264enc'))('x264enc pipeline (gstreamer1.0-plugins-ugly), for real', () => {
  it('turns drawn frames into RTP a decoder decodes at full size, starting with a keyframe', async () => {
    const { enc, packets, decoder, logs } = encoder('x264enc');
    enc.start();
    expect(logs.find((l) => l.msg === 'preview encoder')?.obj.pipeline).toMatch(/^gst-launch-1.0 -q fdsrc fd=0 blocksize=86400 ! rawvideoparse width=320 height=180/);
    const times = await feed(enc, 30);
    await until('all 30 frames out of the encoder', () => packets.filter((p) => p.frameStart).length >= 30, 10_000);
    expect(frameIsKey(packets, 0)).toBe(true);
    expect(await decoder.finish(), decoder.log).toBeGreaterThanOrEqual(29);
    expect(decoder.size).toEqual({ width: 320, height: 180 });
    // Every packet leaves with the next sequence number.
    for (let i = 1; i < packets.length; i++) expect(sequenceNumber(packets[i]!.packet)).toBe((sequenceNumber(packets[i - 1]!.packet) + 1) & 0xffff);
    // Frame k's RTP time is its capture time at 90 kHz (plus one random origin), not the nominal 1/15 s steps.
    const ts = frameTimestamps(packets).slice(0, 30);
    for (let k = 1; k < 30; k++) expect(Math.abs(((ts[k]! - ts[0]!) >>> 0) - Math.round((times[k]! - times[0]!) * 90))).toBeLessThanOrEqual(1);
    expect(enc.counters).toMatchObject({ frames: 30, restarts: 0 });
  }, 30_000);

  it('answers a keyframe request with an IDR on the next frames, long before its GOP would', async () => {
    const { enc, packets } = encoder('x264enc', { keyframeIntervalS: 10 });
    enc.start();
    const keyframesAt: number[] = [];
    let asked = -1;
    await feed(enc, 45, { onFrame: (i) => {
      if (i === 20) {
        asked = packets.filter((p) => p.frameStart).length;
        enc.requestKeyframe();
      }
    } });
    await until('45 frames', () => packets.filter((p) => p.frameStart).length >= 45, 10_000);
    let frame = -1;
    for (const p of packets) {
      if (p.frameStart) frame++;
      if (p.keyframe && (keyframesAt.length === 0 || keyframesAt[keyframesAt.length - 1] !== frame)) keyframesAt.push(frame);
    }
    // The first frame, then one right after the request; a 150-frame GOP would have given none.
    expect(keyframesAt[0]).toBe(0);
    expect(keyframesAt.length).toBe(2);
    expect(keyframesAt[1]! - asked).toBeGreaterThanOrEqual(0);
    expect(keyframesAt[1]! - asked).toBeLessThanOrEqual(3);
  }, 30_000);

  it('holds preview.max_bitrate_kbps: a capped encoder sends near the cap, a higher one far more', async () => {
    const low = encoder('x264enc', { bitrateKbps: 250, w: 640, h: 360 });
    const high = encoder('x264enc', { bitrateKbps: 2000, w: 640, h: 360 });
    low.enc.start();
    high.enc.start();
    const seconds = 4;
    await Promise.all([feed(low.enc, FPS * seconds, { noise: true }), feed(high.enc, FPS * seconds, { noise: true })]);
    await new Promise((r) => setTimeout(r, 500));
    // Over the frames that were encoded (a busy machine may skip some; the rate control aims per frame at 15 fps).
    const kbps = (e: EncoderProcess) => (e.counters.bytes * 8) / 1000 / (e.counters.frames / FPS);
    expect(kbps(low.enc)).toBeGreaterThan(250 * 0.5);
    expect(kbps(low.enc)).toBeLessThan(250 * 1.5);
    expect(kbps(high.enc)).toBeGreaterThan(kbps(low.enc) * 3);
  }, 40_000);

  it('restarts a child that dies, says why, and continues the sequence numbers', async () => {
    const { enc, packets, logs } = encoder('x264enc');
    enc.start();
    await feed(enc, 10);
    await until('packets', () => packets.length > 5, 10_000);
    const pid = enc.pid!;
    process.kill(pid, 'SIGKILL');
    await until('the restart', () => enc.running && enc.pid !== pid, 10_000);
    const died = logs.find((l) => l.msg === 'preview encoder exited; restarting');
    expect(died?.level).toBe('warn');
    expect(died?.obj).toMatchObject({ signal: 'SIGKILL', retry_in_ms: 500 });
    expect(logs.filter((l) => l.msg === 'preview encoder')).toHaveLength(2);
    const before = packets.length;
    const last = sequenceNumber(packets[before - 1]!.packet);
    await feed(enc, 10);
    await until('packets from the new child', () => packets.length > before + 5, 10_000);
    expect(sequenceNumber(packets[before]!.packet)).toBe((last + 1) & 0xffff);
    // The new child starts with a keyframe, so viewers recover at once.
    expect(frameIsKey(packets, 0, before)).toBe(true);
    expect(enc.counters.restarts).toBe(1);
  }, 30_000);

  it('runs its child with malloc settings that stop every frame from faulting its pages in again (640×360)', async () => {
    // With glibc's defaults GStreamer's frame-sized buffers came from fresh mmaps or just-trimmed heap: ~225 minor
    // page faults a frame here, and 1–2 ms of the child's CPU (encoder-plan.ts, encoderMallocTunables).
    const minorFaults = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
    const perFrame = async (env?: NodeJS.ProcessEnv) => {
      const { enc, logs } = encoder('x264enc', { w: 640, h: 360, env });
      enc.start();
      await feed(enc, 10); // start-up allocations are not the steady state
      const pid = enc.pid!, f0 = minorFaults(pid), n0 = enc.counters.frames;
      await feed(enc, 30);
      const faults = (minorFaults(pid) - f0) / (enc.counters.frames - n0);
      await enc.stop();
      return { faults, logged: logs.find((l) => l.msg === 'preview encoder')?.obj.glibc_tunables };
    };
    const plain = { ...process.env };
    delete plain.GLIBC_TUNABLES;
    const tuned = await perFrame();
    const defaults = await perFrame(plain);
    expect(tuned.logged).toMatch(/^glibc\.malloc\.mmap_threshold=\d+:glibc\.malloc\.trim_threshold=\d+/);
    expect(defaults.logged).toBeUndefined();
    expect(defaults.faults, `faults a frame: tuned ${tuned.faults}, glibc defaults ${defaults.faults}`).toBeGreaterThan(4 * tuned.faults + 20);
  }, 40_000);

  it('drops frames instead of queueing them when the child falls behind, and stops cleanly', async () => {
    const { enc } = encoder('x264enc');
    enc.start();
    // Three frames in flight at most: a fourth acquire before any write completes gets nothing.
    const got = [enc.acquire(), enc.acquire(), enc.acquire(), enc.acquire()];
    expect(got.filter(Boolean)).toHaveLength(3);
    expect(enc.counters.dropped).toBe(1);
    for (const f of got) if (f) enc.submit(f, performance.now());
    await enc.stop();
    expect(enc.running).toBe(false);
  }, 20_000);
});

for (const name of ['openh264enc', 'vp8enc'] as EncoderName[]) {
  describe.skipIf(!canRun(name))(`${name} pipeline, for real`, () => {
    it('turns drawn frames into decodable RTP and answers a keyframe request', async () => {
      const { enc, packets, decoder } = encoder(name, { keyframeIntervalS: 10 });
      enc.start();
      await feed(enc, 30, { onFrame: (i) => i === 15 && enc.requestKeyframe() });
      await until('30 frames', () => packets.filter((p) => p.frameStart).length >= 30, 15_000);
      expect(frameIsKey(packets, 0)).toBe(true);
      const keyFrames = new Set<number>();
      let frame = -1;
      for (const p of packets) {
        if (p.frameStart) frame++;
        if (p.keyframe) keyFrames.add(frame);
      }
      expect(keyFrames.size).toBeGreaterThanOrEqual(2);
      expect(await decoder.finish(), decoder.log).toBeGreaterThanOrEqual(29);
      expect(decoder.size, decoder.log).toEqual({ width: W, height: H });
    }, 30_000);
  });
}
