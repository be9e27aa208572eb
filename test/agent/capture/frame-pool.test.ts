import { describe, expect, it } from 'vitest';
import { FrameAssembler, LIVE_TIMING, type CapturedFrame, type FrameFormat } from '../../../src/agent/capture/frame-pool.js';

const format: FrameFormat = { width: 2, height: 1, order: 'bgr', sourceWidth: 4, sourceHeight: 2 };
const FRAME_BYTES = 6;

/** An assembler on fake clocks; `wall` and `mono` are read at each completed frame. */
function assembler(dropOldest = false) {
  const clock = { wall: 1_000_000, mono: 1_000_000 };
  const a = new FrameAssembler(3, dropOldest, () => {}, { wallMs: () => clock.wall, monotonicMs: () => clock.mono });
  return { a, clock };
}

/** Pushes `n` whole frames and takes each at once; returns copies of (seq, index, mediaMs). */
function run(a: FrameAssembler, n: number): Array<Pick<CapturedFrame, 'seq' | 'index' | 'mediaMs'>> {
  const out: Array<Pick<CapturedFrame, 'seq' | 'index' | 'mediaMs'>> = [];
  for (let i = 0; i < n; i++) {
    expect(a.push(new Uint8Array(FRAME_BYTES))).toBe(FRAME_BYTES);
    const f = a.take(false)!;
    out.push({ seq: f.seq, index: f.index, mediaMs: f.mediaMs });
  }
  return out;
}

describe('FrameAssembler frame time', () => {
  it('a file at 50 fps: index counts source frames, mediaMs = index × 20 ms', () => {
    const { a } = assembler();
    a.setFormat(format, { fps: 50, keep: { num: 1, den: 1 }, firstIndex: 0, offsetMs: 0 });
    expect(run(a, 4)).toEqual([
      { seq: 0, index: 0, mediaMs: 0 },
      { seq: 1, index: 1, mediaMs: 20 },
      { seq: 2, index: 2, mediaMs: 40 },
      { seq: 3, index: 3, mediaMs: 60 },
    ]);
  });

  it('fps_cap: run frame k is source frame ceil(k · den / num), whatever the delivery order of drops', () => {
    // 30 of 50 (fps_cap 30 on a 50 fps file): ffmpeg's select keeps n with (3n mod 5) < 3 = 0, 2, 4, 5, 7, 9, 10…
    const { a } = assembler();
    a.setFormat(format, { fps: 50, keep: { num: 3, den: 5 }, firstIndex: 0, offsetMs: 0 });
    const kept = Array.from({ length: 40 }, (_, n) => n).filter((n) => (n * 3) % 5 < 3);
    const got = run(a, kept.length);
    expect(got.map((f) => f.index)).toEqual(kept);
    expect(got.map((f) => f.mediaMs)).toEqual(kept.map((n) => n * 20));
  });

  it('realtime dropping does not shift the index: it is fixed when the frame completes', () => {
    const { a } = assembler(true);
    a.setFormat(format, { fps: 12.5, keep: { num: 1, den: 4 }, firstIndex: 0, offsetMs: 0 });
    for (let i = 0; i < 7; i++) a.push(new Uint8Array(FRAME_BYTES)); // a slow consumer: the pool overwrites the oldest
    const f = a.take(true)!;
    expect(a.dropped).toBe(6);
    expect([f.seq, f.index, f.mediaMs]).toEqual([6, 24, 1920]);
  });

  it('a new run of a file (loop pass, restart) restarts the index and runs time on from mediaEndMs', () => {
    const { a } = assembler();
    expect(a.mediaEndMs).toBe(0);
    a.setFormat(format, { fps: 50, keep: { num: 1, den: 1 }, firstIndex: 0, offsetMs: 0 });
    run(a, 3);
    expect(a.mediaEndMs).toBe(60);
    a.setFormat(format, { fps: 50, keep: { num: 1, den: 1 }, firstIndex: 0, offsetMs: a.mediaEndMs });
    expect(run(a, 2)).toEqual([
      { seq: 3, index: 0, mediaMs: 60 },
      { seq: 4, index: 1, mediaMs: 80 },
    ]);
  });

  it('live sources: index = seq, mediaMs from the monotonic clock, never decreasing', () => {
    const { a, clock } = assembler();
    a.setFormat(format, LIVE_TIMING);
    const seen: number[] = [];
    for (const mono of [5000, 5040, 5030, 5100]) {
      clock.mono = mono;
      clock.wall = mono - 1000; // ts is the wall clock, whatever it does
      a.push(new Uint8Array(FRAME_BYTES));
      const f = a.take(false)!;
      expect(f.index).toBe(f.seq);
      expect(f.ts).toBe(mono - 1000);
      seen.push(f.mediaMs);
    }
    expect(seen).toEqual([5000, 5040, 5040, 5100]);
  });

  it('rejects a selection that is not whole numbers', () => {
    const { a } = assembler();
    expect(() => a.setFormat(format, { fps: 50, keep: { num: 0.5, den: 2 }, firstIndex: 0, offsetMs: 0 })).toThrow(/whole-number/);
  });
});
