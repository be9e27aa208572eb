// install.sh's Mosquitto step, in a scratch root (nothing installed for real): it reports the
// Mosquitto it finds and whether that one speaks MQTT 5, or what it would install.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeTool, installInto, makeSourceTree, repo, runScript } from './install-fixture.js';

let src: string;
let scratch: string;
beforeAll(() => {
  src = makeSourceTree();
  scratch = mkdtempSync(join(tmpdir(), 'pafcast-install-mosquitto-'));
});
afterAll(() => {
  rmSync(src, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

function install(name: string, path: string, extra: string[] = []) {
  return runScript(src, 'install.sh', ['--root', join(scratch, name), '--node', process.execPath, '--node-modules', join(repo, 'node_modules'), ...extra], { ...process.env, PATH: path });
}

describe('install.sh: Mosquitto for the embedded MQTT 5 broker', () => {
  it('reports the installed Mosquitto and that it speaks MQTT 5', () => {
    const r = installInto(src, join(scratch, 'found'));
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Mosquitto 2\.\d+\.\d+ \(\/usr\/sbin\/mosquitto\) speaks MQTT 5 and 3\.1\.1: the embedded broker uses it/);
  });

  it('says that Ubuntu 18.04\'s Mosquitto 1.4 does not speak MQTT 5', () => {
    const bin = join(scratch, 'bin-1.4');
    fakeTool(bin, 'mosquitto', `echo 'mosquitto version 1.4.15 (build date Tue, 18 Jun 2019 11:59:34 -0300)'; exit 3`);
    const r = install('old', `${bin}:${process.env.PATH}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Mosquitto 1\.4\.15 \(.*\/bin-1\.4\/mosquitto\) does not speak MQTT 5 \(1\.6 or later does; Ubuntu 18\.04 ships 1\.4\): the embedded broker runs aedes \(MQTT 3\.1\.1 only\)/);
  });

  it('would install the distribution package when there is none, and can be told not to', () => {
    // Debian's mosquitto lives in /usr/sbin; without it on PATH there is none.
    const r = install('none', '/usr/local/bin:/usr/bin:/bin');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/would install Debian\/Ubuntu's mosquitto package \(apt-get install --no-install-recommends mosquitto\) for the embedded MQTT 5 broker, and disable the package's own mosquitto\.service/);
    const skipped = install('skipped', process.env.PATH ?? '', ['--no-mosquitto']);
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toMatch(/Mosquitto: skipped \(--no-mosquitto\); without it the embedded broker runs aedes \(MQTT 3\.1\.1 only/);
    expect(skipped.stdout).not.toMatch(/speaks MQTT 5/);
  });
});
