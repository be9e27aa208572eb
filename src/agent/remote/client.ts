// The operator's side of remote config (`pafcast remote`): builds the `config/set` message,
// signed when a private key is given, publishes it and waits for the matching `config/result`.
// This runs on the operator's machine, not in the agent, so it has its own short-lived client.

import { randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { isJsonObject } from './merge-patch.js';
import { signUpdate } from './signing.js';
import type { UpdateResult } from './config-updates.js';

export interface RemoteTarget {
  /** Broker URL: mqtt://, mqtts://, ws://, wss:// */
  url: string;
  prefix: string;
  device: string;
  timeoutMs: number;
  username?: string;
  password?: string;
  /** PEM CA file for mqtts:// brokers with a private CA. */
  caFile?: string;
}

export interface SetRequest {
  patch: Record<string, unknown>;
  privateKey?: KeyObject;
  /** Must exceed the device's last applied version; default: the current time in ms. */
  version?: number;
  requestId?: string;
}

export const remoteTopics = (t: Pick<RemoteTarget, 'prefix' | 'device'>) => {
  const base = `${t.prefix.replace(/\/+$/, '')}/${t.device}`;
  return { set: `${base}/config/set`, result: `${base}/config/result`, config: `${base}/config` };
};

/** The exact message body for `config/set`. */
export function buildSetMessage(target: Pick<RemoteTarget, 'device'>, request: SetRequest): { requestId: string; body: string } {
  const requestId = request.requestId ?? randomUUID();
  if (!request.privateKey) return { requestId, body: JSON.stringify({ request_id: requestId, patch: request.patch }) };
  const version = request.version ?? Date.now();
  return { requestId, body: signUpdate(request.privateKey, { request_id: requestId, version, device: target.device, patch: request.patch }) };
}

function checkTopicLevel(name: string, value: string): void {
  if (!value || /[#+]/.test(value) || (name === 'device' && value.includes('/')))
    throw new Error(`--${name} "${value}" must be non-empty and contain no MQTT wildcards${name === 'device' ? ' or "/"' : ''}`);
}

async function connect(target: RemoteTarget): Promise<MqttClient> {
  checkTopicLevel('device', target.device);
  checkTopicLevel('prefix', target.prefix);
  const options: IClientOptions = {
    connectTimeout: target.timeoutMs,
    reconnectPeriod: 0,
    clientId: `pafcast-remote-${randomUUID().slice(0, 8)}`,
    username: target.username || undefined,
    password: target.password || undefined,
    ca: target.caFile ? readFileSync(target.caFile) : undefined,
  };
  try {
    return await mqtt.connectAsync(target.url, options);
  } catch (e) {
    throw new Error(`cannot connect to ${target.url}: ${(e as Error).message}`);
  }
}

/** Resolves with the first message on `topic` that `accept` returns a value for, or rejects after the timeout. */
function waitFor<T>(client: MqttClient, topic: string, timeoutMs: number, what: string, accept: (payload: Buffer) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      reject(new Error(`no ${what} on ${topic} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      const value = accept(payload);
      if (value === undefined) return;
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      resolve(value);
    };
    client.on('message', onMessage);
  });
}

/** Publishes a change and returns the device's answer. */
export async function sendConfigUpdate(target: RemoteTarget, request: SetRequest): Promise<UpdateResult> {
  const topics = remoteTopics(target);
  const { requestId, body } = buildSetMessage(target, request);
  const client = await connect(target);
  try {
    // Subscribe before publishing, or a fast device could answer before we listen.
    await client.subscribeAsync(topics.result, { qos: 1 });
    const answer = waitFor(client, topics.result, target.timeoutMs, `answer to request ${requestId} (is the device online with remote config enabled?)`, (payload) => {
      try {
        const parsed: unknown = JSON.parse(payload.toString('utf8'));
        return isJsonObject(parsed) && parsed.request_id === requestId ? (parsed as unknown as UpdateResult) : undefined;
      } catch {
        return undefined;
      }
    });
    await client.publishAsync(topics.set, body, { qos: 1 });
    return await answer;
  } finally {
    await client.endAsync(true);
  }
}

/** Reads the device's retained `config` message (secrets redacted by the device). */
export async function readRemoteConfig(target: RemoteTarget): Promise<unknown> {
  const topics = remoteTopics(target);
  const client = await connect(target);
  try {
    const config = waitFor(client, topics.config, target.timeoutMs, 'retained config (has the device ever connected to this broker?)', (payload) => {
      try {
        return JSON.parse(payload.toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
    });
    await client.subscribeAsync(topics.config, { qos: 1 });
    return await config;
  } finally {
    await client.endAsync(true);
  }
}
