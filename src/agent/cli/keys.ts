// `pafcast keys generate`: the Ed25519 key pair for signed remote config.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSigningKeys } from '../remote/signing.js';
import { cliError, parseCommandArgs } from './common.js';

const USAGE = `usage: pafcast keys generate [--out DIR] [--name NAME] [--force]

Writes NAME.key (private, PKCS#8 PEM, mode 0600) and NAME.pub (public, SPKI PEM) into DIR.
Copy NAME.pub to each device and set remote.public_key to its path; keep NAME.key on the
machine that runs \`pafcast remote set --key NAME.key\`, never on a device.

options:
      --out DIR    where to write (default: current directory)
      --name NAME  file name stem (default: pafcast-remote)
      --force      overwrite existing files
  -h, --help       this text
`;

export async function command(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'keys',
    argv,
    {
      out: { type: 'string', default: '.' },
      name: { type: 'string', default: 'pafcast-remote' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (!parsed) return 2;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals[0] !== 'generate' || parsed.positionals.length > 1) return cliError('keys', `expected "generate"\n\n${USAGE}`, 2);
  const { out, name, force } = parsed.values;
  if (!/^[A-Za-z0-9._-]+$/.test(name!)) return cliError('keys', `--name "${name}": letters, digits, ".", "_" and "-" only`, 2);
  const dir = resolve(out!);
  const privatePath = join(dir, `${name}.key`);
  const publicPath = join(dir, `${name}.pub`);
  const taken = [privatePath, publicPath].filter((p) => existsSync(p));
  if (taken.length && !force) return cliError('keys', `${taken.join(' and ')} already exist; pass --force to replace them`, 1);
  try {
    mkdirSync(dir, { recursive: true });
    const { privateKeyPem, publicKeyPem } = generateSigningKeys();
    // Created fresh with its mode (a mode only applies to a new file): a private key must never
    // be readable by others, not even briefly.
    for (const p of taken) rmSync(p);
    writeFileSync(privatePath, privateKeyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicPath, publicKeyPem, { mode: 0o644, flag: 'wx' });
  } catch (e) {
    return cliError('keys', (e as Error).message, 1);
  }
  process.stdout.write(`private key: ${privatePath}\npublic key:  ${publicPath}\n`);
  return 0;
}
