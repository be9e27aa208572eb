// Handles one `config/set` message: authenticate, parse, check the change against the key policy,
// merge, validate, persist, apply. Pure logic over injected parts; the agent wires it to MQTT and
// answers on `config/result`. Nothing is written unless every check passed and the version is
// recorded, so a rejected request leaves the config and state files byte-identical. The message
// format is documented in docs/remote-config.md.

import type { KeyObject } from 'node:crypto';
import { applyMergePatch, isJsonObject, jsonShapeProblem } from './merge-patch.js';
import { verifyPayload } from './signing.js';
import type { ConfigStore } from './config-store.js';

export interface ApplyOutcome {
  /** Dotted keys now in effect (live, or by restarting their module). */
  applied: string[];
  /** Modules restarted to apply them. */
  restarted: string[];
  /** Dotted keys that take effect only after a restart of the agent (with what needs restarting). */
  restart_required: string[];
}

/** What apply() may hand back besides the outcome: work to run once the answer is out. */
export interface ApplyResult extends ApplyOutcome {
  afterAnswer?: () => Promise<void>;
}

export interface UpdateResult extends ApplyOutcome {
  request_id: string | null;
  ok: boolean;
  errors: string[];
}

/** A handled request: the answer to publish, and what to run after publishing it. */
export interface HandledUpdate {
  result: UpdateResult;
  afterAnswer?: () => Promise<void>;
}

export interface UpdateLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ConfigUpdateHandlerOptions<C> {
  /**
   * The config as stored in the file, not the effective one: the patch is merged into it and the
   * result is written back verbatim, so defaults or secrets from the environment must not be in it.
   */
  loadCurrent(): C;
  /**
   * Full-schema validation of a would-be file config (apply defaults/environment first if the
   * schema needs them): readable error lines, empty when valid. Unknown keys must be errors.
   */
  validate(config: unknown): string[];
  /**
   * What this request may not change: one error line per key that is refused over MQTT (local-only),
   * or that needs a signature when `signed` is false. Empty = allowed.
   */
  checkPolicy?(prev: C, next: C, signed: boolean): string[];
  /** Makes `next` live; called only after `next` is persisted. Throwing restores the previous file. */
  apply(next: C, prev: C): Promise<ApplyResult>;
  store: ConfigStore;
  /** Set = only signed updates with a rising version are accepted. */
  publicKey?: KeyObject;
  /** Without a public key: accept unsigned updates (remote.allow_unsigned, local file only). Default false. */
  allowUnsigned?: boolean;
  /** A problem found at start that makes persisting impossible (e.g. the state directory); every request is rejected with it. */
  startupProblem?: string;
  /** This device's id; a signed update naming another device is rejected. */
  deviceId?: string;
  maxBytes: number;
  log: UpdateLog;
}

export interface ConfigUpdateHandler {
  handle(payload: Buffer): Promise<HandledUpdate>;
}

/** A patch deeper than this is refused before it is merged (the config schema is 4 levels deep). */
const MAX_PATCH_DEPTH = 16;

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** A rejection on the way to a result: carries whatever request id could be read. */
class Rejection extends Error {
  constructor(readonly errors: string[], readonly requestId: string | null) {
    super(errors.join('; '));
  }
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}

/** Reads a message's top level: only the listed keys, with the listed types. */
function checkShape(obj: Record<string, unknown>, where: string, fields: Record<string, { type: string; required: boolean }>): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(obj)) if (!(key in fields)) errors.push(`${where}: unknown key "${key}"`);
  for (const [key, spec] of Object.entries(fields)) {
    if (!Object.hasOwn(obj, key)) {
      if (spec.required) errors.push(`${where}: missing "${key}"`);
      continue;
    }
    const actual = describeType(obj[key]);
    const okType = spec.type === 'integer' ? Number.isSafeInteger(obj[key]) : actual === spec.type;
    if (!okType) errors.push(`${where}.${key}: must be ${spec.type === 'object' ? 'a JSON object' : `a ${spec.type}`} (got ${actual})`);
  }
  return errors;
}

function requestIdOf(obj: unknown): string | null {
  return isJsonObject(obj) && typeof obj.request_id === 'string' && REQUEST_ID.test(obj.request_id) ? obj.request_id : null;
}

function parseJson(text: string, what: string, requestId: string | null): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Rejection([`${what} is not valid JSON: ${(e as Error).message}`], requestId);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface ParsedRequest {
  requestId: string;
  version: number | null;
  patch: Record<string, unknown>;
}

export function createConfigUpdateHandler<C>(options: ConfigUpdateHandlerOptions<C>): ConfigUpdateHandler {
  const { store, publicKey, log } = options;

  function parseUnsigned(message: Record<string, unknown>): ParsedRequest {
    const id = requestIdOf(message);
    if (Object.hasOwn(message, 'signature') || Object.hasOwn(message, 'payload'))
      throw new Rejection(['signed update received but this device has no public key configured (remote.public_key); send the unsigned form {request_id, patch}'], id);
    const errors = checkShape(message, 'message', { request_id: { type: 'string', required: true }, patch: { type: 'object', required: true } });
    if (!errors.length && !id) errors.push('message.request_id: 1 to 128 printable ASCII characters without spaces');
    if (errors.length) throw new Rejection(errors, id);
    return { requestId: id!, version: null, patch: message.patch as Record<string, unknown> };
  }

  function parseSigned(message: Record<string, unknown>, key: KeyObject): ParsedRequest {
    const envelopeErrors = checkShape(message, 'message', { payload: { type: 'string', required: true }, signature: { type: 'string', required: true } });
    if (envelopeErrors.length) {
      const unsigned = Object.hasOwn(message, 'patch') && !Object.hasOwn(message, 'signature');
      throw new Rejection(unsigned ? ['missing signature: this device only accepts updates signed with its configured key'] : envelopeErrors, requestIdOf(message));
    }
    const payload = message.payload as string;
    // Checked before the payload is interpreted: only its request id is read back, so the sender
    // can match the rejection to its request.
    if (!verifyPayload(key, payload, message.signature as string)) {
      let echoedId: string | null = null;
      try {
        echoedId = requestIdOf(JSON.parse(payload));
      } catch {
        // unparseable payload: answer without an id
      }
      throw new Rejection(['bad signature: not signed by the configured key'], echoedId);
    }
    const inner = parseJson(payload, 'payload', null);
    if (!isJsonObject(inner)) throw new Rejection([`payload: must be a JSON object (got ${describeType(inner)})`], null);
    const id = requestIdOf(inner);
    const errors = checkShape(inner, 'payload', {
      request_id: { type: 'string', required: true },
      version: { type: 'integer', required: true },
      device: { type: 'string', required: true },
      patch: { type: 'object', required: true },
    });
    if (!errors.length && !id) errors.push('payload.request_id: 1 to 128 printable ASCII characters without spaces');
    if (!errors.length && (inner.version as number) < 1) errors.push('payload.version: must be a positive integer');
    if (!errors.length && options.deviceId !== undefined && inner.device !== options.deviceId)
      errors.push(`payload.device: update is for device "${String(inner.device ?? '(none)')}", this is "${options.deviceId}"`);
    if (errors.length) throw new Rejection(errors, id);
    return { requestId: id!, version: inner.version as number, patch: inner.patch as Record<string, unknown> };
  }

  async function processUpdate(payload: Buffer): Promise<HandledUpdate> {
    if (payload.length > options.maxBytes)
      throw new Rejection([`message too large: ${payload.length} bytes, the limit is ${options.maxBytes} (remote.max_payload_bytes)`], null);
    let text: string;
    try {
      text = utf8.decode(payload);
    } catch {
      throw new Rejection(['message is not valid UTF-8'], null);
    }
    const message = parseJson(text, 'message', null);
    if (!isJsonObject(message)) throw new Rejection([`message: must be a JSON object (got ${describeType(message)})`], null);
    if (!publicKey && !options.allowUnsigned)
      throw new Rejection(
        [
          'remote configuration accepts only signed updates and this device has no public key: set remote.public_key to an Ed25519 ' +
            'public key file (`pafcast keys generate`) in the local config file, or set remote.allow_unsigned: true there for a ' +
            'closed network; nothing was changed',
        ],
        requestIdOf(message) ?? requestIdOfSigned(message),
      );
    if (options.startupProblem) throw new Rejection([`${options.startupProblem}; nothing was changed`], requestIdOf(message) ?? requestIdOfSigned(message));
    const request = publicKey ? parseSigned(message, publicKey) : parseUnsigned(message);
    const shape = jsonShapeProblem(request.patch, 'patch', MAX_PATCH_DEPTH);
    if (shape) throw new Rejection([shape], request.requestId);

    if (request.version !== null) {
      const { last_version } = store.readState();
      if (request.version <= last_version)
        throw new Rejection([`replayed or stale version ${request.version}: the last applied version is ${last_version}`], request.requestId);
    }

    const prev = options.loadCurrent();
    const next = applyMergePatch(prev, request.patch) as C;
    const refused = options.checkPolicy?.(prev, next, request.version !== null) ?? [];
    if (refused.length) throw new Rejection(refused, request.requestId);
    const invalid = options.validate(next);
    if (invalid.length) throw new Rejection(invalid, request.requestId);

    // The version is spent before the config changes: if recording it fails, nothing is written,
    // and a config that changed can never be replayed.
    if (request.version !== null) {
      try {
        store.writeState({ last_version: request.version });
      } catch (e) {
        throw new Rejection([`cannot record version ${request.version} in ${store.statePath}: ${(e as Error).message}; nothing was changed`], request.requestId);
      }
    }
    const previousBytes = store.readConfigBytes();
    try {
      store.writeConfig(next);
    } catch (e) {
      throw new Rejection([`cannot write ${store.configPath}: ${(e as Error).message}; nothing was changed`], request.requestId);
    }

    let outcome: ApplyResult;
    try {
      outcome = await options.apply(next, prev);
    } catch (e) {
      if (previousBytes) store.writeConfigBytes(previousBytes);
      throw new Rejection([`applying the new config failed, previous config restored: ${(e as Error).message}`], request.requestId);
    }
    const { afterAnswer, ...effect } = outcome;
    log.info({ request_id: request.requestId, version: request.version, ...effect }, 'remote config update applied');
    return { result: { request_id: request.requestId, ok: true, errors: [], ...effect }, afterAnswer };
  }

  // One update at a time: two interleaved requests could otherwise both merge into the same
  // `prev` and the second would silently undo the first.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    handle(payload) {
      const run = queue.then(async (): Promise<HandledUpdate> => {
        try {
          return await processUpdate(payload);
        } catch (e) {
          const rejection = e instanceof Rejection ? e : new Rejection([`internal error: ${(e as Error).message}`], requestIdFromBytes(payload));
          log.warn({ request_id: rejection.requestId, errors: rejection.errors }, 'remote config update rejected');
          return { result: { request_id: rejection.requestId, ok: false, errors: rejection.errors, applied: [], restarted: [], restart_required: [] } };
        }
      });
      queue = run;
      return run;
    },
  };
}

/** The request id inside a signed envelope's payload, read without trusting it (only for the answer). */
function requestIdOfSigned(message: Record<string, unknown>): string | null {
  if (typeof message.payload !== 'string') return null;
  try {
    return requestIdOf(JSON.parse(message.payload));
  } catch {
    return null;
  }
}

/** Best effort, for answers to messages that failed somewhere unexpected. */
export function requestIdFromBytes(payload: Buffer): string | null {
  try {
    const msg: unknown = JSON.parse(payload.toString('utf8'));
    return isJsonObject(msg) ? (requestIdOf(msg) ?? requestIdOfSigned(msg)) : null;
  } catch {
    return null;
  }
}
