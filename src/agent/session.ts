// The pipeline session: what the frame loop runs with for one frame format. It is opened only once
// capture has delivered a frame (so the real frame and source sizes are known), holds the net sizes
// prepared for exactly that format, the one current net height, and the frame→source transform.
// Everything else that needs the net size (scale controller, meters, stats, /metrics, the live view)
// reads it from here or is told by the session; nobody keeps a copy of their own.

import type { NetSize } from '../runtime/backend.js';
import type { ModelManifest, ParserParams } from '../runtime/manifest.js';
import type { PoseResult, RawFrame } from '../runtime/types.js';

/** Frame size as delivered by capture and the size of the source it was scaled from. */
export interface FrameFormat {
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
}

/** The part of PoseRuntime the pipeline uses. */
export interface PoseEstimator {
  readonly manifest: ModelManifest;
  /** Net size for a frame of this size at `height` (the preprocessor's placement). */
  netSize(frameWidth: number, frameHeight: number, height: number): NetSize;
  estimate(frame: RawFrame, height: number): Promise<PoseResult>;
  setParserParams(p: Partial<ParserParams>): void;
  dispose?(): Promise<void>;
}

/** What opening a session yields: an estimator prepared for `heights` at the given frame format. */
export interface PreparedEstimator {
  estimator: PoseEstimator;
  /** Heights the estimator has prepared buffers (and engine shapes) for. */
  heights: readonly number[];
}

export type SessionOpener = (format: FrameFormat) => Promise<PreparedEstimator>;

/** Read and command the net height; what the scale controller and live config are given. */
export interface NetHeightControl {
  /** Prepared heights, largest first. */
  readonly heights: readonly number[];
  readonly height: number;
  readonly net: NetSize;
  /** Switches from the next frame on; throws for a height that was not prepared. */
  setHeight(height: number, reason: string): void;
}

export type NetSizeListener = (net: NetSize, reason: string) => void;

export const sameFormat = (a: FrameFormat, b: FrameFormat): boolean =>
  a.width === b.width && a.height === b.height && a.sourceWidth === b.sourceWidth && a.sourceHeight === b.sourceHeight;

export class PipelineSession implements NetHeightControl {
  readonly heights: readonly number[];
  /** Multiply frame pixels by this to get source pixels. */
  readonly frameToSource: { x: number; y: number };
  private readonly sizes = new Map<number, NetSize>();
  private current: number;

  constructor(
    readonly format: FrameFormat,
    readonly estimator: PoseEstimator,
    heights: readonly number[],
    startHeight: number,
    private readonly onNetSize: NetSizeListener,
  ) {
    if (!heights.length) throw new Error('a pipeline session needs at least one prepared height');
    this.heights = [...new Set(heights)].sort((a, b) => b - a);
    for (const h of this.heights) this.sizes.set(h, estimator.netSize(format.width, format.height, h));
    this.current = this.sizes.has(startHeight) ? startHeight : this.heights[0];
    this.frameToSource = { x: format.sourceWidth / format.width, y: format.sourceHeight / format.height };
    this.onNetSize(this.net, 'start');
  }

  get height(): number {
    return this.current;
  }

  get net(): NetSize {
    return this.sizes.get(this.current)!;
  }

  /** Whether `height` was prepared for this format. */
  has(height: number): boolean {
    return this.sizes.has(height);
  }

  setHeight(height: number, reason: string): void {
    if (!this.sizes.has(height))
      throw new RangeError(`net height ${height} was not prepared for ${this.format.width}x${this.format.height} frames (prepared: ${this.heights.join(', ')})`);
    if (height === this.current) return;
    this.current = height;
    this.onNetSize(this.net, reason);
  }

  async dispose(): Promise<void> {
    await this.estimator.dispose?.();
  }
}
