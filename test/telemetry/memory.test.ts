import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMeminfo } from '../../src/telemetry/memory.js';
import { boardRoot } from './paths.js';

describe('parseMeminfo', () => {
  // RAM used/total and SWAP from the tegrastats line each tree was built from.
  const cases: Array<[string, number, number, number, number]> = [
    ['tx2-jp46', 7852, 2344, 3926, 0],
    ['xavier-jp51', 6834, 1650, 3417, 441],
    ['orin-nano-jp6', 7620, 6185, 3810, 851],
    ['agx-orin-jp5', 62801, 4321, 31400, 19],
    ['agx-orin-jp6', 62841, 17953, 31420, 0],
  ];
  it.each(cases)('%s: total %i MB, used %i MB, swap %i MB (%i used)', (board, totalMB, usedMB, swapMB, swapUsedMB) => {
    const m = parseMeminfo(readFileSync(join(boardRoot(board), 'proc/meminfo'), 'utf8'))!;
    const MB = 1024 * 1024;
    expect(m.totalBytes).toBe(totalMB * MB);
    expect(m.usedBytes).toBe(usedMB * MB);
    expect(m.availableBytes).toBe((totalMB - usedMB) * MB);
    expect(m.swapTotalBytes).toBe(swapMB * MB);
    expect(m.swapTotalBytes - m.swapFreeBytes).toBe(swapUsedMB * MB);
  });

  it('estimates available memory on kernels without MemAvailable; null without MemTotal', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n')!;
    expect(m.availableBytes).toBe(400 * 1024);
    expect(m.usedBytes).toBe(600 * 1024);
    expect(parseMeminfo('MemFree: 1 kB\n')).toBeNull();
  });
});
