// Frame-rate cap: admits at most `fps` frames per second from a source that may run faster,
// deciding before any drawing so that skipped frames cost nothing.

export class FrameRateCap {
  private readonly intervalMs: number;
  private next = -Infinity;

  constructor(fps: number) {
    if (!(fps > 0)) throw new Error(`frame-rate cap must be > 0 fps, got ${fps}`);
    this.intervalMs = 1000 / fps;
  }

  /** True when a frame arriving at `nowMs` should be sent. */
  admit(nowMs: number): boolean {
    // A quarter-interval of slack absorbs capture jitter, so a 15 fps source under a 15 fps cap keeps every frame.
    if (nowMs < this.next - this.intervalMs / 4) return false;
    // Stay on the cadence when close to it; after a gap, restart from now instead of bursting to catch up.
    this.next = nowMs - this.next > this.intervalMs ? nowMs + this.intervalMs : this.next + this.intervalMs;
    return true;
  }
}
