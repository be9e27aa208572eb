// Glue between the meters, the sampler and the controller, so the pipeline only has to call
// `tick()` on its stats timer and resize when told. Kept apart from the controller so that one
// stays pure and free of where its inputs come from.

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

/** The one owner of the current net height (the pipeline session): the loop reads and commands it. */
export interface HeightTarget {
  readonly height: number;
  setHeight(height: number, reason: string): void;
}

export interface ScaleLoopOptions {
  controller: ScaleController;
  meters: StageMeters;
  /** Where the height lives; every ladder step must be prepared there. */
  target: HeightTarget;
  /** Hottest relevant zone now (e.g. `() => sampler.latest()?.hottest?.tempC ?? null`). */
  hottestC: () => number | null;
  /** Called after the loop changed the height (for logs and an immediate stats message). */
  onChange?: (decision: ScaleDecision) => void;
  /** Monotonic ms; same clock as the meters. */
  now?: () => number;
}

export class ScaleLoop {
  private last: ScaleDecision | null = null;

  constructor(private readonly o: ScaleLoopOptions) {}

  get lastDecision(): ScaleDecision | null {
    return this.last;
  }

  /**
   * One control step: follow a height set elsewhere (live config), read FPS and temperature, decide,
   * and on a change command the target, which tells the meters.
   */
  tick(): ScaleDecision {
    const nowMs = (this.o.now ?? (() => performance.now()))();
    const { controller, target } = this.o;
    if (controller.height !== target.height) controller.follow(target.height, nowMs);
    const snap = this.o.meters.snapshot();
    const decision = controller.update({ nowMs, fps: snap.fps, tempC: this.o.hottestC(), capacityFps: capacityFps(snap) });
    this.last = decision;
    if (decision.changed) {
      target.setHeight(decision.height, decision.reason);
      this.o.onChange?.(decision);
    }
    return decision;
  }
}
