// Ed25519 signatures over the exact bytes of a config update.
//
// The signed message travels as a JSON *string* inside an envelope:
//   { "payload": "{\"request_id\":\"r1\",\"version\":7,\"device\":\"cam1\",\"patch\":{...}}",
//     "signature": "<base64 Ed25519 signature over the UTF-8 bytes of that string>" }
// so the verifier checks the very bytes the signer produced: no canonical JSON form is needed,
// and whitespace or key order in the patch cannot make two parties disagree about what was signed.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SignedEnvelope {
  payload: string;
  signature: string;
}

/** What the signer vouches for. `device` binds the update to one device, so it cannot be replayed to another. */
export interface SignedUpdate {
  request_id: string;
  version: number;
  device?: string;
  patch: Record<string, unknown>;
}

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new KeyError(`cannot read key file ${path}: ${(e as Error).message}`);
  }
}

function requireEd25519(key: KeyObject, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KeyError(`${path} holds a ${key.asymmetricKeyType ?? 'symmetric'} key; an Ed25519 key is required`);
  return key;
}

export function loadPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readKeyFile(path));
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`${path} is not a PEM public key: ${(e as Error).message}`);
  }
  return requireEd25519(key, path);
}

export function loadPrivateKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readKeyFile(path));
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`${path} is not a PEM private key: ${(e as Error).message}`);
  }
  return requireEd25519(key, path);
}

export function generateSigningKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Serialises and signs an update; the result is the MQTT message body. */
export function signUpdate(privateKey: KeyObject, update: SignedUpdate): string {
  const payload = JSON.stringify(update);
  // Ed25519 hashes internally: node requires `null` as the digest algorithm.
  const signature = sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64');
  const envelope: SignedEnvelope = { payload, signature };
  return JSON.stringify(envelope);
}

/** True when `signature` (base64) is a valid Ed25519 signature of the UTF-8 bytes of `payload`. */
export function verifyPayload(publicKey: KeyObject, payload: string, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const raw = Buffer.from(signature, 'base64');
  if (raw.length !== 64) return false;
  try {
    return verify(null, Buffer.from(payload, 'utf8'), publicKey, raw);
  } catch {
    return false;
  }
}
