import { describe, expect, it } from 'vitest';
import { numpySum } from '../../../src/runtime/eval/numpy-sum.js';

describe('numpySum', () => {
  it('adds in numpy\'s pairwise order, not left to right', () => {
    const v = [1e16, 1, -1e16, 1, 0, 0, 0, 0, 0];
    expect(v.reduce((a, b) => a + b, 0)).toBe(1); // left to right loses the first 1
    expect(numpySum(v)).toBe(0); // numpy: (1e16 + 1) + (-1e16 + 1) = 0, as np.sum gives
    expect(numpySum([0.1, 0.2, 0.3])).toBe(0.1 + 0.2 + 0.3);
  });
});
