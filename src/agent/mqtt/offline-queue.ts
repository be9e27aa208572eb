// A bounded FIFO for messages published while the broker is away. When full, the oldest message
// is dropped so the newest survive (a pose from a minute ago is worth less than one from now),
// and every drop is counted for `stats`. A ring buffer keeps push and drain O(1) per message.

export class OfflineQueue<T> {
  private slots: (T | undefined)[];
  private head = 0;
  private count = 0;
  private droppedTotal = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  get capacity(): number {
    return this.slots.length;
  }

  get size(): number {
    return this.count;
  }

  /** Messages dropped since creation because the queue was full. */
  get dropped(): number {
    return this.droppedTotal;
  }

  push(item: T): void {
    const cap = this.slots.length;
    if (this.count === cap) {
      // Full: overwrite the oldest slot and move the head past it.
      this.slots[this.head] = item;
      this.head = (this.head + 1) % cap;
      this.droppedTotal++;
      return;
    }
    this.slots[(this.head + this.count) % cap] = item;
    this.count++;
  }

  /** Removes and returns every message, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    const cap = this.slots.length;
    for (let i = 0; i < this.count; i++) {
      const idx = (this.head + i) % cap;
      out.push(this.slots[idx] as T);
      this.slots[idx] = undefined;
    }
    this.head = 0;
    this.count = 0;
    return out;
  }

  /** Changes the capacity live, keeping the newest messages (and counting the rest as dropped). */
  resize(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    const kept = this.drain();
    const excess = Math.max(0, kept.length - capacity);
    this.droppedTotal += excess;
    this.slots = new Array<T | undefined>(capacity);
    for (const item of kept.slice(excess)) this.push(item);
  }
}
