import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConfigStore } from '../../../src/agent/remote/config-store.js';
import { initialConfig, makeDevice } from './fixture.js';

class SimulatedCrash extends Error {}

describe('config store', () => {
  it('replaces the file atomically and keeps the previous version as .prev', () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    device.store.writeConfig({ ...initialConfig, preview: { enabled: true } });
    expect(device.current().preview.enabled).toBe(true);
    expect(readFileSync(`${device.store.configPath}.prev`)).toEqual(before);
    expect(readdirSync(device.dir).sort()).toEqual(['config.json', 'config.json.prev']);
  });

  it('leaves the old, valid config when the process dies between write and rename', () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    let tempSeen = '';
    const crashing = createConfigStore({
      configPath: device.store.configPath,
      statePath: device.store.statePath,
      beforeRename: (temp) => {
        tempSeen = temp;
        throw new SimulatedCrash('power cut');
      },
    });
    expect(() => crashing.writeConfig({ ...initialConfig, preview: { enabled: true } })).toThrow(SimulatedCrash);
    // The new bytes were fully written to the temp file, the target was never touched.
    expect(JSON.parse(readFileSync(tempSeen, 'utf8')).preview.enabled).toBe(true);
    expect(readFileSync(device.store.configPath)).toEqual(before);
    expect(JSON.parse(before.toString('utf8'))).toEqual(initialConfig);

    // After "restart" the next write clears the debris.
    device.store.writeConfig(initialConfig);
    expect(readdirSync(device.dir).sort()).toEqual(['config.json', 'config.json.prev']);
  });

  it('persists the remote state and refuses a corrupt one', () => {
    const device = makeDevice();
    expect(device.store.readState()).toEqual({ last_version: 0 });
    device.store.writeState({ last_version: 17 });
    expect(device.store.readState()).toEqual({ last_version: 17 });
    writeFileSync(join(device.dir, 'state.json'), '{"last_version": "17"}');
    expect(() => device.store.readState()).toThrow(/last_version/);
  });
});

describe('config store under a real crash', () => {
  it('keeps a valid config when the writing process is SIGKILLed between write and rename', async () => {
    const { spawnSync } = await import('node:child_process');
    const ts = (await import('typescript')).default;
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    // The store has no project imports, so it can run in a plain node child once transpiled.
    const source = readFileSync(new URL('../../../src/agent/remote/config-store.ts', import.meta.url), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(device.dir, 'store.mjs'), js);
    writeFileSync(
      join(device.dir, 'crash.mjs'),
      `import { createConfigStore } from './store.mjs';
       const store = createConfigStore({ configPath: ${JSON.stringify(device.store.configPath)}, statePath: ${JSON.stringify(device.store.statePath)},
         beforeRename: () => process.kill(process.pid, 'SIGKILL') });
       store.writeConfig({ crashed: 'half-way' });`,
    );
    const child = spawnSync(process.execPath, [join(device.dir, 'crash.mjs')], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    expect(readFileSync(device.store.configPath)).toEqual(before);
    expect(readdirSync(device.dir).some((f) => f.startsWith('.config.json.tmp-'))).toBe(true);
  });
});
