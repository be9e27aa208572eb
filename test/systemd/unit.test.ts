// The unit as install.sh writes it, checked by systemd's own tools: `systemd-analyze verify`
// must print nothing, and `systemd-analyze security --offline=true` must rate it at <= 2.0.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeTool, installInto, makeSourceTree, repo } from '../scripts/install-fixture.js';

const UNIT = '/etc/systemd/system/pafcast.service';
const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'multi-user.target')))!;

let src: string;
let root: string;

/**
 * A scratch root holding the installed unit, the targets and slices it refers to (copied from
 * the host, as a real system has them) and a stand-in for the node binary ExecStart names.
 */
function prepareRoot(dir: string): void {
  const r = installInto(src, dir);
  if (r.status !== 0) throw new Error(`install.sh failed: ${r.stderr}`);
  mkdirSync(join(dir, 'usr/lib/systemd/system'), { recursive: true });
  for (const f of readdirSync(hostUnits).filter((f) => f.endsWith('.target') || f.endsWith('.slice')))
    cpSync(join(hostUnits, f), join(dir, 'usr/lib/systemd/system', f), { dereference: true });
  fakeTool(join(dir, dirname(process.execPath)), basename(process.execPath), 'exit 0');
  // ExecReload's /bin/kill, which every real system has (procps).
  fakeTool(join(dir, 'bin'), 'kill', 'exit 0');
}

function analyze(args: string[], dir: string) {
  const r = spawnSync('systemd-analyze', [...args, `--root=${dir}`, UNIT], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function exposure(dir: string): number {
  const r = analyze(['security', '--offline=true', '--no-pager'], dir);
  const m = /Overall exposure level for pafcast\.service: (\d+(?:\.\d+)?)/.exec(r.output);
  if (!m) throw new Error(`no exposure level in:\n${r.output}`);
  return Number(m[1]);
}

beforeAll(() => {
  src = makeSourceTree();
  root = mkdtempSync(join(tmpdir(), 'pafcast-unit-'));
  prepareRoot(root);
});
afterAll(() => {
  rmSync(src, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

describe('systemd/pafcast.service as installed', () => {
  it('passes systemd-analyze verify without a single message', () => {
    const r = analyze(['verify'], root);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('is rated at exposure <= 2.0 by systemd-analyze security --offline', () => {
    expect(exposure(root)).toBeLessThanOrEqual(2.0);
  });

  it('the checks can fail: verify complains about a missing binary, security about a bare unit', () => {
    const bare = mkdtempSync(join(tmpdir(), 'pafcast-unit-bare-'));
    try {
      prepareRoot(bare);
      rmSync(join(bare, process.execPath));
      const r = analyze(['verify'], bare);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/is not executable: No such file or directory/);

      // The same unit without its hardening block rates far worse.
      const unit = readFileSync(join(bare, UNIT), 'utf8');
      const stripped = unit.split('\n').filter((l) => /^(\[|Description|ExecStart|Type|User|Group|WantedBy)/.test(l)).join('\n');
      writeFileSync(join(bare, UNIT), `${stripped}\n`);
      expect(exposure(bare)).toBeGreaterThan(5);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('explains the hardening it cannot use instead of setting it', () => {
    const unit = readFileSync(join(repo, 'systemd/pafcast.service'), 'utf8');
    const settings = unit.split('\n').filter((l) => !l.startsWith('#'));
    for (const ruledOut of ['MemoryDenyWriteExecute=', 'PrivateUsers=', 'PrivateDevices='])
      expect(settings.some((l) => l.startsWith(ruledOut)), ruledOut).toBe(false);
    expect(unit).toMatch(/# Not MemoryDenyWriteExecute=: V8's JIT/);
    expect(unit).toMatch(/# Not PrivateUsers=: .*"video" group/);
    for (const required of ['Type=notify', 'WatchdogSec=', 'Restart=on-failure', 'DevicePolicy=closed', 'CapabilityBoundingSet=\n', 'NoNewPrivileges=yes', 'ProtectSystem=strict'])
      expect(unit).toContain(required);
  });
});
