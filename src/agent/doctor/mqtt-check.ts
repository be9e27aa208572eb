// Whether the configured broker answers an MQTT CONNECT within a short timeout.

import mqtt from 'mqtt';
import type { CheckResult, DoctorContext, MqttProbeResult } from './types.js';

/** Opens one MQTT connection (no retries) and closes it; resolves with whether CONNACK came back. */
export async function probeBroker(url: string, opts: { username?: string; password?: string; timeoutMs: number }): Promise<MqttProbeResult> {
  const t0 = performance.now();
  const client = mqtt.connect(url, {
    connectTimeout: opts.timeoutMs,
    reconnectPeriod: 0,
    username: opts.username || undefined,
    password: opts.password || undefined,
    clientId: `pafcast-doctor-${process.pid}`,
  });
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: MqttProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(true);
      resolve(r);
    };
    // connectTimeout covers the CONNACK wait; this covers DNS/TCP stalls before it starts.
    const timer = setTimeout(() => finish({ ok: false, ms: performance.now() - t0, error: `no answer within ${opts.timeoutMs} ms` }), opts.timeoutMs);
    client.once('connect', () => finish({ ok: true, ms: performance.now() - t0 }));
    client.once('error', (e) => finish({ ok: false, ms: performance.now() - t0, error: e.message }));
    client.once('close', () => finish({ ok: false, ms: performance.now() - t0, error: 'connection closed before CONNACK' }));
  });
}

export async function checkMqtt(ctx: DoctorContext): Promise<CheckResult> {
  const base = { id: 'mqtt', title: 'MQTT broker' };
  const { url, username, password } = ctx.config.mqtt;
  if (!url) return { ...base, verdict: 'OK', detail: 'mqtt.url is empty: the agent starts its embedded broker' };
  const res = await ctx.mqttProbe(url, { username, password, timeoutMs: ctx.mqttTimeoutMs });
  if (res.ok) return { ...base, verdict: 'OK', detail: `${url} answered CONNECT in ${Math.round(res.ms)} ms` };
  return { ...base, verdict: 'FAIL', detail: `${url}: ${res.error ?? 'no CONNACK'}`, fix: 'check that the broker runs and mqtt.url/username/password are right (e.g. mosquitto_sub -h HOST -t "#" -v); the agent keeps retrying meanwhile' };
}
