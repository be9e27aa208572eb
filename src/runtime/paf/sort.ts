// Allocation-free ordering of indices by a score, best first. Heapsort: O(n log n) with no
// recursion and no comparator closure (TypedArray#sort with a comparator copies its input).
// Ties are broken by the smaller index first, so the order is a total one and results do not
// depend on the sorting algorithm.

/** True when item `a` must come after item `b` (lower key, or equal key and larger index). */
function after(keys: Float64Array, a: number, b: number): boolean {
  const ka = keys[a]!, kb = keys[b]!;
  return ka < kb || (ka === kb && a > b);
}

/** Sorts `items[0..n)` (indices into `keys`) by descending key in place; returns the steps taken. */
export function sortByKeyDescending(items: Int32Array, keys: Float64Array, n: number): number {
  let steps = 0;
  // Build a heap whose root is the item that must come last, then move roots to the end.
  for (let start = (n >> 1) - 1; start >= 0; start--) steps += siftDown(items, keys, start, n);
  for (let end = n - 1; end > 0; end--) {
    const t = items[0]!;
    items[0] = items[end]!;
    items[end] = t;
    steps += siftDown(items, keys, 0, end);
  }
  return steps;
}

function siftDown(items: Int32Array, keys: Float64Array, root: number, n: number): number {
  let steps = 1;
  const item = items[root]!;
  let i = root;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && after(keys, items[child + 1]!, items[child]!)) child++;
    if (!after(keys, items[child]!, item)) break;
    items[i] = items[child]!;
    i = child;
    steps++;
  }
  items[i] = item;
  return steps;
}

/**
 * A max-heap of indices ordered by `keys` (best first, ties to the smaller index), over a
 * caller-owned buffer. Used as the frontier while growing a person.
 */
export class IndexHeap {
  items: Int32Array;
  size = 0;
  /** Heap steps since the last `clear`, for the parser's work counter. */
  steps = 0;

  constructor(capacity: number) {
    this.items = new Int32Array(capacity);
  }

  /** Empties the heap and makes room for `capacity` pushes without reallocating. */
  reset(capacity: number): void {
    if (this.items.length < capacity) this.items = new Int32Array(Math.max(capacity, this.items.length * 2));
    this.size = 0;
    this.steps = 0;
  }

  push(keys: Float64Array, item: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!after(keys, items[parent]!, item)) break;
      items[i] = items[parent]!;
      i = parent;
      this.steps++;
    }
    items[i] = item;
  }

  /** Removes and returns the best item; the heap must not be empty. */
  pop(keys: Float64Array): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    if (this.size > 0) {
      let i = 0;
      const n = this.size;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && after(keys, items[child]!, items[child + 1]!)) child++;
        if (!after(keys, last, items[child]!)) break;
        items[i] = items[child]!;
        i = child;
        this.steps++;
      }
      items[i] = last;
    }
    return top;
  }
}
