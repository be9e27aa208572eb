// The seam between pose code and inference engines. Everything above this file (preprocess, parser,
// pipeline, CLI) talks to an InferenceBackend and never learns which engine runs underneath.

import type { ModelManifest } from './manifest.js';

/** Network input size in pixels (height and width are multiples of the model stride). */
export interface NetSize {
  width: number;
  height: number;
}

export type Precision = 'fp32' | 'fp16' | 'int8';

export interface BackendInfo {
  /** Backend family, e.g. "onnxruntime" or "tensorrt". */
  name: string;
  /** What actually executes, measured from a real run: e.g. "cpu", "cuda:0", "Orin (sm87)". */
  device: string;
  precision: Precision;
  /** Engine-specific detail for logs: execution provider, TensorRT version, engine file. */
  detail: string;
}

/**
 * Raw network outputs for one frame, owned by the backend and valid until the next `run`.
 * Tensors are float32 NCHW with N = 1; the manifest's output slices say which channels mean what.
 */
export interface NetOutputs {
  tensors: Record<string, Float32Array>;
  /** Map size (net size / stride). */
  mapWidth: number;
  mapHeight: number;
}

export interface InferenceBackend {
  readonly info: BackendInfo;
  /**
   * Prepares the model for every size in `sizes` (e.g. a scale ladder): sessions, engines and
   * buffers are created here so that switching between these sizes at run time costs nothing.
   * `modelPath` is the located, verified model file.
   */
  load(manifest: ModelManifest, modelPath: string, sizes: NetSize[]): Promise<void>;
  /** The float32 NCHW input buffer for `size` that the caller fills before `run` (backend-owned, reused). */
  input(size: NetSize): Float32Array;
  /** Runs one frame whose input was written into `input(size)`. Outputs are reused across calls. */
  run(size: NetSize): Promise<NetOutputs>;
  dispose(): Promise<void>;
}

/** Thrown when a backend cannot be used at all (library missing, engine missing); the message says why and how to fix it. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

/** Thrown when the network's real output shapes disagree with the manifest. */
export class OutputShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputShapeError';
  }
}
