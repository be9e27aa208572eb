import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/agent/cli/models.js';

const sharedModels = resolve(import.meta.dirname, '../../../../shared/models');
let dest: string;
beforeEach(() => {
  dest = mkdtempSync(join(tmpdir(), 'pafcast-models-cli-'));
});
afterEach(() => rmSync(dest, { recursive: true, force: true }));

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    return { code: await command(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('pafcast models', () => {
  it('fetch installs a verified file, then reports it up to date; list sees it', async () => {
    const first = await run(['fetch', 'mobilenet-v2-small-coco18', '--from', sharedModels, '--dir', dest]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^mobilenet-v2-small-coco18: installed .*mobilenet-v2-small-coco18\.onnx \(sha256 verified, from /);
    expect(readFileSync(join(dest, 'mobilenet-v2-small-coco18.onnx')).equals(readFileSync(join(sharedModels, 'mobilenet-v2-small-coco18.onnx')))).toBe(true);

    const again = await run(['fetch', 'mobilenet-v2-small-coco18', '--from', sharedModels, '--dir', dest]);
    expect(again.stdout).toMatch(/up to date/);

    const list = await run(['list', '--dir', dest]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/mobilenet-v2-small-coco18 {2}mobilenet-v2-small-coco18\.onnx {2}\d+ bytes {2}present/);
    expect(list.stdout).toMatch(/lightweight-openpose-coco18 .* missing/);
    expect(list.stdout).toMatch(/openpose-body25 {2}layout only/);
  });

  it('exits non-zero with one clear line for an unknown model, a missing source or bad usage', async () => {
    const unknown = await run(['fetch', 'no-such-model', '--dir', dest]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown model "no-such-model"; known models: /);

    const noUrl = await run(['fetch', 'mobilenet-v2-small-coco18', '--dir', dest]);
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toMatch(/names no download URL .*pass --from URL\|DIR/);

    const missing = await run(['fetch', 'mobilenet-v2-small-coco18', '--from', dest, '--dir', join(dest, 'out')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);

    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['fetch', '--retries', 'many'])).stderr).toMatch(/--retries must be a non-negative integer/);
    expect(statSync(dest).isDirectory()).toBe(true);
  });
});
