import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // @roamhq/wrtc crashes vitest's worker threads; child processes are safe.
    pool: 'forks',
    // 2-core CI: onnxruntime already uses both cores, parallel files only fight over them.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
