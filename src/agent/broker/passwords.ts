// Broker users and Mosquitto's password file format, which both engines read.
// A line is `user:$6$<salt>$<hash>` (SHA-512 over password + salt, Mosquitto 1.5+) or
// `user:$7$<iterations>$<salt>$<hash>` (PBKDF2-HMAC-SHA512, Mosquitto 2.0+, what `mosquitto_passwd`
// writes); salt 12 bytes and hash 64 bytes, both base64. pafcast writes these itself instead of
// running `mosquitto_passwd -b`, which would put the password on a command line others can read.

import { createHash, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { AGENT_USERNAME, type BrokerConfig } from './config-schema.js';

const pbkdf2Async = promisify(pbkdf2);

const SALT_BYTES = 12;
const HASH_BYTES = 64;
/** PBKDF2 rounds for the hashes pafcast writes: 1000 cost ~1 ms per login on a Jetson Nano core, 10x mosquitto_passwd's 101. */
export const PBKDF2_ITERATIONS = 1000;
/** A $7$ line asking for more than this would let a password file stall every login. */
const MAX_ITERATIONS = 1_000_000;

export type MosquittoHash = { type: 6; salt: Buffer; hash: Buffer } | { type: 7; iterations: number; salt: Buffer; hash: Buffer };

export interface BrokerCredentials {
  username: string;
  password: string;
}

/** A user other clients may log in as: a known password, or a hash from a password file. */
export interface BrokerUser {
  username: string;
  /** Plain password (config, the agent's own); absent for password-file users. */
  password?: string;
  hash?: MosquittoHash;
  /** Where it came from, for messages. */
  source: string;
}

export function hashPassword(password: string, type: 6 | 7, salt: Buffer = randomBytes(SALT_BYTES), iterations = PBKDF2_ITERATIONS): MosquittoHash {
  const bytes = Buffer.from(password, 'utf8');
  if (type === 6) return { type, salt, hash: createHash('sha512').update(bytes).update(salt).digest() };
  return { type, iterations, salt, hash: pbkdf2Sync(bytes, salt, iterations, HASH_BYTES, 'sha512') };
}

export function formatHash(h: MosquittoHash): string {
  const tail = `${h.salt.toString('base64')}$${h.hash.toString('base64')}`;
  return h.type === 6 ? `$6$${tail}` : `$7$${h.iterations}$${tail}`;
}

/** Parses the part after `user:`; a string saying what is wrong otherwise. */
export function parseHash(text: string): MosquittoHash | string {
  const parts = text.split('$');
  // "$6$salt$hash" splits into ["", "6", salt, hash].
  if (parts[0] !== '' || (parts[1] !== '6' && parts[1] !== '7')) return 'not a $6$ or $7$ hash (plain-text passwords must be hashed: mosquitto_passwd -U FILE)';
  const type = parts[1] === '6' ? 6 : 7;
  const fields = parts.slice(2);
  if (fields.length !== (type === 6 ? 2 : 3)) return `malformed $${type}$ hash`;
  let iterations = 0;
  if (type === 7) {
    iterations = Number(fields.shift());
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) return `iterations must be 1..${MAX_ITERATIONS}`;
  }
  const [salt, hash] = fields.map((f) => Buffer.from(f, 'base64'));
  if (salt.length !== SALT_BYTES || hash.length !== HASH_BYTES) return `salt must be ${SALT_BYTES} and hash ${HASH_BYTES} bytes`;
  return type === 6 ? { type, salt, hash } : { type, iterations, salt, hash };
}

/** Whether `password` matches `h`, in constant time for equal lengths (PBKDF2 off the event loop). */
export async function verifyHash(h: MosquittoHash, password: Buffer): Promise<boolean> {
  const got = h.type === 6 ? createHash('sha512').update(password).update(h.salt).digest() : await pbkdf2Async(password, h.salt, h.iterations, HASH_BYTES, 'sha512');
  return timingSafeEqual(got, h.hash);
}

/** Constant-time comparison of a plain password (digests first, so lengths do not leak). */
export function samePassword(expected: string, given: Buffer | undefined): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

const USER_NAME = /^[^\x00-\x20\x7f:#+/]{1,64}$/;

/** The users of a password file's text; lines that cannot be used are reported, not fatal. */
export function parsePasswordFile(text: string, source: string): { users: BrokerUser[]; problems: string[] } {
  const users: BrokerUser[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const at = `${source} line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon < 0) return void problems.push(`${at}: no "user:hash"`);
    const username = line.slice(0, colon);
    if (!USER_NAME.test(username)) return void problems.push(`${at}: user name "${username}" has spaces, control characters, ':' or wildcards`);
    if (username === AGENT_USERNAME) return void problems.push(`${at}: "${AGENT_USERNAME}" is reserved for the agent's own connection; line ignored`);
    if (users.some((u) => u.username === username)) return void problems.push(`${at}: user "${username}" appears twice; the first line counts`);
    const hash = parseHash(line.slice(colon + 1));
    if (typeof hash === 'string') return void problems.push(`${at}: ${hash}`);
    users.push({ username, hash, source });
  });
  return { users, problems };
}

/** A fresh random login for the agent's own connection (one per agent start). */
export function agentCredentials(): BrokerCredentials {
  return { username: AGENT_USERNAME, password: randomBytes(24).toString('base64url') };
}

/**
 * Every user other than the agent: broker.username/password, then broker.password_file's. Throws
 * when the file cannot be read; unusable lines come back as problems.
 */
export function configuredUsers(config: BrokerConfig): { users: BrokerUser[]; problems: string[] } {
  const users: BrokerUser[] = [];
  const problems: string[] = [];
  if (config.username && config.password) users.push({ username: config.username, password: config.password, source: 'broker.username' });
  if (config.password_file) {
    let text: string;
    try {
      text = readFileSync(config.password_file, 'utf8');
    } catch (e) {
      throw new Error(`broker.password_file: cannot read ${config.password_file}: ${(e as Error).message}`);
    }
    const parsed = parsePasswordFile(text, config.password_file);
    problems.push(...parsed.problems);
    for (const u of parsed.users) {
      if (users.some((x) => x.username === u.username)) problems.push(`${config.password_file}: user "${u.username}" is broker.username already; the config's password counts`);
      else users.push(u);
    }
  }
  return { users, problems };
}
