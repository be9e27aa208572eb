import { describe, expect, it } from 'vitest';
import { layoutOf, listManifests, loadManifest, type ModelLayout } from '../../src/runtime/manifest.js';
import { partIndex, randomSkeletons, renderSyntheticMaps, seededRandom, standingSkeleton } from '../../src/runtime/synthetic.js';

const layouts: ModelLayout[] = listManifests().map((n) => layoutOf(loadManifest(n)));
const byName = (name: string) => layouts.find((l) => l.manifest.name === name)!;

describe('renderSyntheticMaps', () => {
  const layout = byName('lightweight-openpose-coco18');
  const W = 40, H = 30;

  it('puts a Gaussian peak of height v at each present part and nothing for missing parts', () => {
    const s = standingSkeleton(layout, 20, 2, 24);
    const neck = partIndex(layout, 'neck'), nose = partIndex(layout, 'nose');
    s[neck * 3] = 12; s[neck * 3 + 1] = 9; s[neck * 3 + 2] = 0.7;
    s[nose * 3 + 2] = 0;
    const maps = renderSyntheticMaps(layout, W, H, [s], { sigma: 1 });
    const at = (k: number, x: number, y: number) => maps.heatmaps[k * W * H + y * W + x]!;
    expect(at(neck, 12, 9)).toBeCloseTo(0.7, 6);
    expect(at(neck, 13, 9)).toBeCloseTo(0.7 * Math.exp(-0.5), 6);
    let noseMax = 0;
    for (let i = 0; i < W * H; i++) noseMax = Math.max(noseMax, maps.heatmaps[nose * W * H + i]!);
    expect(noseMax).toBe(0);
  });

  it('combines overlapping peaks by max, and background is 1 − max of the parts', () => {
    const a = standingSkeleton(layout, 15, 2, 24), b = standingSkeleton(layout, 16, 2, 24);
    const maps = renderSyntheticMaps(layout, W, H, [a, b]);
    const neck = partIndex(layout, 'neck');
    const i = Math.round(a[neck * 3 + 1]!) * W + 15;
    const single = renderSyntheticMaps(layout, W, H, [a]).heatmaps[neck * W * H + i]!;
    expect(maps.heatmaps[neck * W * H + i]).toBeCloseTo(Math.max(single, renderSyntheticMaps(layout, W, H, [b]).heatmaps[neck * W * H + i]!), 6);
    for (let c = 0; c < W * H; c += 37) {
      let max = 0;
      for (let k = 0; k < layout.numParts; k++) max = Math.max(max, maps.heatmaps[k * W * H + c]!);
      expect(maps.heatmaps[layout.manifest.background_channel! * W * H + c]).toBeCloseTo(1 - max, 6);
    }
  });

  it('writes unit vectors along a limb into its x and y channels, averaged where limbs overlap', () => {
    const s = new Float32Array(layout.numParts * 3);
    const neck = partIndex(layout, 'neck'), hip = partIndex(layout, 'r_hip');
    s.set([10, 5, 1], neck * 3);
    s.set([16, 13, 1], hip * 3); // direction (0.6, 0.8)
    const limb = layout.manifest.limbs.findIndex((l) => l.from === 'neck' && l.to === 'r_hip');
    const cx = layout.pafX[limb]! * W * H, cy = layout.pafY[limb]! * W * H;
    const one = renderSyntheticMaps(layout, W, H, [s]);
    expect(one.pafs[cx + 9 * W + 13]).toBeCloseTo(0.6, 6);
    expect(one.pafs[cy + 9 * W + 13]).toBeCloseTo(0.8, 6);
    expect(one.pafs[cx + 25 * W + 30]).toBe(0);
    // The same limb pointing the other way (hip above neck) over the same cells: the average is 0.
    const r = new Float32Array(s);
    r.set([16, 13, 1], neck * 3);
    r.set([10, 5, 1], hip * 3);
    const both = renderSyntheticMaps(layout, W, H, [s, r]);
    expect(both.pafs[cx + 9 * W + 13]).toBeCloseTo(0, 6);
    expect(both.pafs[cy + 9 * W + 13]).toBeCloseTo(0, 6);
  });

  it('honours y-first PAF channels (trt_pose)', () => {
    const trt = byName('trt-pose-resnet18-att-224');
    const s = new Float32Array(trt.numParts * 3);
    const neck = partIndex(trt, 'neck'), hip = partIndex(trt, 'left_hip');
    s.set([10, 5, 1], neck * 3);
    s.set([10, 15, 1], hip * 3); // straight down: (0, 1)
    const limb = trt.manifest.limbs.findIndex((l) => l.from === 'neck' && l.to === 'left_hip');
    expect(trt.pafY[limb]).toBeLessThan(trt.pafX[limb]!); // y is stored first
    const maps = renderSyntheticMaps(trt, W, H, [s]);
    expect(maps.pafs[trt.pafY[limb]! * W * H + 10 * W + 10]).toBeCloseTo(1, 6);
    expect(maps.pafs[trt.pafX[limb]! * W * H + 10 * W + 10]).toBeCloseTo(0, 6);
  });

  it('lays BODY_25 heatmaps and PAFs into one tensor at the manifest offsets', () => {
    const b25 = byName('openpose-body25');
    const maps = renderSyntheticMaps(b25, W, H, randomSkeletons(b25, 2, W, H, 3));
    expect(Object.keys(maps.tensors)).toEqual(['net_output']);
    expect(maps.heatmaps).toBe(maps.pafs);
    expect(maps.pafOffset).toBe(26);
    expect(maps.heatmaps.length).toBe(78 * W * H);
  });

  it('rejects a skeleton of the wrong size', () => {
    expect(() => renderSyntheticMaps(layout, W, H, [new Float32Array(10)])).toThrow(/K × 3/);
  });
});

describe('randomSkeletons', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const layout = byName('openpose-body25');
    expect(randomSkeletons(layout, 5, 57, 32, 9)).toEqual(randomSkeletons(layout, 5, 57, 32, 9));
    expect(randomSkeletons(layout, 5, 57, 32, 9)).not.toEqual(randomSkeletons(layout, 5, 57, 32, 10));
    const r = seededRandom(4);
    const v = [r(), r(), r()];
    expect(new Set(v).size).toBe(3);
    for (const x of v) expect(x >= 0 && x < 1).toBe(true);
  });

  for (const layout of layouts)
    it(`makes people that fit the map, do not overlap and have no degenerate limbs (${layout.manifest.name})`, () => {
      for (const count of [1, 6, 40]) {
        const W = 57, H = 32;
        const people = randomSkeletons(layout, count, W, H, count);
        expect(people).toHaveLength(count);
        const boxes = people.map((s) => {
          let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
          for (let k = 0; k < layout.numParts; k++) {
            const x = s[k * 3]!, y = s[k * 3 + 1]!;
            expect(s[k * 3 + 2]).toBe(1);
            expect(x >= 0 && x <= W - 1 && y >= 0 && y <= H - 1).toBe(true);
            x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
          }
          for (let l = 0; l < layout.numLimbs; l++) {
            const a = layout.limbA[l]!, b = layout.limbB[l]!;
            const len = Math.hypot(s[a * 3]! - s[b * 3]!, s[a * 3 + 1]! - s[b * 3 + 1]!);
            expect(len).toBeGreaterThan(0.01 * (y1 - y0));
          }
          return [x0, y0, x1, y1] as const;
        });
        for (let i = 0; i < count; i++)
          for (let j = i + 1; j < count; j++) {
            const a = boxes[i]!, b = boxes[j]!;
            expect(a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1]).toBe(true);
          }
      }
    });
});
