import { describe, expect, it } from 'vitest';
import { layoutOf, listManifests, loadManifest, ManifestError, parseManifest } from '../../src/runtime/manifest.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('model manifests', () => {
  it('ships the two runnable models and the two layout-only ones, all valid', () => {
    expect(listManifests()).toEqual([
      'lightweight-openpose-coco18',
      'mobilenet-v2-small-coco18',
      'openpose-body25',
      'trt-pose-resnet18-att-224',
    ]);
    for (const name of listManifests()) expect(loadManifest(name).name).toBe(name);
  });

  it('resolves limbs to part indices and PAF channels, y-first for trt_pose', () => {
    const coco = layoutOf(loadManifest('lightweight-openpose-coco18'));
    expect(coco.numParts).toBe(18);
    expect(coco.numLimbs).toBe(19);
    // limb 0: neck → r_shoulder, PAF x 12, y 13 (shared/README.md table)
    expect([coco.limbA[0], coco.limbB[0], coco.pafX[0], coco.pafY[0]]).toEqual([1, 2, 12, 13]);
    expect([...coco.redundant].filter(Boolean)).toHaveLength(2);
    const trt = layoutOf(loadManifest('trt-pose-resnet18-att-224'));
    expect(trt.numLimbs).toBe(21);
    for (let l = 0; l < trt.numLimbs; l++) expect(trt.pafY[l]).toBe(trt.pafX[l]! - 1);
    const body25 = loadManifest('openpose-body25');
    expect(body25.outputs.heatmaps.tensor).toBe(body25.outputs.pafs.tensor);
    expect(body25.outputs.pafs.offset).toBe(26);
  });

  it('rejects unknown keys, bad enums and missing fields with readable paths', () => {
    const m = clone(loadManifest('lightweight-openpose-coco18')) as unknown as Record<string, unknown>;
    m.stride_typo = 8;
    (m.input as Record<string, unknown>).colour = 'YUV';
    delete m.limbs;
    const err = (() => {
      try {
        parseManifest(m, 'bad.json');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ManifestError);
    expect(err!.message).toContain('bad.json is invalid');
    expect(err!.message).toContain('unknown key "stride_typo"');
    expect(err!.message).toContain('/input/colour: must be one of');
    expect(err!.message).toContain('missing "limbs"');
  });

  it('cross-checks names, channels and sizes the schema cannot see', () => {
    const m = clone(loadManifest('lightweight-openpose-coco18'));
    m.limbs[3]!.to = 'r_hand';
    m.limbs[4]!.paf.x = 40;
    m.limbs[5]!.paf.y = m.limbs[6]!.paf.x;
    m.input_size.default_height = 250;
    expect(() => parseManifest(m)).toThrowError(/limbs\/3\/to: "r_hand" is not a keypoint name/);
    try {
      parseManifest(m);
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('/limbs/4/paf/x: channel 40 is outside the 38 PAF channels');
      expect(msg).toMatch(/channel \d+ is used twice/);
      expect(msg).toContain('/input_size/default_height: 250 is not a multiple of the stride 8');
    }
  });

  it('names the known models when asked for an unknown one', () => {
    expect(() => loadManifest('resnet-9000')).toThrowError(/unknown model "resnet-9000"; known models: lightweight-openpose-coco18/);
  });
});
