import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configDocsPath, generateConfigDocs } from '../../../src/agent/config/docs.js';
import { leafPaths } from '../../../src/agent/config/schema.js';

describe('docs/config.md', () => {
  it('documents every key of the schema', () => {
    const text = generateConfigDocs();
    for (const p of leafPaths()) expect(text).toContain(`| \`${p}\` |`);
    expect(text).toContain('| `mqtt.qos.poses` | `0` \\| `1` \\| `2` | `0` |');
  });

  it('is up to date (regenerate: npx tsc -p . && node dist/src/agent/config/docs.js --write)', () => {
    expect(readFileSync(configDocsPath, 'utf8')).toBe(generateConfigDocs());
  });
});
