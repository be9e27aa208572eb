// Secrets never leave the device: the retained `config` topic and logs get a copy with them masked.

import { isJsonObject } from './merge-patch.js';

export const REDACTED = '***';

/**
 * A deep copy of `config` with the value at each dotted path (e.g. "mqtt.password") replaced by
 * "***". Empty strings stay empty, so a reader can still tell "no password" from "a password".
 */
export function redactSecrets<T>(config: T, secretPaths: readonly string[]): T {
  const copy = structuredClone(config);
  for (const path of secretPaths) {
    const keys = path.split('.');
    let node: unknown = copy;
    for (const key of keys.slice(0, -1)) node = isJsonObject(node) ? node[key] : undefined;
    const leaf = keys[keys.length - 1];
    if (isJsonObject(node) && Object.hasOwn(node, leaf) && node[leaf] !== '' && node[leaf] !== null) node[leaf] = REDACTED;
  }
  return copy;
}
