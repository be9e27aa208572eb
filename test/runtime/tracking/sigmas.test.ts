import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { COCO17_SIGMAS, DEFAULT_SIGMA, sigmasFor } from '../../../src/runtime/tracking/sigmas.js';

describe('sigmasFor', () => {
  it('maps COCO sigmas through the coco17 map of every shipped layout', () => {
    for (const name of ['lightweight-openpose-coco18', 'openpose-body25', 'trt-pose-resnet18-att-224']) {
      const m = loadManifest(name);
      const s = sigmasFor(m);
      expect(s).toHaveLength(m.keypoints.length);
      m.coco17.forEach((k, i) => expect(s[k]).toBeCloseTo(COCO17_SIGMAS[i], 6));
      for (const v of s) expect(v).toBeGreaterThan(0);
    }
  });

  it('gives parts outside COCO the sigma of their nearest COCO relative', () => {
    const body25 = loadManifest('openpose-body25');
    const s = sigmasFor(body25);
    const at = (name: string) => s[body25.keypoints.indexOf(name)];
    expect(at('neck')).toBeCloseTo(0.079, 6);
    expect(at('mid_hip')).toBeCloseTo(0.107, 6);
    expect(at('l_big_toe')).toBeCloseTo(0.089, 6);
    expect(at('r_heel')).toBeCloseTo(0.089, 6);
    expect(sigmasFor({ keypoints: ['nose', 'tail'], coco17: [0] })[1]).toBeCloseTo(DEFAULT_SIGMA, 6);
  });
});
