// selectBackend with the real parts: the real addon loader (no addon is built in CI) and the real
// onnxruntime backend on the small shared model, so the fallback path is exercised end to end.

import { describe, expect, it } from 'vitest';
import type { InferenceConfig } from '../../../src/runtime/backends/config-schema.js';
import { selectBackend } from '../../../src/runtime/backends/select.js';
import { ladderSizes } from '../../../src/runtime/engines/ladder.js';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { locateModel } from '../../../src/runtime/model-locator.js';
import { tempDir } from '../engines/fixtures.js';

describe('selectBackend with onnxruntime', () => {
  it('auto falls back to a loaded, runnable onnxruntime backend and logs one line with the measured time', async () => {
    const manifest = loadManifest('mobilenet-v2-small-coco18');
    const modelPath = await locateModel(manifest);
    const sizes = ladderSizes([160, 224], 16 / 9, 8);
    const inference: InferenceConfig = {
      model: manifest.name, model_path: [], height: 0, backend: 'auto',
      onnxruntime: { providers: ['cpu'], threads: 1 }, tensorrt: { engine_dir: '', precision: 'fp16' }, parser: {},
    };
    const lines: string[] = [];
    const { backend, reason } = await selectBackend({
      inference, manifest, modelPath, sizes, engineDirs: [await tempDir()], log: (level, msg) => lines.push(`${level}: ${msg}`),
    });
    try {
      expect(backend.info.name).toBe('onnxruntime');
      expect(lines.filter((l) => l.includes('inference backend:'))).toEqual([`warn: ${reason}`]);
      // Which addon problem is reported depends on the checkout; either way the reason names it.
      expect(reason).toMatch(/auto: TensorRT not used: (TensorRT addon not built|TensorRT addon .* does not load|TensorRT addon loads but reports no GPU|no engine built)/);
      expect(reason).toMatch(/inference at 224x400: \d+(\.\d)? ms$/);
      const out = await backend.run(sizes[0]);
      expect(out.mapHeight).toBe(20);
      expect(out.mapWidth).toBe(36);
    } finally {
      await backend.dispose();
    }
  });
});
