import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNvpmodelQuery, PowerModeReader, type RunCommand } from '../../src/telemetry/power-mode.js';
import { jetsonDir } from './paths.js';

/** The `=== ` blocks of shared/jetson/nvpmodel.txt: output lines only. */
function recordedBlocks(): string[] {
  const text = readFileSync(join(jetsonDir, 'nvpmodel.txt'), 'utf8');
  return text
    .split(/^=== .*$/m)
    .slice(1)
    .map((b) => b.replace(/^\n/, ''));
}

describe('nvpmodel -q', () => {
  it('parses every recorded output', () => {
    expect(recordedBlocks().map(parseNvpmodelQuery)).toEqual([
      { name: '5W', id: 1 }, // Nano without root: NVPM ERROR lines follow
      { name: '5W', id: 1 },
      { name: 'MAXN', id: null }, // AGX Xavier: fan-mode line first, no id line posted
      { name: 'MAXN_SUPER', id: 2 },
      { name: 'MAXN', id: 0 },
    ]);
  });

  it('null for output without a power mode line', () => {
    expect(parseNvpmodelQuery('NVPM ERROR: something\n')).toBeNull();
    expect(parseNvpmodelQuery('')).toBeNull();
  });

  it('asks nvpmodel once per refresh period', async () => {
    let t = 0;
    const calls: string[][] = [];
    const run: RunCommand = async (file, args) => {
      calls.push([file, ...args]);
      return calls.length === 1 ? 'NV Power Mode: MAXN_SUPER\n2\n' : 'NV Power Mode: 15W\n0\n';
    };
    const reader = new PowerModeReader(60_000, () => t, run);
    expect(await reader.read()).toEqual({ name: 'MAXN_SUPER', id: 2 });
    t = 59_999;
    expect(await reader.read()).toEqual({ name: 'MAXN_SUPER', id: 2 });
    expect(calls).toEqual([['nvpmodel', '-q']]);
    t = 60_000;
    expect(await reader.read()).toEqual({ name: '15W', id: 0 });
    expect(calls).toHaveLength(2);
  });

  it('stops asking when nvpmodel is not installed', async () => {
    let calls = 0;
    const run: RunCommand = async () => {
      calls++;
      throw Object.assign(new Error('spawn nvpmodel ENOENT'), { code: 'ENOENT' });
    };
    let t = 0;
    const reader = new PowerModeReader(1_000, () => t, run);
    expect(await reader.read()).toBeNull();
    t = 10_000;
    expect(await reader.read()).toBeNull();
    expect(calls).toBe(1);
  });
});
