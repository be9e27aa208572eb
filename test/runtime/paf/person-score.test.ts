import { describe, expect, it } from 'vitest';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';
import { PafParser } from '../../../src/runtime/paf/parser.js';
import { coverageScore, openposeScore, personScores } from '../../../src/runtime/paf/person-score.js';
import { renderSyntheticMaps, standingSkeleton } from '../../../src/runtime/synthetic.js';

const coco = layoutOf(loadManifest('lightweight-openpose-coco18'));
const evidence = { peakSum: 9, parts: 12, limbSum: 10.5, limbs: 11, numParts: 18 };

describe('person scores', () => {
  it('coverage is the mean peak confidence times the share of parts found', () => {
    expect(coverageScore(evidence)).toBeCloseTo((9 / 12) * (12 / 18), 12);
  });
  it('openpose is the sum of peak and limb scores', () => {
    expect(openposeScore(evidence)).toBe(19.5);
    expect(personScores.openpose).toBe(openposeScore);
  });
  it('the parser ranks with coverage by default and with the function it is given', () => {
    const whole = standingSkeleton(coco, 20, 2, 30);
    const maps = renderSyntheticMaps(coco, 40, 36, [whole]);
    expect(new PafParser(coco, coco.manifest.parser).parse(maps).scores[0]).toBeCloseTo(1, 3);
    const parser = new PafParser(coco, coco.manifest.parser, { personScore: openposeScore });
    // 18 peaks of height 1 and 17 limbs that agree fully with their field, less the overlaps.
    const s = parser.parse(maps).scores[0]!;
    expect(s).toBeGreaterThan(18 + 17 * 0.9);
    expect(s).toBeLessThanOrEqual(18 + 17 + 1e-3);
    parser.setPersonScore(() => 7);
    expect(parser.parse(maps).scores[0]).toBe(7);
  });
});
