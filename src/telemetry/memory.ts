// Memory from /proc/meminfo. On Jetson the iGPU allocates from the same DRAM, so MemAvailable is the
// number that predicts trouble for both CPU and GPU work. Read directly rather than through
// systeminformation.mem() so the procfs root is configurable for recorded board trees.

export interface MemoryInfo {
  totalBytes: number;
  availableBytes: number;
  usedBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

/** Parses /proc/meminfo ("Key:   123 kB" lines); null when MemTotal is missing. */
export function parseMeminfo(text: string): MemoryInfo | null {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1], Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) return null;
  // Kernels before 3.14 lack MemAvailable; free + reclaimable caches is the usual estimate.
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return {
    totalBytes: total * 1024,
    availableBytes: available * 1024,
    usedBytes: (total - available) * 1024,
    swapTotalBytes: (kb.get('SwapTotal') ?? 0) * 1024,
    swapFreeBytes: (kb.get('SwapFree') ?? 0) * 1024,
  };
}
