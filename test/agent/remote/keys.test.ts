import { sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/agent/cli/keys.js';
import { loadPrivateKey, loadPublicKey } from '../../../src/agent/remote/signing.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pafcast-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    return { code: await command(args), stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('pafcast keys generate', () => {
  it('writes a matching Ed25519 pair, the private key readable only by its owner', async () => {
    expect((await run(['generate', '--out', dir])).code).toBe(0);
    const priv = join(dir, 'pafcast-remote.key');
    const pub = join(dir, 'pafcast-remote.pub');
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    const signature = sign(null, Buffer.from('hello'), loadPrivateKey(priv));
    expect(verify(null, Buffer.from('hello'), loadPublicKey(pub), signature)).toBe(true);
    expect(readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('refuses to overwrite without --force, and replaces both with it', async () => {
    expect((await run(['generate', '--out', dir])).code).toBe(0);
    const before = readFileSync(join(dir, 'pafcast-remote.key'));
    const refused = await run(['generate', '--out', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exist; pass --force/);
    expect(readFileSync(join(dir, 'pafcast-remote.key'))).toEqual(before);
    expect((await run(['generate', '--out', dir, '--force'])).code).toBe(0);
    expect(readFileSync(join(dir, 'pafcast-remote.key'))).not.toEqual(before);
    expect(statSync(join(dir, 'pafcast-remote.key')).mode & 0o777).toBe(0o600);
  });

  it('loaders reject files that are not Ed25519 keys', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(join(dir, 'rsa.pub'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'junk.key'), 'not a key');
    expect(() => loadPublicKey(join(dir, 'rsa.pub'))).toThrow(/holds a rsa key; an Ed25519 key is required/);
    expect(() => loadPrivateKey(join(dir, 'junk.key'))).toThrow(/is not a PEM private key/);
    expect(() => loadPublicKey(join(dir, 'missing.pub'))).toThrow(/cannot read key file/);
  });
});
