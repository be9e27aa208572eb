import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigStore } from '../../../src/agent/remote/config-store.js';
import { describe, expect, it } from 'vitest';
import { createConfigUpdateHandler, type UpdateResult } from '../../../src/agent/remote/config-updates.js';
import { signUpdate } from '../../../src/agent/remote/signing.js';
import { applyTestConfig, initialConfig, makeDevice, quietLog, validateTestConfig, type TestConfig, type TestDevice } from './fixture.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');

interface Extra {
  deviceId?: string;
  maxBytes?: number;
  allowUnsigned?: boolean;
  checkPolicy?: (prev: TestConfig, next: TestConfig, signed: boolean) => string[];
  startupProblem?: string;
}

function handlerFor(device: TestDevice, publicKey?: KeyObject, extra: Extra = {}) {
  const warnings: object[] = [];
  const inner = createConfigUpdateHandler<TestConfig>({
    loadCurrent: device.current,
    validate: validateTestConfig,
    apply: applyTestConfig,
    checkPolicy: extra.checkPolicy,
    store: device.store,
    publicKey,
    allowUnsigned: extra.allowUnsigned ?? true,
    startupProblem: extra.startupProblem,
    deviceId: extra.deviceId ?? 'cam1',
    maxBytes: extra.maxBytes ?? 4096,
    log: { info: () => {}, warn: (obj) => warnings.push(obj) },
  });
  const handler = { handle: async (payload: Buffer): Promise<UpdateResult> => (await inner.handle(payload)).result };
  return { handler, warnings };
}

const msg = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const signed = (update: { request_id: string; version: number; device?: string; patch: Record<string, unknown> }, key = keys.privateKey) =>
  Buffer.from(signUpdate(key, { device: 'cam1', ...update }));

describe('unsigned updates (no public key configured)', () => {
  it('applies a valid patch, persists it and says what applied live', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device);
    const result = await handler.handle(msg({ request_id: 'r1', patch: { parser: { threshold: 0.3 }, mqtt: { url: 'mqtt://other' } } }));
    expect(result).toEqual({ request_id: 'r1', ok: true, errors: [], applied: ['parser.threshold'], restarted: [], restart_required: ['mqtt.url'] });
    expect(device.current().parser.threshold).toBe(0.3);
    expect(device.current().mqtt.url).toBe('mqtt://other');
  });

  const rejected: Array<[string, Buffer, RegExp, string | null]> = [
    ['malformed JSON', msg('{"request_id": "r2", "patch": {'), /not valid JSON/, null],
    ['not an object', msg('[1,2]'), /must be a JSON object \(got array\)/, null],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /not valid UTF-8/, null],
    ['wrong type in patch', msg({ request_id: 'r3', patch: { parser: { threshold: 'high' } } }), /\/parser\/threshold/, 'r3'],
    ['out of bounds', msg({ request_id: 'r4', patch: { parser: { threshold: 7 } } }), /\/parser\/threshold/, 'r4'],
    ['unknown key in patch', msg({ request_id: 'r5', patch: { parser: { treshold: 0.2 } } }), /treshold/, 'r5'],
    ['prototype key in patch', msg('{"request_id": "r6", "patch": {"__proto__": {"x": 1}}}'), /__proto__/, 'r6'],
    ['unknown top-level key', msg({ request_id: 'r7', patch: {}, sudo: true }), /unknown key "sudo"/, 'r7'],
    ['patch not an object', msg({ request_id: 'r8', patch: [1] }), /message\.patch: must be a JSON object \(got array\)/, 'r8'],
    ['missing request_id', msg({ patch: {} }), /missing "request_id"/, null],
    ['bad request_id', msg({ request_id: 'has space', patch: {} }), /request_id/, null],
    ['oversized', msg({ request_id: 'r9', patch: { mqtt: { password: 'x'.repeat(5000) } } }), /too large: \d+ bytes, the limit is 4096/, null],
  ];
  it.each(rejected)('rejects %s with a clear error and leaves the file byte-identical', async (_what, payload, error, requestId) => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const { handler, warnings } = handlerFor(device);
    const result = await handler.handle(payload);
    expect(result.ok).toBe(false);
    expect(result.request_id).toBe(requestId);
    expect(result.errors.join('\n')).toMatch(error);
    expect(result.applied).toEqual([]);
    expect(readFileSync(device.store.configPath)).toEqual(before);
    expect(warnings).toHaveLength(1);
  });

  it('refuses a signed envelope when it cannot check it', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device);
    const result = await handler.handle(signed({ request_id: 's1', version: 1, patch: {} }));
    expect(result.errors[0]).toMatch(/no public key configured/);
  });
});

describe('signed updates (public key configured)', () => {
  it('applies a correctly signed update and records its version', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device, keys.publicKey, { deviceId: 'cam1' });
    const result = await handler.handle(signed({ request_id: 's1', version: 5, device: 'cam1', patch: { preview: { enabled: true } } }));
    expect(result).toMatchObject({ request_id: 's1', ok: true, applied: ['preview.enabled'] });
    expect(device.store.readState()).toEqual({ last_version: 5 });
  });

  async function expectRejected(device: TestDevice, result: UpdateResult, error: RegExp, before: Buffer) {
    expect(result.ok).toBe(false);
    expect(result.errors.join('\n')).toMatch(error);
    expect(readFileSync(device.store.configPath)).toEqual(before);
  }

  it('rejects a missing signature', async () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const { handler } = handlerFor(device, keys.publicKey);
    await expectRejected(device, await handler.handle(msg({ request_id: 'u1', patch: { preview: { enabled: true } } })), /missing signature/, before);
  });

  it('rejects a signature by another key, and a payload changed after signing', async () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const { handler } = handlerFor(device, keys.publicKey);
    const foreign = await handler.handle(signed({ request_id: 'b1', version: 1, patch: { preview: { enabled: true } } }, otherKeys.privateKey));
    await expectRejected(device, foreign, /bad signature/, before);
    expect(foreign.request_id).toBe('b1');

    const good = JSON.parse(signUpdate(keys.privateKey, { request_id: 'b2', version: 2, device: 'cam1', patch: { parser: { threshold: 0.2 } } })) as { payload: string; signature: string };
    // Same JSON meaning, different bytes: still not what was signed.
    const tampered = { payload: good.payload.replace('0.2', '0.20'), signature: good.signature };
    await expectRejected(device, await handler.handle(msg(tampered)), /bad signature/, before);
    await expectRejected(device, await handler.handle(msg({ payload: good.payload, signature: 'bm90IGEgc2lnbmF0dXJl' })), /bad signature/, before);
  });

  it('rejects a replayed or stale version, also after a restart', async () => {
    const device = makeDevice();
    const first = signed({ request_id: 'v1', version: 10, patch: { parser: { max_people: 3 } } });
    expect((await handlerFor(device, keys.publicKey).handler.handle(first)).ok).toBe(true);
    const before = readFileSync(device.store.configPath);
    // A fresh handler over the same store stands for the restarted agent.
    const { handler } = handlerFor(device, keys.publicKey);
    await expectRejected(device, await handler.handle(first), /replayed or stale version 10: the last applied version is 10/, before);
    await expectRejected(device, await handler.handle(signed({ request_id: 'v0', version: 9, patch: {} })), /stale version 9/, before);
    expect((await handler.handle(signed({ request_id: 'v2', version: 11, patch: {} }))).ok).toBe(true);
  });

  it('rejects an update signed for another device', async () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const { handler } = handlerFor(device, keys.publicKey, { deviceId: 'cam1' });
    await expectRejected(device, await handler.handle(signed({ request_id: 'd1', version: 1, device: 'cam2', patch: {} })), /for device "cam2", this is "cam1"/, before);
    expect(device.store.readState()).toEqual({ last_version: 0 });
  });

  it('does not spend the version of an update that fails validation', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device, keys.publicKey);
    expect((await handler.handle(signed({ request_id: 'x1', version: 3, patch: { parser: { threshold: -1 } } }))).ok).toBe(false);
    expect(device.store.readState()).toEqual({ last_version: 0 });
  });
});

describe('apply failures and ordering', () => {
  it('restores the previous config when applying fails', async () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const handler = createConfigUpdateHandler<TestConfig>({
      loadCurrent: device.current,
      validate: validateTestConfig,
      apply: async () => {
        throw new Error('camera busy');
      },
      store: device.store,
      allowUnsigned: true,
      maxBytes: 4096,
      log: quietLog,
    });
    const { result } = await handler.handle(msg({ request_id: 'f1', patch: { preview: { enabled: true } } }));
    expect(result).toMatchObject({ ok: false, request_id: 'f1' });
    expect(result.errors[0]).toMatch(/previous config restored: camera busy/);
    expect(readFileSync(device.store.configPath)).toEqual(before);
  });

  it('handles concurrent requests one after the other', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device);
    const results = await Promise.all([
      handler.handle(msg({ request_id: 'c1', patch: { parser: { threshold: 0.5 } } })),
      handler.handle(msg({ request_id: 'c2', patch: { parser: { max_people: 4 } } })),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(device.current().parser).toEqual({ threshold: 0.5, max_people: 4 });
    expect(initialConfig.parser.threshold).toBe(0.1);
  });
});

describe('what a device refuses before anything is written', () => {
  it('refuses every update, with the way to enable it, when it has no key and unsigned updates are not allowed', async () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const { handler } = handlerFor(device, undefined, { allowUnsigned: false });
    const unsignedResult = await handler.handle(msg({ request_id: 'n1', patch: { parser: { threshold: 0.3 } } }));
    expect(unsignedResult).toMatchObject({ ok: false, request_id: 'n1' });
    expect(unsignedResult.errors[0]).toMatch(/remote\.public_key.*remote\.allow_unsigned: true/);
    const signedResult = await handler.handle(signed({ request_id: 'n2', version: 1, patch: {} }));
    expect(signedResult).toMatchObject({ ok: false, request_id: 'n2' });
    expect(readFileSync(device.store.configPath)).toEqual(before);
  });

  it('refuses keys the policy keeps local or behind a signature, naming them, with both files untouched', async () => {
    const device = makeDevice();
    const before = readFileSync(device.store.configPath);
    const checkPolicy = (prev: TestConfig, next: TestConfig, isSigned: boolean) => [
      ...(prev.mqtt.password !== next.mqtt.password ? ['mqtt.password: may only be changed in the local config file'] : []),
      ...(prev.mqtt.url !== next.mqtt.url && !isSigned ? ['mqtt.url: needs a signed update'] : []),
    ];
    const open = handlerFor(device, undefined, { checkPolicy }).handler;
    const r1 = await open.handle(msg({ request_id: 'p1', patch: { mqtt: { url: 'mqtt://evil' } } }));
    expect(r1).toMatchObject({ ok: false, request_id: 'p1', errors: ['mqtt.url: needs a signed update'] });
    const locked = handlerFor(device, keys.publicKey, { checkPolicy }).handler;
    const r2 = await locked.handle(signed({ request_id: 'p2', version: 4, patch: { mqtt: { password: 'x' }, parser: { threshold: 0.4 } } }));
    expect(r2).toMatchObject({ ok: false, request_id: 'p2', errors: ['mqtt.password: may only be changed in the local config file'] });
    expect(readFileSync(device.store.configPath)).toEqual(before);
    expect(existsSync(device.store.statePath)).toBe(false);
    // The signed url change is allowed.
    expect((await locked.handle(signed({ request_id: 'p3', version: 5, patch: { mqtt: { url: 'mqtt://new' } } }))).ok).toBe(true);
  });

  it('requires the device id inside a signed payload', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device, keys.publicKey);
    const noDevice = Buffer.from(signUpdate(keys.privateKey, { request_id: 'd9', version: 1, patch: {} }));
    const result = await handler.handle(noDevice);
    expect(result).toMatchObject({ ok: false, request_id: 'd9' });
    expect(result.errors.join()).toMatch(/missing "device"/);
  });

  it('answers a hostile nesting depth or a prototype key with the request id, never an internal error', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device);
    const deep = `{"request_id":"deep","patch":${'{"a":'.repeat(7000)}1${'}'.repeat(7000)}}`;
    const big = handlerFor(device, undefined, { maxBytes: 1 << 20 }).handler;
    const r1 = await big.handle(msg(deep));
    expect(r1).toMatchObject({ ok: false, request_id: 'deep' });
    expect(r1.errors[0]).toMatch(/nested deeper than 16 levels/);
    const r2 = await handler.handle(msg('{"request_id":"pr","patch":{"parser":{"__proto__":{"threshold":0.9}}}}'));
    expect(r2).toMatchObject({ ok: false, request_id: 'pr' });
    expect(r2.errors[0]).toMatch(/"__proto__" is not allowed/);
  });

  it('writes nothing when the version cannot be recorded, and says so again on a resend (it was never applied)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-remote-'));
    const store = createConfigStore({ configPath: join(dir, 'config.json'), statePath: join(dir, 'missing-dir', 'state.json') });
    writeFileSync(store.configPath, `${JSON.stringify(initialConfig, null, 2)}\n`);
    const before = readFileSync(store.configPath);
    const device: TestDevice = { dir, store, current: () => JSON.parse(store.readConfigBytes()!.toString('utf8')) as TestConfig };
    const { handler } = handlerFor(device, keys.publicKey);
    const update = signed({ request_id: 'st1', version: 7, patch: { parser: { threshold: 0.7 } } });
    for (let i = 0; i < 2; i++) {
      const result = await handler.handle(update);
      expect(result).toMatchObject({ ok: false, request_id: 'st1' });
      expect(result.errors[0]).toMatch(/cannot record version 7 .*nothing was changed/);
      expect(readFileSync(store.configPath)).toEqual(before);
    }
  });

  it('rejects every request with a problem found at start', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device, keys.publicKey, { startupProblem: 'cannot create the directory of remote.state_file /x' });
    const result = await handler.handle(signed({ request_id: 'sp', version: 1, patch: {} }));
    expect(result).toMatchObject({ ok: false, request_id: 'sp' });
    expect(result.errors[0]).toMatch(/cannot create the directory.*nothing was changed/);
  });
});
