// Glue between the meters, the sampler and the controller, so the pipeline only has to call
// `tick()` on its stats timer and resize when told. Kept apart from the controller so that one
// stays pure and free of where its inputs come from.

import type { NetSize } from '../runtime/backend.js';
import type { MetersSnapshot, Stage, StageMeters } from './meters.js';
import type { ScaleController, ScaleDecision } from './scale-controller.js';

/** Stages that occupy the pipeline; capture is left out because its time is mostly waiting for the source. */
const BUSY_STAGES: readonly Stage[] = ['preprocess', 'inference', 'parse', 'track', 'publish'];

/**
 * FPS the pipeline could reach if frames arrived instantly: 1000 / the summed stage medians.
 * Assumes the stages run one after another per frame, as pafcast's pipeline does.
 */
export function capacityFps(snapshot: MetersSnapshot): number | null {
  let busyMs = 0;
  for (const s of BUSY_STAGES) busyMs += snapshot.stages[s].medianMs ?? 0;
  return busyMs > 0 ? 1000 / busyMs : null;
}

export interface ScaleLoopOptions {
  controller: ScaleController;
  meters: StageMeters;
  /** Net size per ladder height (ladderNetSizes' output, already loaded into the backend). */
  sizes: readonly NetSize[];
  /** Hottest relevant zone now (e.g. `() => sampler.latest()?.hottest?.tempC ?? null`). */
  hottestC: () => number | null;
  /** Called when the height changes; the pipeline switches to `size` before its next frame. */
  onChange: (size: NetSize, decision: ScaleDecision) => void;
  /** Monotonic ms; same clock as the meters. */
  now?: () => number;
}

export class ScaleLoop {
  private readonly byHeight: Map<number, NetSize>;
  private last: ScaleDecision | null = null;

  constructor(private readonly o: ScaleLoopOptions) {
    this.byHeight = new Map(o.sizes.map((s) => [s.height, s]));
    for (const h of o.controller.steps) if (!this.byHeight.has(h)) throw new Error(`no net size prepared for ladder height ${h}`);
  }

  /** The size to run now (the controller's current step). */
  get size(): NetSize {
    return this.byHeight.get(this.o.controller.height)!;
  }

  get lastDecision(): ScaleDecision | null {
    return this.last;
  }

  /** One control step: read FPS and temperature, decide, and on a change record it and tell the pipeline. */
  tick(): ScaleDecision {
    const snap = this.o.meters.snapshot();
    const decision = this.o.controller.update({
      nowMs: (this.o.now ?? (() => performance.now()))(),
      fps: snap.fps,
      tempC: this.o.hottestC(),
      capacityFps: capacityFps(snap),
    });
    this.last = decision;
    if (decision.changed) {
      const size = this.byHeight.get(decision.height)!;
      this.o.meters.setNetSize(size, decision.reason);
      this.o.onChange(size, decision);
    }
    return decision;
  }
}
