// Fixed-size frames assembled from a byte stream into a small pool of reused buffers (no allocation per frame).
// A slot is free, filling, ready (complete, waiting for the consumer) or held (delivered, in use by the consumer).

import type { RawFrame } from '../../runtime/types.js';

export interface CapturedFrame extends RawFrame {
  /** Frame number since start(), counting dropped frames too (gaps show drops). */
  seq: number;
  /** Date.now() when the frame's last byte was read. */
  ts: number;
  /**
   * Source frame index. Files: the decoded frame's number in the file, 0-based, exact under `fps_cap` and
   * realtime dropping; it starts again at 0 on every pass of a looping file (so it always lines up with the
   * video). Image directories: the image's position in the sorted listing. Live sources: equal to `seq`.
   */
  index: number;
  /**
   * Source time in ms, never decreasing. Files and image directories: index × frame interval (image_fps for
   * images) plus the length of the earlier passes when looping or restarted. Live sources: the capture time on a
   * monotonic clock anchored at the Unix epoch (≈ `ts`, but a wall-clock step cannot send it backwards).
   */
  mediaMs: number;
  /** Native size of the source; keypoints are published in these pixels. */
  sourceWidth: number;
  sourceHeight: number;
}

interface Slot {
  frame: CapturedFrame;
  /** Backing storage; frame.data is a view of its first width × height × 3 bytes. */
  storage: Uint8Array;
}

export interface FrameFormat {
  width: number;
  height: number;
  order: 'rgb' | 'bgr';
  sourceWidth: number;
  sourceHeight: number;
}

/** How the frames of one capture run map to source frames and source time. */
export interface FrameTiming {
  /** Source frames per second; 0 = a live source (index = seq, mediaMs = capture time). */
  fps: number;
  /**
   * The capture process keeps `keep.num` of every `keep.den` source frames (fps_cap), as the exact integer
   * selection of capture/pipelines.ts: run frame k is source frame firstIndex + ceil(k · den / num).
   */
  keep: { num: number; den: number };
  /** Source index of the run's first frame (an image directory runs one image per process). */
  firstIndex: number;
  /** Source time of index 0 in this run: the length of the earlier passes of a looping or restarted file. */
  offsetMs: number;
}

export const LIVE_TIMING: FrameTiming = { fps: 0, keep: { num: 1, den: 1 }, firstIndex: 0, offsetMs: 0 };

/** Clocks the assembler stamps frames with (injectable for tests). */
export interface FrameClocks {
  /** Wall clock, ms since the Unix epoch (`ts`). */
  wallMs(): number;
  /** Monotonic clock in the same unit and origin (live `mediaMs`). */
  monotonicMs(): number;
}

const systemClocks: FrameClocks = {
  wallMs: () => Date.now(),
  monotonicMs: () => performance.timeOrigin + performance.now(),
};

/**
 * Splits a raw frame stream into frames. With `dropOldest` (realtime) it never stalls: when every slot is taken,
 * the oldest ready frame is overwritten and counted as dropped. Otherwise push() stops at the first byte it has
 * no free slot for, and the caller pauses the producer until release() frees one.
 */
export class FrameAssembler {
  private readonly slots: Slot[] = [];
  private readonly free: Slot[] = [];
  private readonly ready: Slot[] = [];
  private held: Slot | null = null;
  private filling: Slot | null = null;
  private filled = 0;
  private frameBytes = 0;
  private format: FrameFormat | null = null;
  private nextSeq = 0;
  private timing: FrameTiming = LIVE_TIMING;
  /** Frames completed in the current run (k of FrameTiming). */
  private runFrames = 0;
  private lastMediaMs = -Infinity;
  private lastIndex = -1;
  dropped = 0;
  frames = 0;

  constructor(
    poolSize: number,
    private readonly dropOldest: boolean,
    private readonly onReady: () => void,
    private readonly clocks: FrameClocks = systemClocks,
  ) {
    if (poolSize < 2) throw new Error('frame pool needs at least 2 buffers');
    for (let i = 0; i < poolSize; i++) {
      const storage = new Uint8Array(0);
      const frame: CapturedFrame = { data: storage, width: 0, height: 0, order: 'bgr', seq: 0, ts: 0, index: 0, mediaMs: 0, sourceWidth: 0, sourceHeight: 0 };
      const slot: Slot = { storage, frame };
      this.slots.push(slot);
      this.free.push(slot);
    }
  }

  /**
   * Sets the frame format and timing for the bytes that follow (a new capture run); a half-filled frame is
   * discarded. Timing defaults to a live source's.
   */
  setFormat(format: FrameFormat, timing: FrameTiming = LIVE_TIMING): void {
    if (!(timing.keep.num >= 1 && timing.keep.den >= timing.keep.num && Number.isInteger(timing.keep.num) && Number.isInteger(timing.keep.den)))
      throw new Error(`frame timing: keep ${timing.keep.num} of ${timing.keep.den} is not a whole-number selection`);
    this.format = format;
    this.timing = timing;
    this.runFrames = 0;
    this.frameBytes = format.width * format.height * 3;
    if (this.filling) this.free.push(this.filling);
    this.filling = null;
    this.filled = 0;
  }

  /**
   * Where a file's next run should start its source time so that time runs on: the end of the last frame
   * delivered so far (its mediaMs + one frame interval), or 0 before any frame. Live sources need no offset.
   */
  get mediaEndMs(): number {
    if (this.lastIndex < 0 || this.timing.fps <= 0) return Math.max(0, this.lastMediaMs);
    return this.lastMediaMs + 1000 / this.timing.fps;
  }

  /** Bytes of an incomplete frame received so far (non-zero at the end of a run means a truncated frame). */
  get partialBytes(): number {
    return this.filled;
  }

  /** Copies as much of `chunk` as fits into frames; returns how many bytes were consumed. */
  push(chunk: Uint8Array): number {
    if (!this.format) throw new Error('FrameAssembler.push before setFormat');
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.filling && !this.takeSlot()) break;
      const slot = this.filling!;
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      slot.storage.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) this.complete(slot);
    }
    return offset;
  }

  /** Hands the next frame to the consumer (releasing the previous one), or null when none is ready. */
  take(newest: boolean): CapturedFrame | null {
    this.release();
    if (this.ready.length === 0) return null;
    if (newest) {
      while (this.ready.length > 1) {
        this.free.push(this.ready.shift()!);
        this.dropped++;
      }
    }
    this.held = this.ready.shift()!;
    return this.held.frame;
  }

  /** Returns the consumer's frame to the pool. */
  release(): void {
    if (this.held) this.free.push(this.held);
    this.held = null;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** Whether push() can accept bytes now. */
  get canAccept(): boolean {
    return this.filling !== null || this.free.length > 0 || (this.dropOldest && this.ready.length > 0);
  }

  /** Forgets queued frames (e.g. on a restart), counting them as dropped. */
  discardReady(): void {
    this.dropped += this.ready.length;
    this.free.push(...this.ready.splice(0));
  }

  private takeSlot(): boolean {
    let slot = this.free.pop();
    if (!slot && this.dropOldest && this.ready.length > 0) {
      slot = this.ready.shift()!;
      this.dropped++;
    }
    if (!slot) return false;
    const f = this.format!;
    if (slot.storage.length < this.frameBytes) slot.storage = new Uint8Array(this.frameBytes);
    // Same size as last time (the usual case): keep the existing view instead of making a new one.
    const sameView = slot.frame.data.buffer === slot.storage.buffer && slot.frame.data.length === this.frameBytes;
    Object.assign(slot.frame, {
      data: sameView ? slot.frame.data : slot.storage.subarray(0, this.frameBytes),
      width: f.width,
      height: f.height,
      order: f.order,
      sourceWidth: f.sourceWidth,
      sourceHeight: f.sourceHeight,
    });
    this.filling = slot;
    this.filled = 0;
    return true;
  }

  private complete(slot: Slot): void {
    const frame = slot.frame;
    const t = this.timing;
    frame.seq = this.nextSeq++;
    frame.ts = this.clocks.wallMs();
    if (t.fps > 0) {
      // ceil(k · den / num) in integers: exact while k · den < 2^53 (billions of frames).
      frame.index = t.firstIndex + Math.floor((this.runFrames * t.keep.den + t.keep.num - 1) / t.keep.num);
      frame.mediaMs = t.offsetMs + (frame.index * 1000) / t.fps;
    } else {
      frame.index = frame.seq;
      frame.mediaMs = this.clocks.monotonicMs();
    }
    // Guard the promise of never decreasing time (a live clock at equal readings, a misconfigured offset).
    if (frame.mediaMs < this.lastMediaMs) frame.mediaMs = this.lastMediaMs;
    this.lastMediaMs = frame.mediaMs;
    this.lastIndex = frame.index;
    this.runFrames++;
    this.ready.push(slot);
    this.filling = null;
    this.filled = 0;
    this.frames++;
    this.onReady();
  }
}
