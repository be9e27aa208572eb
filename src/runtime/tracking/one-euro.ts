// One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) over many channels at once: an adaptive low-pass whose
// cutoff rises with speed, so a still keypoint stops jittering while a moving one does not lag much.

import type { SmoothingConfig } from './config-schema.js';

function alpha(cutoffHz: number, dtSeconds: number): number {
  const tau = 1 / (2 * Math.PI * cutoffHz);
  return 1 / (1 + tau / dtSeconds);
}

export class OneEuroBank {
  private readonly value: Float32Array;
  private readonly speed: Float32Array;
  /** 1 where a channel has a previous value; a channel restarts after a gap (missing keypoint). */
  private readonly primed: Uint8Array;

  constructor(channels: number, private readonly params: Pick<SmoothingConfig, 'min_cutoff' | 'beta' | 'd_cutoff'>) {
    this.value = new Float32Array(channels);
    this.speed = new Float32Array(channels);
    this.primed = new Uint8Array(channels);
  }

  /** Filters `x` for channel `c`, `dtMs` after that channel's previous sample. */
  filter(c: number, x: number, dtMs: number): number {
    if (!this.primed[c] || dtMs <= 0) {
      if (!this.primed[c]) this.speed[c] = 0;
      this.primed[c] = 1;
      this.value[c] = x;
      return x;
    }
    const dt = dtMs / 1000;
    const rawSpeed = (x - this.value[c]) / dt;
    const speed = this.speed[c] + alpha(this.params.d_cutoff, dt) * (rawSpeed - this.speed[c]);
    const cutoff = this.params.min_cutoff + this.params.beta * Math.abs(speed);
    const value = this.value[c] + alpha(cutoff, dt) * (x - this.value[c]);
    this.speed[c] = speed;
    this.value[c] = value;
    return value;
  }

  /** Forgets every channel (a pooled track reused for a new person). */
  resetAll(): void {
    this.primed.fill(0);
  }

  /** Forgets channel `c` so its next sample passes through unfiltered. */
  reset(c: number): void {
    this.primed[c] = 0;
  }
}
