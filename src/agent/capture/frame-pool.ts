// Fixed-size frames assembled from a byte stream into a small pool of reused buffers (no allocation per frame).
// A slot is free, filling, ready (complete, waiting for the consumer) or held (delivered, in use by the consumer).

import type { RawFrame } from '../../runtime/types.js';

export interface CapturedFrame extends RawFrame {
  /** Frame number since start(), counting dropped frames too (gaps show drops). */
  seq: number;
  /** Date.now() when the frame's last byte was read. */
  ts: number;
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
  dropped = 0;
  frames = 0;

  constructor(poolSize: number, private readonly dropOldest: boolean, private readonly onReady: () => void) {
    if (poolSize < 2) throw new Error('frame pool needs at least 2 buffers');
    for (let i = 0; i < poolSize; i++) {
      const storage = new Uint8Array(0);
      const slot: Slot = { storage, frame: { data: storage, width: 0, height: 0, order: 'bgr', seq: 0, ts: 0, sourceWidth: 0, sourceHeight: 0 } };
      this.slots.push(slot);
      this.free.push(slot);
    }
  }

  /** Sets the frame format for the bytes that follow (a new capture run); a half-filled frame is discarded. */
  setFormat(format: FrameFormat): void {
    this.format = format;
    this.frameBytes = format.width * format.height * 3;
    if (this.filling) this.free.push(this.filling);
    this.filling = null;
    this.filled = 0;
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
    slot.frame.seq = this.nextSeq++;
    slot.frame.ts = Date.now();
    this.ready.push(slot);
    this.filling = null;
    this.filled = 0;
    this.frames++;
    this.onReady();
  }
}
