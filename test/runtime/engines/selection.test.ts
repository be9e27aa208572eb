import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ladderSizes } from '../../../src/runtime/engines/ladder.js';
import { scanEngines } from '../../../src/runtime/engines/sidecar.js';
import { chooseEngine, judgeEngine } from '../../../src/runtime/engines/selection.js';
import { manifest, orinJp51, tempDir, writeEngine } from './fixtures.js';

const ladder = ladderSizes([160, 224, 256, 320, 368], 16 / 9, 8);
const want = { manifest, identity: orinJp51, precision: 'fp16' as const, sizes: ladder };

async function entriesOf(dir: string) {
  return (await scanEngines([dir])).entries;
}

describe('engine selection and staleness', () => {
  it('takes the engine matching TensorRT, GPU, precision, model and ladder', async () => {
    const dir = await tempDir();
    const sc = await writeEngine(dir);
    const choice = chooseEngine(await entriesOf(dir), want, '16:9');
    expect(choice.engine?.enginePath).toBe(join(dir, sc.engine));
    expect(choice.fix).toBeNull();
  });

  it('never needs a new engine because the running height changed inside the ladder', async () => {
    const dir = await tempDir();
    await writeEngine(dir);
    for (const h of [160, 224, 320, 368]) {
      const choice = chooseEngine(await entriesOf(dir), { ...want, sizes: ladderSizes([h], 16 / 9, 8) }, '16:9');
      expect(choice.engine, `height ${h}`).not.toBeNull();
    }
  });

  it('calls an engine stale when the model file changed', async () => {
    const dir = await tempDir();
    await writeEngine(dir, { model: { name: manifest.name, sha256: 'ab'.repeat(32), file: manifest.file! } });
    const [entry] = await entriesOf(dir);
    const verdict = judgeEngine(entry, want);
    expect(verdict).toEqual({ status: 'stale', reason: expect.stringMatching(/model changed: built from sha256 abababababab/) });
  });

  it('calls an engine stale when TensorRT was upgraded', async () => {
    const dir = await tempDir();
    await writeEngine(dir, { identity: { ...orinJp51, tensorrt: '8.5.1' } });
    const [entry] = await entriesOf(dir);
    expect(judgeEngine(entry, want)).toEqual({ status: 'stale', reason: 'TensorRT changed: built with 8.5.1, running 8.5.2' });
  });

  it('calls an engine stale when the ladder leaves its profile, and says which sizes', async () => {
    const dir = await tempDir();
    await writeEngine(dir);
    const [entry] = await entriesOf(dir);
    const verdict = judgeEngine(entry, { ...want, sizes: ladderSizes([160, 448], 16 / 9, 8) });
    expect(verdict.status).toBe('stale');
    expect(verdict.status === 'stale' && verdict.reason).toContain('448x800 not in 160x288 .. 368x656');
  });

  it('does not take engines of another GPU or precision, or a sidecar without its engine', async () => {
    const dir = await tempDir();
    await writeEngine(dir, { identity: { tensorrt: '8.5.2', gpu: { name: 'Xavier', computeCapability: '7.2' } } });
    await writeEngine(dir, { precision: 'fp32' });
    const entries = await entriesOf(dir);
    expect(entries.map((e) => judgeEngine(e, want).status).sort()).toEqual(['other-target', 'other-target']);

    const bare = await tempDir();
    await writeEngine(bare, {}, false);
    const [orphan] = await entriesOf(bare);
    expect(judgeEngine(orphan, want).status).toBe('missing-file');
  });

  it('prefers the newest usable engine', async () => {
    const a = await tempDir();
    const b = await tempDir();
    await writeEngine(a, { built_at: '2026-01-01T00:00:00.000Z' });
    await writeEngine(b, { built_at: '2026-03-01T00:00:00.000Z' });
    const choice = chooseEngine([...(await entriesOf(a)), ...(await entriesOf(b))], want, '16:9');
    expect(choice.engine?.dir).toBe(b);
  });

  it('says how to build an engine when none fits, listing why each was rejected', async () => {
    const dir = await tempDir();
    await writeEngine(dir, { identity: { ...orinJp51, tensorrt: '8.4.1' } });
    const choice = chooseEngine(await entriesOf(dir), want, '16:9');
    expect(choice.engine).toBeNull();
    expect(choice.rejected).toHaveLength(1);
    expect(choice.rejected[0]).toMatch(/stale: TensorRT changed/);
    expect(choice.fix).toBe(
      'no usable engine for lightweight-openpose-coco18 for TensorRT 8.5.2 on Orin (sm87), fp16; build one with: ' +
        'pafcast engines build --model lightweight-openpose-coco18 --heights 160,224,256,320,368 --precision fp16 --aspect 16:9',
    );
    const empty = chooseEngine([], want, '16:9');
    expect(empty.fix).toMatch(/^no engine built for lightweight-openpose-coco18/);
  });

  it('skips unreadable sidecars and missing directories, reporting them', async () => {
    const dir = await tempDir();
    await writeEngine(dir);
    await writeFile(join(dir, 'broken.json'), '{');
    await writeFile(join(dir, 'other.json'), '{"hello": 1}');
    await mkdir(join(dir, 'sub'));
    const { entries, skipped } = await scanEngines([join(dir, 'does-not-exist'), dir]);
    expect(entries).toHaveLength(1);
    expect(skipped).toHaveLength(2);
    expect(skipped.join('\n')).toMatch(/other\.json: not a pafcast engine sidecar/);
  });
});
