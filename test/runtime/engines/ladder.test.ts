import { describe, expect, it } from 'vitest';
import { placeSource } from '../../../src/runtime/preprocess.js';
import { aspectLabel, ladderSizes, parseAspect, profileForLadder, sizesOutsideProfile, widthFor } from '../../../src/runtime/engines/ladder.js';

describe('ladder', () => {
  it('derives widths from the aspect, rounded to the stride', () => {
    const sizes = ladderSizes([368, 160, 224, 256, 320], parseAspect('16:9'), 8);
    expect(sizes).toEqual([
      { height: 160, width: 288 },
      { height: 224, width: 400 },
      { height: 256, width: 456 },
      { height: 320, width: 576 }, // 568.9 px of image: 568 would crop it
      { height: 368, width: 656 },
    ]);
    expect(widthFor(240, 4 / 3, 8)).toBe(320);
  });

  it('rejects heights that are not multiples of the stride, and bad aspects', () => {
    expect(() => ladderSizes([250], 16 / 9, 8)).toThrow(/multiple of the stride 8/);
    expect(() => ladderSizes([], 16 / 9, 8)).toThrow(/at least one/);
    expect(() => parseAspect('wide')).toThrow(/W:H/);
    expect(parseAspect('4:3')).toBeCloseTo(4 / 3);
    expect(parseAspect('1.5')).toBe(1.5);
  });

  it('spans the ladder with one profile tuned for the start height', () => {
    const sizes = ladderSizes([160, 224, 256, 320, 368], 16 / 9, 8);
    expect(profileForLadder(sizes, 256)).toEqual({ min: [1, 3, 160, 288], opt: [1, 3, 256, 456], max: [1, 3, 368, 656] });
    // A start height between rungs takes the nearest rung.
    expect(profileForLadder(sizes, 300).opt).toEqual([1, 3, 320, 576]);
  });

  it('finds sizes outside a profile', () => {
    const profile = { min: [1, 3, 160, 288], opt: [1, 3, 256, 456], max: [1, 3, 368, 656] };
    expect(sizesOutsideProfile(ladderSizes([160, 368], 16 / 9, 8), profile)).toEqual([]);
    expect(sizesOutsideProfile(ladderSizes([160, 448], 16 / 9, 8), profile)).toEqual([{ height: 448, width: 800 }]);
    // 4:3 at 160 is narrower than the 16:9 profile allows.
    expect(sizesOutsideProfile(ladderSizes([160], 4 / 3, 8), profile)).toEqual([{ height: 160, width: 216 }]);
  });

  it('names the aspect of a ladder', () => {
    expect(aspectLabel(ladderSizes([160, 368], 16 / 9, 8), 8)).toBe('16:9');
    expect(aspectLabel(ladderSizes([240, 480], 4 / 3, 8), 8)).toBe('4:3');
    expect(aspectLabel([{ height: 256, width: 1024 }], 8)).toBe('4.000');
  });

  it('gives exactly the net sizes the preprocessor will ask for, so a profile always contains them', () => {
    for (const [w, h] of [[1280, 720], [640, 480], [1920, 1080], [720, 1280], [1024, 1024], [2592, 1944]] as const)
      for (const height of [160, 224, 256, 320, 368]) {
        const expected = placeSource(w, h, height, 8);
        expect(widthFor(height, w / h, 8), `${w}x${h} @${height}`).toBe(expected.width);
      }
  });
});
