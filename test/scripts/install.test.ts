import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeTool, installInto, layoutOf, makeSourceTree, repo, runScript } from './install-fixture.js';

let src: string;
let scratch: string;
beforeAll(() => {
  src = makeSourceTree();
  scratch = mkdtempSync(join(tmpdir(), 'pafcast-install-'));
});
afterAll(() => {
  rmSync(src, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('install.sh --root', () => {
  it('produces the expected layout, and the same one when run twice', () => {
    const root = join(scratch, 'twice');
    const first = installInto(src, root);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const layout = layoutOf(root);

    for (const path of [
      'opt/pafcast/bin/pafcast.js',
      'opt/pafcast/dist/src/agent/cli/main.js',
      'opt/pafcast/models/lightweight-openpose-coco18.json',
      'opt/pafcast/models/schema/manifest.schema.json',
      'opt/pafcast/scripts/uninstall.sh',
      'opt/pafcast/native/sd-notify/build/sd_notify.node',
      'etc/systemd/system/pafcast.service',
      'etc/pafcast/config.json',
    ])
      expect(existsSync(join(root, path)), path).toBe(true);
    expect(layout).toContain('var/lib/pafcast/models/ 750');
    expect(layout).toContain('var/lib/pafcast/trt/ 750');
    expect(layout).toContain(`opt/pafcast/node_modules -> ${join(repo, 'node_modules')}`);
    expect(layout.some((l) => l.startsWith('etc/pafcast/config.json 640 '))).toBe(true);
    expect(layout.filter((l) => /\.(new|old|tmp)\b/.test(l))).toEqual([]);

    const unit = readFileSync(join(root, 'etc/systemd/system/pafcast.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} /opt/pafcast/bin/pafcast.js run --config /etc/pafcast/config.json`);
    expect(unit).not.toMatch(/@[A-Z]+@/);

    // What needs the real system is reported, not done.
    expect(first.stdout).toMatch(/would create system group pafcast and system user pafcast .* groups pafcast, video/);
    expect(first.stdout).toMatch(/would run systemctl daemon-reload && systemctl enable pafcast.service/);
    expect(first.stdout).toMatch(/TensorRT: not a Jetson|TensorRT: headers not found|would build the TensorRT addon/);

    const second = installInto(src, root);
    expect(second.status).toBe(0);
    expect(layoutOf(root)).toEqual(layout);
  });

  it('never overwrites an existing config', () => {
    const root = join(scratch, 'keep-config');
    expect(installInto(src, root).status).toBe(0);
    const custom = '{"mqtt":{"url":"mqtt://site-broker"}}\n';
    writeFileSync(join(root, 'etc/pafcast/config.json'), custom);
    const again = installInto(src, root);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('kept existing /etc/pafcast/config.json');
    expect(readFileSync(join(root, 'etc/pafcast/config.json'), 'utf8')).toBe(custom);
  });

  it('stops before changing anything when Node is too old', () => {
    const root = join(scratch, 'old-node');
    const oldNode = fakeTool(join(scratch, 'bin-old-node'), 'node', 'echo 18.19.0');
    const r = runScript(src, 'install.sh', ['--root', root, '--node', oldNode, '--node-modules', join(repo, 'node_modules')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Node 18\.19\.0 at .* is too old: pafcast needs Node >= 20/);
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });

  it('stops with a clear message on an old or missing glibc', () => {
    const oldGlibc = join(scratch, 'bin-old-glibc');
    fakeTool(oldGlibc, 'getconf', 'echo "glibc 2.27"');
    const env = { ...process.env, PATH: `${oldGlibc}:${process.env.PATH}` };
    const root = join(scratch, 'old-glibc');
    const r = runScript(src, 'install.sh', ['--root', root, '--node', process.execPath, '--node-modules', join(repo, 'node_modules')], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/glibc 2\.27 is too old: pafcast needs glibc >= 2\.28/);
    expect(existsSync(join(root, 'opt'))).toBe(false);

    const musl = join(scratch, 'bin-musl');
    fakeTool(musl, 'getconf', 'exit 1');
    const m = runScript(src, 'install.sh', ['--root', root, '--node', process.execPath], { ...process.env, PATH: `${musl}:${dirname(process.execPath)}:/usr/bin:/bin` });
    expect(m.status).not.toBe(0);
    expect(m.stderr).toMatch(/glibc not found/);
  });

  it('refuses an unbuilt tree and bad options with a message', () => {
    const unbuilt = makeSourceTree();
    rmSync(join(unbuilt, 'dist'), { recursive: true });
    const r = installInto(unbuilt, join(scratch, 'unbuilt'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/dist is missing: run `npm ci && npm run build`/);
    rmSync(unbuilt, { recursive: true, force: true });

    expect(installInto(src, join(scratch, 'p'), ['--prefix', '/']).stderr).toMatch(/--prefix must be an absolute directory/);
    expect(installInto(src, join(scratch, 'p'), ['--frobnicate']).stderr).toMatch(/unknown option "--frobnicate"/);
  });
});

describe('uninstall.sh --root', () => {
  it('removes the app and unit, keeps config and models, and can run twice', () => {
    const root = join(scratch, 'uninstall');
    expect(installInto(src, root).status).toBe(0);
    writeFileSync(join(root, 'var/lib/pafcast/models/lightweight-openpose-coco18.onnx'), 'model bytes');
    writeFileSync(join(root, 'var/lib/pafcast/remote-config-state.json'), '{"last_version": 9}\n');
    const config = readFileSync(join(root, 'etc/pafcast/config.json'));

    const r = runScript(src, 'uninstall.sh', ['--root', root]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(root, 'opt/pafcast'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/pafcast.service'))).toBe(false);
    expect(readFileSync(join(root, 'etc/pafcast/config.json'))).toEqual(config);
    expect(readFileSync(join(root, 'var/lib/pafcast/models/lightweight-openpose-coco18.onnx'), 'utf8')).toBe('model bytes');
    expect(existsSync(join(root, 'var/lib/pafcast/remote-config-state.json'))).toBe(true);
    // The repo's node_modules the install linked to is untouched.
    expect(existsSync(join(repo, 'node_modules', 'mqtt', 'package.json'))).toBe(true);

    const again = runScript(src, 'uninstall.sh', ['--root', root]);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/removed/);
  });

  it('--purge removes config and state too', () => {
    const root = join(scratch, 'purge');
    expect(installInto(src, root).status).toBe(0);
    const r = runScript(src, 'uninstall.sh', ['--root', root, '--purge']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/would remove user pafcast and group pafcast/);
    expect(layoutOf(root).filter((l) => /pafcast/.test(l))).toEqual([]);
  });
});
