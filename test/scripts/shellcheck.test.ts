import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './install-fixture.js';

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('service shell scripts', () => {
  it.skipIf(!hasShellcheck)('pass shellcheck', () => {
    const scripts = ['scripts/install.sh', 'scripts/uninstall.sh', 'native/sd-notify/build.sh'].map((s) => join(repo, s));
    const r = spawnSync('shellcheck', scripts, { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
