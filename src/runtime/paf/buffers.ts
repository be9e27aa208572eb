// Growing typed arrays: scratch buffers are reused across frames and reallocated only when a frame
// needs more room than any frame before it (then doubled, so a growing scene reallocates rarely).

export function grownCapacity(current: number, needed: number): number {
  let c = Math.max(current, 16);
  while (c < needed) c *= 2;
  return c;
}

export function growFloat32(a: Float32Array, needed: number, keep = 0): Float32Array {
  if (a.length >= needed) return a;
  const b = new Float32Array(grownCapacity(a.length, needed));
  if (keep > 0) b.set(a.subarray(0, keep));
  return b;
}

export function growFloat64(a: Float64Array, needed: number, keep = 0): Float64Array {
  if (a.length >= needed) return a;
  const b = new Float64Array(grownCapacity(a.length, needed));
  if (keep > 0) b.set(a.subarray(0, keep));
  return b;
}

export function growInt32(a: Int32Array, needed: number, keep = 0): Int32Array {
  if (a.length >= needed) return a;
  const b = new Int32Array(grownCapacity(a.length, needed));
  if (keep > 0) b.set(a.subarray(0, keep));
  return b;
}
