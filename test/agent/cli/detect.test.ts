import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/agent-process.js';
import { repoRoot, sharedPath } from '../../support/shared.js';

const run = promisify(execFile);
const bin = join(repoRoot, 'bin', 'pafcast.js');

interface Golden {
  image: string;
  max_people: number;
  people: Array<{ who: string; neck: [number, number]; tolerance: number }>;
}

interface DetectLine {
  source: string;
  width: number;
  height: number;
  model: string;
  net: { width: number; height: number };
  timing_ms: Record<string, number>;
  people: Array<{ score: number; pose_keypoints_2d: number[] }>;
}

async function detect(args: string[]): Promise<{ code: number; lines: DetectLine[]; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'detect', ...args], { maxBuffer: 1 << 24 });
    return { code: 0, lines: parse(stdout), stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, lines: parse(err.stdout), stderr: err.stderr };
  }
}

const parse = (out: string): DetectLine[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DetectLine);

const goldenDir = join(repoRoot, 'test', 'fixtures', 'golden');
const goldens: Golden[] = readdirSync(goldenDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(goldenDir, f), 'utf8')) as Golden);

beforeAll(() => ensureBuilt());

describe('pafcast detect', () => {
  it('finds every clearly visible person in the golden images (default model and height)', async () => {
    const { code, lines } = await detect(goldens.map((g) => sharedPath('media', 'images', g.image)));
    expect(code).toBe(0);
    expect(lines).toHaveLength(goldens.length);
    for (const g of goldens) {
      const line = lines.find((l) => l.source.endsWith(g.image))!;
      expect(line.model).toBe('lightweight-openpose-coco18');
      expect(line.net.height).toBe(256);
      expect(line.people.length, `${g.image}: people reported`).toBeLessThanOrEqual(g.max_people);
      const used = new Set<number>();
      for (const want of g.people) {
        const match = line.people.findIndex((p, i) => {
          const [x, y, c] = p.pose_keypoints_2d.slice(3, 6) as [number, number, number];
          return !used.has(i) && c > 0 && Math.hypot(x - want.neck[0], y - want.neck[1]) <= want.tolerance;
        });
        expect(match, `${g.image}: ${want.who}`).toBeGreaterThanOrEqual(0);
        used.add(match);
      }
    }
  });

  it('prints the documented line: 18 parts × (x, y, c) in source pixels, missing parts 0,0,0, timings', async () => {
    const { lines } = await detect([sharedPath('media', 'images', 'ski.jpg')]);
    const line = lines[0]!;
    expect(Object.keys(line)).toEqual(['source', 'width', 'height', 'model', 'net', 'timing_ms', 'people']);
    expect([line.width, line.height]).toEqual([712, 674]);
    expect(Object.keys(line.timing_ms)).toEqual(['preprocess_ms', 'inference_ms', 'parse_ms']);
    for (const p of line.people) {
      expect(p.pose_keypoints_2d).toHaveLength(18 * 3);
      for (let i = 0; i < 54; i += 3) {
        const [x, y, c] = p.pose_keypoints_2d.slice(i, i + 3) as [number, number, number];
        if (c === 0) expect([x, y]).toEqual([0, 0]);
        else {
          expect(x).toBeGreaterThanOrEqual(-1);
          expect(x).toBeLessThanOrEqual(line.width);
          expect(y).toBeGreaterThanOrEqual(-1);
          expect(y).toBeLessThanOrEqual(line.height);
        }
      }
    }
  });

  it('writes OpenPose-format JSON and rendered images', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pafcast-detect-'));
    const { code, lines } = await detect(['--write-json', out, '--render', out, sharedPath('media', 'images', 'p1.jpg')]);
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(join(out, 'p1_keypoints.json'), 'utf8')) as { version: number; people: Array<Record<string, unknown>> };
    expect(doc.version).toBe(1.3);
    expect(doc.people).toHaveLength(lines[0]!.people.length);
    expect(doc.people[0]).toMatchObject({ person_id: [-1], face_keypoints_2d: [], hand_left_keypoints_2d: [], pose_keypoints_3d: [] });
    expect(doc.people[0]!.pose_keypoints_2d).toEqual(lines[0]!.people[0]!.pose_keypoints_2d);
    expect(readdirSync(out)).toContain('p1_rendered.png');
  });

  it('one unreadable image gets one error line and does not stop the batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-bad-'));
    writeFileSync(join(dir, 'broken.jpg'), 'this is not a JPEG');
    const { code, lines, stderr } = await detect([join(dir, 'broken.jpg'), sharedPath('media', 'images', 'p1.jpg')]);
    expect(code).toBe(1);
    expect(lines.map((l) => l.source)).toEqual([sharedPath('media', 'images', 'p1.jpg')]);
    const errors = stderr.split('\n').filter((l) => l.startsWith('pafcast detect:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('cannot read image');
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a corrupt model file fails with where it looked and the expected sha256, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-model-'));
    writeFileSync(join(dir, 'lightweight-openpose-coco18.onnx'), 'garbage');
    // The search path is isolated to the corrupt copy by pointing HOME-independent sources elsewhere.
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'models', 'lightweight-openpose-coco18.json'), 'utf8')) as Record<string, unknown>;
    manifest.file = 'only-here.onnx';
    writeFileSync(join(dir, 'only-here.onnx'), 'garbage');
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ ...manifest, $schema: undefined }));
    const { code, stderr } = await detect(['--model', join(dir, 'm.json'), '--model-path', dir, sharedPath('media', 'images', 'p1.jpg')]);
    expect(code).toBe(1);
    expect(stderr).toContain('not found or corrupt');
    expect(stderr).toContain(`wrong file: ${join(dir, 'only-here.onnx')}`);
    expect(stderr).toContain('expected sha256 44f4a4890c76dec1c9fffadfffd4f9f9fcfb5cf3aace9b83266289dc0d4d7791');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a manifest whose tensor layout does not match the network is named in one clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-layout-'));
    const m = JSON.parse(readFileSync(join(repoRoot, 'models', 'lightweight-openpose-coco18.json'), 'utf8')) as {
      name: string; keypoints: string[]; outputs: { heatmaps: { channels: number } }; background_channel: number; coco17: number[];
      limbs: Array<{ from: string; to: string; paf: { x: number; y: number } }>; $schema?: string;
    };
    // A 17-part layout (no left ear) pointed at the 18-part network.
    m.name = 'wrong-layout';
    delete m.$schema;
    m.keypoints = m.keypoints.slice(0, 17);
    m.outputs.heatmaps.channels = 18;
    m.background_channel = 17;
    m.limbs = m.limbs.filter((l) => l.from !== 'l_ear' && l.to !== 'l_ear');
    m.coco17 = m.coco17.map((k) => Math.min(k, 16));
    const pafs = (m.outputs as unknown as { pafs: { channels: number } }).pafs;
    pafs.channels = 2 * m.limbs.length;
    m.limbs.forEach((l, i) => (l.paf = { x: 2 * i, y: 2 * i + 1 }));
    writeFileSync(join(dir, 'wrong.json'), JSON.stringify(m));
    const { code, stderr } = await detect(['--model', join(dir, 'wrong.json'), sharedPath('media', 'images', 'p1.jpg')]);
    expect(code).toBe(1);
    const errors = stderr.split('\n').filter((l) => l.startsWith('pafcast detect:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/wrong-layout.*outputs do not match the manifest/);
  });

  it('rejects bad options with exit code 2', async () => {
    expect((await detect([])).code).toBe(2);
    expect((await detect(['--height', '250', sharedPath('media', 'images', 'p1.jpg')])).stderr).toMatch(/multiple of 8/);
    const bad = await detect(['--backend', 'cuda', sharedPath('media', 'images', 'p1.jpg')]);
    expect(bad.stderr).toContain('--backend must be auto, tensorrt, onnxruntime');
  });
});

