// `pafcast remote set|get`: change or read a device's config over MQTT.

import { readFileSync } from 'node:fs';
import { isJsonObject } from '../remote/merge-patch.js';
import { readRemoteConfig, sendConfigUpdate, type RemoteTarget } from '../remote/client.js';
import { loadPrivateKey } from '../remote/signing.js';
import { cliError, intOption, parseCommandArgs } from './common.js';

const USAGE = `usage: pafcast remote set --device ID --mqtt URL [--key FILE] [--prefix P] [options] PATCH
       pafcast remote get --device ID --mqtt URL [--prefix P] [--timeout S]

set   sends PATCH, a JSON merge patch (RFC 7396) of the device config, to
      <prefix>/<device>/config/set, signed with --key when given, waits for the answer on
      config/result and prints it. Exit 0 when the device applied it, 1 otherwise.
      PATCH is JSON text, @FILE, or - for standard input. Example:
        pafcast remote set --device cam1 --mqtt mqtt://broker --key ops.key '{"preview":{"enabled":true}}'
get   prints the device's retained <prefix>/<device>/config (secrets redacted by the device).

options:
      --device ID       device id (second topic level)
      --mqtt URL        broker: mqtt://, mqtts://, ws://, wss://
      --key FILE        Ed25519 private key (pafcast keys generate); required by devices with a public key
      --prefix P        first topic level(s) (default pafcast)
      --version N       signed version; must exceed the device's last one (default: now, in ms)
      --request-id ID   request id (default: a random UUID)
      --timeout S       seconds to wait for the answer (default 10)
      --ca FILE         CA certificate for mqtts:// brokers
  -h, --help            this text

Environment: PAFCAST_MQTT_USERNAME, PAFCAST_MQTT_PASSWORD (broker credentials).
`;

function readPatch(arg: string): Record<string, unknown> {
  const text = arg === '-' ? readFileSync(0, 'utf8') : arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg;
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (e) {
    throw new Error(`PATCH is not valid JSON: ${(e as Error).message}`);
  }
  if (!isJsonObject(patch)) throw new Error('PATCH must be a JSON object, e.g. {"preview":{"enabled":true}}');
  return patch;
}

export async function command(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'remote',
    argv,
    {
      device: { type: 'string' },
      mqtt: { type: 'string' },
      key: { type: 'string' },
      prefix: { type: 'string', default: 'pafcast' },
      version: { type: 'string' },
      'request-id': { type: 'string' },
      timeout: { type: 'string', default: '10' },
      ca: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (!parsed) return 2;
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [action, ...rest] = parsed.positionals;
  if (action !== 'set' && action !== 'get') return cliError('remote', `expected "set" or "get"\n\n${USAGE}`, 2);
  if (!v.device || !v.mqtt) return cliError('remote', `--device and --mqtt are required\n\n${USAGE}`, 2);
  if (action === 'set' && rest.length !== 1) return cliError('remote', `set takes exactly one PATCH argument\n\n${USAGE}`, 2);
  if (action === 'get' && rest.length) return cliError('remote', `get takes no PATCH\n\n${USAGE}`, 2);

  try {
    const timeoutS = intOption('--timeout', v.timeout)!;
    if (timeoutS < 1) throw new Error('--timeout must be at least 1 second');
    const target: RemoteTarget = {
      url: v.mqtt,
      prefix: v.prefix!,
      device: v.device,
      timeoutMs: timeoutS * 1000,
      username: process.env.PAFCAST_MQTT_USERNAME,
      password: process.env.PAFCAST_MQTT_PASSWORD,
      caFile: v.ca,
    };
    if (action === 'get') {
      process.stdout.write(`${JSON.stringify(await readRemoteConfig(target), null, 2)}\n`);
      return 0;
    }
    const version = intOption('--version', v.version);
    if (version !== undefined && version < 1) throw new Error('--version must be at least 1');
    if (version !== undefined && !v.key) throw new Error('--version only applies to signed updates (--key)');
    const result = await sendConfigUpdate(target, {
      patch: readPatch(rest[0]),
      privateKey: v.key ? loadPrivateKey(v.key) : undefined,
      version,
      requestId: v['request-id'],
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  } catch (e) {
    return cliError('remote', (e as Error).message, 1);
  }
}
