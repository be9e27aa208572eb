import { describe, expect, it } from 'vitest';
import { OfflineQueue } from '../../../src/agent/mqtt/offline-queue.js';

describe('OfflineQueue', () => {
  it('returns messages in the order they were pushed', () => {
    const q = new OfflineQueue<number>(5);
    for (const n of [1, 2, 3]) q.push(n);
    expect(q.size).toBe(3);
    expect(q.drain()).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
    expect(q.dropped).toBe(0);
  });

  it('keeps the newest messages when full and counts the drops', () => {
    const q = new OfflineQueue<number>(3);
    for (let n = 1; n <= 10; n++) q.push(n);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(7);
    expect(q.drain()).toEqual([8, 9, 10]);
    // Wrapped-around state must keep working after a drain.
    q.push(11);
    q.push(12);
    expect(q.drain()).toEqual([11, 12]);
    expect(q.dropped).toBe(7);
  });

  it('resizes live, keeping the newest', () => {
    const q = new OfflineQueue<number>(4);
    for (let n = 1; n <= 6; n++) q.push(n); // holds 3..6, dropped 2
    q.resize(2);
    expect(q.dropped).toBe(4);
    expect(q.drain()).toEqual([5, 6]);
    q.resize(10);
    for (let n = 1; n <= 10; n++) q.push(n);
    expect(q.drain()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a capacity below one', () => {
    expect(() => new OfflineQueue(0)).toThrow(/positive integer/);
  });
});
