// Checks that span fields or need more than a JSON schema can say. They run inside config
// validation, so a file, a flag or a remote patch that a module would refuse at start is refused
// before anything is stored or restarted.

import { brokerConfigProblems } from '../broker/config-schema.js';
import { checkTelemetryConfig } from '../../telemetry/config-schema.js';
import { LadderError, resolveLadder } from '../../telemetry/scale-controller.js';
import { loadManifest } from '../../runtime/manifest.js';
import { checkEventsConfig } from '../../runtime/events/config-schema.js';
import type { AgentConfig } from './schema.js';

const BROKER_SCHEMES = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);

/** Why `url` is not a usable broker URL, or null. */
export function brokerUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL (expected mqtt://host:port, mqtts://, ws:// or wss://; a port must be 1..65535)`;
  }
  if (!BROKER_SCHEMES.has(parsed.protocol)) return `"${url}": the scheme must be mqtt://, mqtts://, ws:// or wss:// (got ${parsed.protocol}//)`;
  if (!parsed.hostname) return `"${url}" names no host`;
  if (parsed.port !== '' && Number(parsed.port) === 0) return `"${url}": port 0 is not a broker port`;
  return null;
}

/** Readable problems of an already schema-valid config; [] when none. */
export function crossFieldProblems(c: AgentConfig): string[] {
  const out: string[] = [];
  if (c.mqtt.url) {
    const problem = brokerUrlProblem(c.mqtt.url);
    if (problem) out.push(`mqtt.url: ${problem}`);
  }
  if (c.source.retry.max_ms < c.source.retry.min_ms) out.push(`source.retry.max_ms (${c.source.retry.max_ms}) must be >= source.retry.min_ms (${c.source.retry.min_ms})`);
  if (c.mqtt.reconnect.max_ms < c.mqtt.reconnect.min_ms)
    out.push(`mqtt.reconnect.max_ms (${c.mqtt.reconnect.max_ms}) must be >= mqtt.reconnect.min_ms (${c.mqtt.reconnect.min_ms})`);
  out.push(...brokerConfigProblems(c.broker, c.mqtt.url));
  out.push(...checkTelemetryConfig(c.telemetry));
  try {
    checkEventsConfig(c.events);
  } catch (e) {
    out.push((e as Error).message);
  }
  if (c.preview.enabled && !c.http.enabled) out.push('preview.enabled: the live view is served by the HTTP server; set http.enabled too');
  let manifest;
  try {
    manifest = loadManifest(c.inference.model);
  } catch (e) {
    out.push(`inference.model: ${(e as Error).message.split('\n')[0]}`);
  }
  if (manifest) {
    const { stride, input_size: range } = manifest;
    const h = c.inference.height;
    if (h !== 0 && (h % stride !== 0 || h < range.min_height || h > range.max_height))
      out.push(`inference.height: ${h} is not usable for "${manifest.name}": a multiple of ${stride} in ${range.min_height}..${range.max_height}, or 0`);
    if (c.telemetry.scale.enabled) {
      try {
        resolveLadder(c.telemetry.scale, manifest);
      } catch (e) {
        if (!(e instanceof LadderError)) throw e;
        out.push(`telemetry.scale: ${e.message.replace(/\n\s*/g, '; ')}`);
      }
    }
  }
  return out;
}
