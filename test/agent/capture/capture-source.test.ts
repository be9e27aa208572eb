import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureSource, type CaptureOptions, type CapturedFrame } from '../../../src/agent/capture/capture-source.js';
import { ffprobeStream, hasProgram, imagesDir, processExists, recordingLogger, sleep, streetAvi, until } from './helpers.js';

const sources: CaptureSource[] = [];
function source(opts: CaptureOptions, log = recordingLogger()) {
  const s = new CaptureSource(opts, log);
  sources.push(s);
  return { s, log };
}
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Frame `n` of a video decoded on its own by ffmpeg, scaled like capture scales. */
function referenceFrame(path: string, n: number, width: number, height: number): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:v:0', '-vf', `select=eq(n\\,${n}),scale=${width}:${height}:flags=bilinear`,
    '-frames:v', '1', '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 64 << 20 });
}

/** sha256 of every frame of a video decoded on its own by ffmpeg at the size capture scales to. */
function referenceHashes(path: string, width: number, height: number): string[] {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:v:0', '-vf', `scale=${width}:${height}:flags=bilinear`,
    '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 256 << 20 });
  const size = width * height * 3;
  const out: string[] = [];
  for (let o = 0; o + size <= raw.length; o += size) out.push(sha(raw.subarray(o, o + size)));
  return out;
}

interface Stamp {
  seq: number;
  index: number;
  mediaMs: number;
  hash: string;
}

/** Reads `opts` to the end (or `limit` frames), keeping each frame's stamps and pixel hash. */
async function readStamps(opts: CaptureOptions, limit = Infinity, consumerMs = 0): Promise<Stamp[]> {
  const { s } = source(opts);
  s.start();
  const out: Stamp[] = [];
  for (let f = await s.next(); f && out.length < limit; f = await s.next()) {
    out.push({ seq: f.seq, index: f.index, mediaMs: f.mediaMs, hash: sha(f.data) });
    if (consumerMs) await sleep(consumerMs);
  }
  await s.stop();
  return out;
}

describe('CaptureSource with ffmpeg', () => {
  it('every-frame mode delivers every frame of street.avi, in order, scaled, even with a slow consumer', async () => {
    const truth = ffprobeStream(streetAvi, true);
    const { s } = source({ uri: streetAvi, mode: 'every-frame', output_height: 256, backend: 'ffmpeg' });
    s.start();
    const expectedWidth = 2 * Math.round((truth.width * 256) / truth.height / 2);
    let count = 0, frame: CapturedFrame | null, hash100 = '';
    while ((frame = await s.next())) {
      expect(frame.seq).toBe(count);
      expect([frame.width, frame.height, frame.sourceWidth, frame.sourceHeight]).toEqual([expectedWidth, 256, truth.width, truth.height]);
      expect(frame.data.length).toBe(expectedWidth * 256 * 3);
      expect(frame.order).toBe('bgr');
      if (count === 100) hash100 = sha(frame.data);
      if (count < 8) await sleep(30); // the consumer is busy: the pool fills and capture must wait, not drop
      count++;
    }
    expect(count).toBe(truth.frames);
    expect(s.stats()).toMatchObject({ frames: truth.frames, dropped: 0, restarts: 0, state: 'ended', lastError: null });
    expect(await s.next()).toBeNull();
    // Frame boundaries are right: frame 100 is byte-identical to ffmpeg decoding frame 100 alone.
    expect(hash100).toBe(sha(referenceFrame(streetAvi, 100, expectedWidth, 256)));
  });

  it('every-frame mode: frames still buffered when the process exits are delivered, then next() ends with null', async () => {
    // Small frames: one 64 KiB pipe read holds many, so the process exits while frames wait behind the
    // full pool. The last next() used to flip the state back to running and wait forever.
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-short-'));
    const clip = join(dir, 'short.avi');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=10', '-frames:v', '12', '-c:v', 'mjpeg', clip]);
    const { s } = source({ uri: clip, mode: 'every-frame', output_height: 36 });
    s.start();
    await sleep(1500);
    const seqs: number[] = [];
    for (let f = await s.next(); f; f = await s.next()) seqs.push(f.seq);
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(s.stats().state).toBe('ended');
    expect(await s.next()).toBeNull();
  });

  it('fps_cap on a file: each kept frame carries its source index and time, and is that source frame', async () => {
    const truth = ffprobeStream(streetAvi, true);
    const reference = referenceHashes(streetAvi, 114, 64);
    expect(new Set(reference).size).toBe(truth.frames); // every frame differs, so a hash names its index
    for (const [cap, num, den] of [[12.5, 1, 4], [30, 3, 5], [7, 7, 50]]) {
      const frames = await readStamps({ uri: streetAvi, mode: 'every-frame', output_height: 64, fps_cap: cap });
      const expected = Array.from({ length: truth.frames }, (_, n) => n).filter((n) => (n * num) % den < num);
      expect(frames.map((f) => f.index), `fps_cap ${cap}`).toEqual(expected);
      expect(frames.map((f) => reference.indexOf(f.hash)), `fps_cap ${cap}: pixels`).toEqual(expected);
      expect(frames.map((f) => f.mediaMs)).toEqual(expected.map((n) => n * 20));
      expect(frames.map((f) => f.seq)).toEqual(expected.map((_, k) => k));
    }
  });

  it('realtime mode with fps_cap: dropped frames leave gaps in seq; index and pixels still agree', { timeout: 30_000 }, async () => {
    const reference = referenceHashes(streetAvi, 114, 64);
    // ~8 frames/s consumed from a 25 fps capped stream: most frames are dropped by the pool.
    const frames = await readStamps({ uri: streetAvi, mode: 'realtime', output_height: 64, fps_cap: 25 }, 20, 120);
    expect(frames.length).toBe(20);
    for (let i = 1; i < frames.length; i++) expect(frames[i].seq - frames[i - 1].seq).toBeGreaterThan(1);
    for (const f of frames) {
      expect(f.index % 2).toBe(0);
      expect(f.index).toBe(2 * f.seq);
      expect(reference.indexOf(f.hash)).toBe(f.index);
      expect(f.mediaMs).toBe(f.index * 20);
    }
  });

  it('loops a file: frame numbers run on past the end and the source keeps running', async () => {
    const truth = ffprobeStream(streetAvi, true);
    const { s } = source({ uri: `file://${streetAvi}`, loop: true, mode: 'every-frame', output_height: 64 });
    s.start();
    let last: CapturedFrame | null = null;
    let lastMediaMs = -1;
    for (let i = 0; i < truth.frames + 20; i++) {
      last = await s.next();
      expect(last!.mediaMs).toBeGreaterThan(lastMediaMs); // source time runs on across the loop
      lastMediaMs = last!.mediaMs;
    }
    expect(last!.seq).toBe(truth.frames + 19);
    // The index is the frame in the file (it lines up with the video): 19 on the second pass.
    expect(last!.index).toBe(19);
    expect(last!.mediaMs).toBe((truth.frames + 19) * 20);
    expect(s.stats().state).toBe('running');
    expect(s.stats().restarts).toBe(0);
    await s.stop();
    expect(await s.next()).toBeNull();
    expect(s.stats().state).toBe('stopped');
  });

  it('realtime mode gives a slow consumer the newest frame and counts the dropped ones', async () => {
    const { s } = source({ uri: streetAvi, mode: 'realtime', output_height: 96 });
    s.start();
    const seqs: number[] = [];
    for (let i = 0; i < 12; i++) {
      const f = await s.next();
      seqs.push(f!.seq);
      await sleep(100); // ~5 frames arrive at 50 fps while we "infer"
    }
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    const skipped = seqs.slice(1).reduce((sum, q, i) => sum + (q - seqs[i] - 1), 0);
    const { dropped } = s.stats();
    expect(skipped).toBeGreaterThan(20);
    // Every skipped frame number was counted as dropped (more may be dropped after the last delivery).
    expect(dropped).toBeGreaterThanOrEqual(skipped);
  });

  it('reads an image directory in name order, each image at its own aspect', async () => {
    const files = readdirSorted(imagesDir);
    const { s } = source({ uri: imagesDir, mode: 'every-frame', output_height: 200 });
    s.start();
    const frames: Array<[number, number, number, number]> = [];
    let f: CapturedFrame | null;
    while ((f = await s.next())) frames.push([f.width, f.height, f.sourceWidth, f.sourceHeight]);
    expect(frames).toEqual(
      files.map((file) => {
        const { width, height } = ffprobeStream(join(imagesDir, file));
        return [2 * Math.round((width * 200) / height / 2), 200, width, height];
      }),
    );
    expect(s.stats().state).toBe('ended');
  });

  it('loops an image directory in realtime mode at image_fps', async () => {
    const files = readdirSorted(imagesDir);
    const { s } = source({ uri: imagesDir, loop: true, image_fps: 50, output_height: 32 });
    s.start();
    const widths: number[] = [];
    while (widths.length < files.length + 2) {
      const f = await s.next();
      if (widths.length === 0 || f!.seq > 0) widths.push(f!.sourceWidth);
    }
    expect(widths.at(-2)).toBe(widths[0]);
    expect(s.stats().state).toBe('running');
  });

  it('image directories: index is the image position, time runs at image_fps across passes', async () => {
    const files = readdirSorted(imagesDir);
    const frames = await readStamps({ uri: imagesDir, loop: true, mode: 'every-frame', image_fps: 4, output_height: 32 }, files.length + 2);
    expect(frames.map((f) => f.index)).toEqual([...files.map((_, i) => i), 0, 1]);
    expect(frames.map((f) => f.mediaMs)).toEqual(frames.map((_, i) => i * 250));
  });

  it('live sources: index = seq, mediaMs is the capture time', async () => {
    const before = Date.now();
    const frames = await readStamps({ uri: 'test://?size=64x48&rate=25', output_height: 48 }, 5);
    for (const f of frames) {
      expect(f.index).toBe(f.seq);
      expect(f.mediaMs).toBeGreaterThanOrEqual(before - 5);
      expect(f.mediaMs).toBeLessThanOrEqual(Date.now() + 5);
    }
    for (let i = 1; i < frames.length; i++) expect(frames[i].mediaMs).toBeGreaterThanOrEqual(frames[i - 1].mediaMs);
  });

  it('test pattern at the requested size, in rgb when asked', async () => {
    const { s } = source({ uri: 'test://?size=640x360&rate=25', output_height: 180, pixel_order: 'rgb', backend: 'ffmpeg' });
    s.start();
    const a = await s.next();
    expect([a!.width, a!.height, a!.sourceWidth, a!.sourceHeight, a!.order]).toEqual([320, 180, 640, 360, 'rgb']);
    const hashA = sha(a!.data);
    let b = await s.next();
    while (b!.seq < 5) b = await s.next();
    expect(sha(b!.data)).not.toBe(hashA); // testsrc2 moves
  });

  it('a missing camera is reported and retried with growing delays, without throwing', async () => {
    const { s, log } = source({ uri: '/dev/video9', retry: { min_ms: 20, max_ms: 80 } });
    const problems: string[] = [];
    const states: string[] = [];
    s.on('problem', (m: string) => problems.push(m));
    s.on('state', (st: string) => states.push(st));
    s.start();
    const pending = s.next();
    await until(() => problems.length >= 4);
    expect(problems[0]).toBe('camera /dev/video9 not found');
    expect(states).toContain('retrying');
    expect(s.stats().restarts).toBeGreaterThanOrEqual(3);
    expect(s.stats().lastError).toBe('camera /dev/video9 not found');
    const delays = log.lines.filter((l) => l.level === 'error').map((l) => (l.obj as { retry_in_ms: number }).retry_in_ms);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    await s.stop();
    expect(await pending).toBeNull();
  });

  it('a corrupt video file gives a clear error and retries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-corrupt-'));
    const garbled = Buffer.from(readFileSync(streetAvi));
    for (let i = 12; i < 32768; i++) garbled[i] = (i * 7919) & 0xff; // header overwritten with a pattern
    const path = join(dir, 'garbled.avi');
    writeFileSync(path, garbled);
    const { s } = source({ uri: path, retry: { min_ms: 20, max_ms: 40 } });
    const problems: string[] = [];
    s.on('problem', (m: string) => problems.push(m));
    s.start();
    await until(() => problems.length >= 2);
    expect(problems[0]).toMatch(new RegExp(`^cannot read ${path}: ffprobe exited 1: .*Invalid data`));
    expect(s.stats().state).toMatch(/retrying|starting/);
  });

  it('a capture process that dies is reported with its exit code and last error line', async () => {
    const { s } = source({
      uri: 'test://',
      retry: { min_ms: 20, max_ms: 40 },
      pipeline: ['ffmpeg', '-v', 'error', '-i', '/nonexistent/video.mp4', '-f', 'rawvideo', 'pipe:1'],
    });
    const problems: string[] = [];
    s.on('problem', (m: string) => problems.push(m));
    s.start();
    await until(() => problems.length >= 2);
    expect(problems[0]).toMatch(/^ffmpeg exited 1: .*\/nonexistent\/video\.mp4: No such file or directory/);
  });

  it('a live source that ends is reported and reconnected; frames keep coming', async () => {
    const { s } = source({
      uri: 'test://?size=160x120&rate=30',
      output_height: 60,
      mode: 'every-frame',
      retry: { min_ms: 20, max_ms: 40 },
      // A "stream" that delivers 3 frames and then drops.
      pipeline: ['ffmpeg', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size={source_width}x{source_height}:rate=30', '-frames:v', '3',
        '-vf', 'scale={width}:{height}', '-pix_fmt', '{pix_fmt}', '-f', 'rawvideo', 'pipe:1'],
    });
    const problems: string[] = [];
    s.on('problem', (m: string) => problems.push(m));
    s.start();
    const seqs: number[] = [];
    while (seqs.length < 8) seqs.push((await s.next())!.seq);
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems[0]).toBe('test://?size=160x120&rate=30 ended (ffmpeg exited 0)');
    expect(s.stats().restarts).toBeGreaterThanOrEqual(2);
  });

  it('a source that hangs without frames is killed and restarted after stall_timeout_ms', async () => {
    const { s } = source({ uri: 'test://', stall_timeout_ms: 200, retry: { min_ms: 20, max_ms: 40 }, pipeline: ['sleep', '30'] });
    const problems: string[] = [];
    s.on('problem', (m: string) => problems.push(m));
    s.start();
    await until(() => s.childPid !== null);
    const pid = s.childPid!;
    await until(() => problems.length >= 1);
    expect(problems[0]).toBe('no frame from test:// for 200 ms; restarting the capture process');
    await until(() => !processExists(pid));
  });

  it('a missing program is reported, not thrown', async () => {
    const { s } = source({ uri: 'test://', retry: { min_ms: 20, max_ms: 40 }, pipeline: ['pafcast-no-such-program', '{input}'] });
    const problems: string[] = [];
    s.on('problem', (m: string) => problems.push(m));
    s.start();
    await until(() => problems.length >= 1);
    expect(problems[0]).toBe('pafcast-no-such-program not found (is it installed?)');
  });

  it('stop() ends a capture process blocked on a full pipe and leaves no zombie', async () => {
    const { s } = source({ uri: streetAvi, mode: 'every-frame', output_height: 128 });
    s.start();
    await s.next(); // hold one frame and never ask again: the pool fills and ffmpeg blocks writing
    await sleep(300);
    const pid = s.childPid;
    expect(pid).not.toBeNull();
    expect(processExists(pid!)).toBe(true);
    await s.stop();
    expect(processExists(pid!)).toBe(false);
    expect(s.childPid).toBeNull();
    expect(s.stats().state).toBe('stopped');
  });

  it('next() called before start() waits for the first frame', async () => {
    const { s } = source({ uri: 'test://?size=64x48', output_height: 48 });
    const first = s.next();
    await sleep(50);
    s.start();
    expect((await first)!.width).toBe(64);
  });

  it('rejects invalid options with a readable message', () => {
    expect(() => new CaptureSource({ uri: 'x', output_height: -5 }, recordingLogger())).toThrow(/output_height/);
    expect(() => new CaptureSource({ uri: 'x', retry: { min_ms: 500, max_ms: 100 } }, recordingLogger())).toThrow(/max_ms/);
  });
});

describe.skipIf(!hasProgram('gst-launch-1.0'))('CaptureSource with GStreamer', () => {
  it('test pattern through gst-launch-1.0 -q', async () => {
    const { s } = source({ uri: 'test://?size=640x480&rate=30', output_height: 240, backend: 'gstreamer' });
    s.start();
    const f = await s.next();
    expect([f!.width, f!.height, f!.sourceWidth, f!.sourceHeight]).toEqual([320, 240, 640, 480]);
    expect(s.command![0]).toBe('gst-launch-1.0');
  });

  it.skipIf(!gstHas('avdec_h264'))('every frame of street.avi through decodebin', async () => {
    const truth = ffprobeStream(streetAvi, true);
    const { s } = source({ uri: streetAvi, mode: 'every-frame', output_height: 128, backend: 'gstreamer' });
    s.start();
    let count = 0;
    while (await s.next()) count++;
    expect(count).toBe(truth.frames);
  });

  it.skipIf(!gstHas('avdec_h264'))('at the default output height GStreamer frames are a multiple of 4 wide, so no row padding slips the frames', async () => {
    // 1280×720 at 368 rows is 654 px wide for ffmpeg; GStreamer would pad each BGR row to 1964 bytes.
    const truth = ffprobeStream(streetAvi, true);
    const { s } = source({ uri: streetAvi, mode: 'every-frame', backend: 'gstreamer' });
    s.start();
    let count = 0;
    let first: { width: number; height: number } | undefined;
    for (let f = await s.next(); f; f = await s.next()) {
      first ??= { width: f.width, height: f.height };
      count++;
    }
    expect(first).toEqual({ width: 656, height: 368 });
    expect(count).toBe(truth.frames);
  });

  it.skipIf(!gstHas('avdec_h264'))('fps_cap through videorate keeps the frames the index names', async () => {
    // 128×72: GStreamer pads BGR rows to 4 bytes, so the width must be a multiple of 4 to be read unpadded.
    // The reference: every frame through the same elements (videorate at the source's own 50 fps drops nothing).
    const pipeline = ['gst-launch-1.0', '-q', 'filesrc', 'location={input}', '!', 'decodebin', '!', 'videorate', 'drop-only=true', '!',
      'video/x-raw,framerate=50/1', '!', 'videoconvert', '!', 'videoscale', '!', 'video/x-raw,format={gst_format},width={width},height={height}', '!',
      'fdsink', 'fd=1', 'sync=false'];
    // (At the end of the stream it repeats the last frame once, so only the file's own frames are kept.)
    const all = (await readStamps({ uri: streetAvi, mode: 'every-frame', output_height: 72, backend: 'gstreamer', pipeline })).slice(0, ffprobeStream(streetAvi, true).frames);
    expect(new Set(all.map((f) => f.hash)).size).toBe(all.length);
    for (const [cap, num, den] of [[12.5, 1, 4], [30, 3, 5], [7, 7, 50]]) {
      const capped = await readStamps({ uri: streetAvi, mode: 'every-frame', output_height: 72, backend: 'gstreamer', fps_cap: cap });
      const expected = all.map((f) => f.index).filter((n) => (n * num) % den < num);
      expect(capped.map((f) => f.index), `fps_cap ${cap}`).toEqual(expected);
      expect(capped.map((f) => all.findIndex((a) => a.hash === f.hash)), `fps_cap ${cap}: pixels`).toEqual(expected);
    }
  });
});

function gstHas(element: string): boolean {
  try {
    execFileSync('gst-inspect-1.0', ['--exists', element], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function readdirSorted(dir: string): string[] {
  return execFileSync('ls', ['-1', dir], { encoding: 'utf8' }).split('\n').filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
}
