import { describe, expect, it } from 'vitest';
import { IndexHeap, sortByKeyDescending } from '../../../src/runtime/paf/sort.js';
import { seededRandom } from '../../../src/runtime/synthetic.js';

/** The order every sort must produce: descending key, ties by ascending index. */
function reference(keys: Float64Array, n: number): number[] {
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[b]! - keys[a]! || a - b);
}

describe('sortByKeyDescending', () => {
  it('orders by descending key with ties broken by index, for any size', () => {
    const random = seededRandom(11);
    for (const n of [0, 1, 2, 3, 7, 16, 100, 1000]) {
      const keys = new Float64Array(n).map(() => Math.floor(random() * 20) / 4); // many ties
      const items = new Int32Array(n + 5).map((_, i) => (i < n ? n - 1 - i : -1));
      sortByKeyDescending(items, keys, n);
      expect(Array.from(items.subarray(0, n))).toEqual(reference(keys, n));
      expect(Array.from(items.subarray(n))).toEqual([-1, -1, -1, -1, -1]); // nothing past n touched
    }
  });

  it('counts O(n log n) steps', () => {
    const n = 4096;
    const keys = new Float64Array(n).map((_, i) => (i * 7919) % n);
    const steps = sortByKeyDescending(new Int32Array(n).map((_, i) => i), keys, n);
    expect(steps).toBeLessThan(3 * n * Math.log2(n));
  });
});

describe('IndexHeap', () => {
  it('pops the best item first, ties to the smaller index', () => {
    const keys = new Float64Array([0.5, 0.9, 0.5, 0.1, 0.9, 0.7]);
    const heap = new IndexHeap(2);
    heap.reset(keys.length);
    for (const i of [3, 0, 5, 2, 4, 1]) heap.push(keys, i);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop(keys));
    expect(out).toEqual(reference(keys, keys.length));
    expect(heap.items.length).toBeGreaterThanOrEqual(keys.length);
  });
});
