import { describe, expect, it } from 'vitest';
import { createProgress, progressLine } from '../../../src/agent/models/progress.js';

describe('download progress', () => {
  it('formats percent and megabytes, or only megabytes when the size is unknown', () => {
    expect(progressLine('m', 8_213_527, 16_427_054)).toBe('m   50%  8.2/16.4 MB');
    expect(progressLine('m', 1_500_000, null)).toBe('m  1.5 MB');
  });

  it('rewrites one line on a terminal, at most ten times a second, and always shows completion', () => {
    const written: string[] = [];
    let now = 0;
    const p = createProgress({ isTTY: true, write: (t) => written.push(t) }, 'm', () => now);
    p.update(1, 100);
    p.update(2, 100); // same instant: skipped
    now = 150;
    p.update(3, 100);
    p.update(100, 100); // completion is shown even within 100 ms
    p.done();
    expect(written).toEqual(['\r\x1b[2Km    1%  0.0/0.0 MB', '\r\x1b[2Km    3%  0.0/0.0 MB', '\r\x1b[2Km  100%  0.0/0.0 MB', '\r\x1b[2K']);
  });

  it('writes nothing when not on a terminal', () => {
    const written: string[] = [];
    const p = createProgress({ isTTY: false, write: (t) => written.push(t) }, 'm');
    p.update(50, 100);
    p.done();
    expect(written).toEqual([]);
  });
});
