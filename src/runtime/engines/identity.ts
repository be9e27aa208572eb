// What an engine is tied to: a serialised TensorRT engine only deserialises under the TensorRT
// version that built it, on a GPU of the same model (compute capability). This module names that pair
// and reads it from the places that know it: the addon at run time, trtexec's log at build time.

/** The TensorRT runtime + GPU an engine is built for or running on. */
export interface TrtIdentity {
  /** "major.minor.patch", e.g. "8.5.2". */
  tensorrt: string;
  gpu: {
    /** CUDA device name, e.g. "Orin", "Xavier", "NVIDIA Tegra X2". */
    name: string;
    /** e.g. "8.7" (Orin), "7.2" (Xavier), "6.2" (TX2). */
    computeCapability: string;
  };
}

/**
 * Decodes TensorRT's packed version number, as `getInferLibVersion()` returns it and trtexec prints it
 * (`[TensorRT v8201]`): 8.x packs M*1000+m*100+p (8502), 10.x packs M*10000+m*100+p (100300).
 */
export function decodeTrtVersion(packed: number): string {
  const major = packed >= 10000 ? Math.floor(packed / 10000) : Math.floor(packed / 1000);
  const minor = packed >= 10000 ? Math.floor(packed / 100) % 100 : Math.floor(packed / 100) % 10;
  return `${major}.${minor}.${packed % 100}`;
}

/** Lower-case, dash-separated form of a GPU name for file names: "NVIDIA Tegra X2" -> "nvidia-tegra-x2". */
export function gpuSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'gpu';
}

/** Same engine compatibility: same TensorRT release and the same GPU model. */
export function sameIdentity(a: TrtIdentity, b: TrtIdentity): boolean {
  return a.tensorrt === b.tensorrt && a.gpu.computeCapability === b.gpu.computeCapability && gpuSlug(a.gpu.name) === gpuSlug(b.gpu.name);
}

export function describeIdentity(id: TrtIdentity): string {
  return `TensorRT ${id.tensorrt} on ${id.gpu.name} (sm${id.gpu.computeCapability.replace('.', '')})`;
}

/**
 * Reads the identity from a trtexec log. trtexec prints `Selected Device: Orin`, `Compute Capability: 8.7`
 * under "=== Device Information ===", and its version as `TensorRT version: 10.16.2` (newer releases) and
 * in the `&&&& RUNNING/PASSED TensorRT.trtexec [TensorRT v8201]` banner (all releases).
 * Returns null when any part is missing.
 */
export function identityFromTrtexecLog(log: string): TrtIdentity | null {
  const device = /Selected Device:\s*(.+?)\s*$/m.exec(log)?.[1];
  const cc = /Compute Capability:\s*(\d+\.\d+)/.exec(log)?.[1];
  const plain = /TensorRT version:\s*(\d+\.\d+\.\d+)/.exec(log)?.[1];
  const banner = /\[TensorRT v(\d+)\]/.exec(log)?.[1];
  const tensorrt = plain ?? (banner ? decodeTrtVersion(Number(banner)) : undefined);
  if (!device || !cc || !tensorrt) return null;
  return { tensorrt, gpu: { name: device, computeCapability: cc } };
}
