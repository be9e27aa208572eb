import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createConfigUpdateHandler, type UpdateResult } from '../../../src/agent/remote/config-updates.js';
import { signUpdate } from '../../../src/agent/remote/signing.js';
import { applyTestConfig, initialConfig, makeDevice, quietLog, validateTestConfig, type TestConfig, type TestDevice } from './fixture.js';

const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');

function handlerFor(device: TestDevice, publicKey?: KeyObject, extra: { deviceId?: string; maxBytes?: number } = {}) {
  const warnings: object[] = [];
  const handler = createConfigUpdateHandler<TestConfig>({
    loadCurrent: device.current,
    validate: validateTestConfig,
    apply: applyTestConfig,
    store: device.store,
    publicKey,
    deviceId: extra.deviceId,
    maxBytes: extra.maxBytes ?? 4096,
    log: { info: () => {}, warn: (obj) => warnings.push(obj) },
  });
  return { handler, warnings };
}

const msg = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const signed = (update: { request_id: string; version: number; device?: string; patch: Record<string, unknown> }, key = keys.privateKey) =>
  Buffer.from(signUpdate(key, update));

describe('unsigned updates (no public key configured)', () => {
  it('applies a valid patch, persists it and says what applied live', async () => {
    const device = makeDevice();
    const { handler } = handlerFor(device);
    const result = await handler.handle(msg({ request_id: 'r1', patch: { parser: { threshold: 0.3 }, mqtt: { url: 'mqtt://other' } } }));
    expect(result).toEqual({ request_id: 'r1', ok: true, errors: [], applied: ['parser.threshold'], restart_required: ['mqtt.url'] });
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

    const good = JSON.parse(signUpdate(keys.privateKey, { request_id: 'b2', version: 2, patch: { parser: { threshold: 0.2 } } })) as { payload: string; signature: string };
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
      maxBytes: 4096,
      log: quietLog,
    });
    const result = await handler.handle(msg({ request_id: 'f1', patch: { preview: { enabled: true } } }));
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
