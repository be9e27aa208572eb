// JSON Merge Patch (RFC 7396) and the list of leaf paths a patch changed.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own data property. Plain assignment of a key named "__proto__" (which JSON.parse
 * happily produces) would replace the object's prototype instead, silently hiding the key from
 * the schema's unknown-key check.
 */
function setOwn(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * RFC 7396 section 2: objects merge key by key, `null` deletes a key, anything else (arrays
 * included) replaces the target value. Returns a new value; neither input is modified.
 */
export function applyMergePatch(target: unknown, patch: unknown): Json {
  if (!isJsonObject(patch)) return structuredClone(patch as Json);
  const result: JsonObject = {};
  if (isJsonObject(target)) for (const [k, v] of Object.entries(target)) setOwn(result, k, structuredClone(v));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Dotted paths of the leaves that differ between two configs (arrays count as leaves). */
export function changedPaths(before: unknown, after: unknown, prefix = ''): string[] {
  if (isJsonObject(before) && isJsonObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => changedPaths(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  if (isJsonObject(after) && before === undefined) return changedPaths({}, after, prefix);
  if (isJsonObject(before) && after === undefined) return changedPaths(before, {}, prefix);
  return sameJson(before, after) ? [] : [prefix];
}

/** Keys that must never be config keys: as own properties they would survive JSON.parse and confuse every merge and lookup. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a parsed JSON value without recursion (so a hostile nesting depth cannot overflow the
 * stack): returns the first problem, or null. `where` names the root in messages ("patch").
 */
export function jsonShapeProblem(value: unknown, where: string, maxDepth: number): string | null {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: where, depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return `${path.length > 60 ? `${path.slice(0, 60)}…` : path}: nested deeper than ${maxDepth} levels`;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return `${path}: the key "${key}" is not allowed`;
      stack.push({ v: (v as Record<string, unknown>)[key], path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}
