import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/runtime/manifest.js';
import { locateModel, ModelNotFoundError, modelSearchPath } from '../../src/runtime/model-locator.js';
import { sharedPath } from '../support/shared.js';

const manifest = loadManifest('mobilenet-v2-small-coco18');
const isolated = { PAFCAST_MODEL_PATH: '' } as NodeJS.ProcessEnv;

describe('locateModel', () => {
  it('finds and verifies the model in ../shared/models', async () => {
    const path = await locateModel(manifest, [sharedPath('models')], isolated);
    expect(path).toBe(sharedPath('models', 'mobilenet-v2-small-coco18.onnx'));
  });

  it('searches config dirs first, then $PAFCAST_MODEL_PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-models-'));
    copyFileSync(sharedPath('models', 'mobilenet-v2-small-coco18.onnx'), join(dir, 'mobilenet-v2-small-coco18.onnx'));
    expect(await locateModel(manifest, [], { PAFCAST_MODEL_PATH: dir })).toBe(join(dir, 'mobilenet-v2-small-coco18.onnx'));
    expect(modelSearchPath(['/a'], { PAFCAST_MODEL_PATH: '/b:/c' }).slice(0, 3)).toEqual(['/a', '/b', '/c']);
  });

  it('reports a corrupt file with its digest, every place searched, the expected sha and how to get it', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'pafcast-bad-'));
    writeFileSync(join(bad, manifest.file!), 'not a model');
    const m = { ...manifest, file: manifest.file!, sha256: manifest.sha256! };
    // A manifest whose file exists nowhere but in the bad dir: rename to a name absent from shared/.
    const renamed = { ...m, file: 'renamed-for-test.onnx' };
    writeFileSync(join(bad, 'renamed-for-test.onnx'), 'not a model');
    const err = await locateModel(renamed, [bad], isolated).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelNotFoundError);
    const msg = (err as Error).message;
    expect(msg).toContain(`expected sha256 ${manifest.sha256}`);
    expect(msg).toContain(`wrong file: ${join(bad, 'renamed-for-test.onnx')} has sha256 `);
    for (const dir of modelSearchPath([bad], isolated)) expect(msg).toContain(join(dir, 'renamed-for-test.onnx'));
    expect(msg).toContain('pafcast models fetch mobilenet-v2-small-coco18');
  });

  it('refuses layout-only manifests clearly', async () => {
    await expect(locateModel(loadManifest('openpose-body25'))).rejects.toThrow(/layout-only/);
  });
});
