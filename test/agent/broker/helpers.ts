// Shared pieces of the embedded-broker tests: a broker on a free port with its log captured, real
// clients (mqtt.js, mosquitto_sub / mosquitto_pub at a chosen protocol version) and polling.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { Value } from '@sinclair/typebox/value';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from '../../../src/agent/broker/index.js';
import { BrokerConfigSchema, type BrokerConfig } from '../../../src/agent/broker/config-schema.js';
import { freePort } from '../helpers/mosquitto.js';

export { freePort };
export const PREFIX = 'pf';
export const DEVICE = 'cam1';
export const BASE = `${PREFIX}/${DEVICE}`;

export interface LoggedLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function captureLog(level = 'debug'): { log: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const log = pino({ level }, { write: (l: string) => lines.push(JSON.parse(l) as LoggedLine) });
  return { log, lines };
}

/** Schema defaults with `overrides` on top, as loadConfig would produce them. */
export function brokerConfig(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  const base = Value.Default(BrokerConfigSchema, {}) as BrokerConfig;
  return { ...base, ...overrides, retained: { ...base.retained, ...overrides.retained } };
}

export interface TestBroker {
  broker: EmbeddedBroker;
  lines: LoggedLine[];
  port: number;
}

export async function startBroker(overrides: Partial<BrokerConfig>, opts: Partial<EmbeddedBrokerOptions> = {}): Promise<TestBroker> {
  const port = overrides.port ?? (await freePort());
  const { log, lines } = captureLog();
  const broker = new EmbeddedBroker(brokerConfig({ host: '127.0.0.1', ...overrides, port }), { prefix: PREFIX, deviceId: DEVICE, log, ...opts });
  await broker.start();
  return { broker, lines, port };
}

/** The agent's own connection, as the Agent makes it. */
export function agentClient(b: EmbeddedBroker, extra: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(b.url, { ...b.clientCredentials, protocolVersion: b.protocolVersion, reconnectPeriod: 0, ...extra });
}

export async function waitFor<T>(get: () => T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a mosquitto client to its end, asynchronously: aedes runs in this process, and a
 * spawnSync would stop it from answering.
 */
export function runClient(file: string, args: string[], timeoutMs = 15_000): Promise<{ status: number | null; output: string; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, output: stdout + stderr, stdout });
    });
  });
}

/** Runs mosquitto_pub once; its exit code and output. */
export function mosquittoPub(port: number, args: string[], host = '127.0.0.1'): Promise<{ status: number | null; output: string }> {
  return runClient('mosquitto_pub', ['-h', host, '-p', String(port), ...args]);
}

/** The retained value of `topic` as a fresh subscriber gets it (null when there is none). */
export async function retainedValue(port: number, topic: string, args: string[] = []): Promise<string | null> {
  const r = await runClient('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-C', '1', '-W', '2', ...args]);
  return r.status === 0 ? r.stdout.replace(/\n$/, '') : null;
}

/** Every retained message under `filter` (`topic payload` lines), as a fresh subscriber gets them. */
export async function retainedUnder(port: number, filter: string): Promise<string[]> {
  const r = await runClient('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', filter, '-W', '1', '-v', '--retained-only']);
  return r.stdout.split('\n').filter(Boolean);
}

/** A long-running mosquitto_sub printing `topic payload` lines. */
export class MosquittoSub {
  readonly proc: ChildProcess;
  out = '';
  err = '';
  constructor(port: number, args: string[]) {
    this.proc = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-v', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.out += d));
    this.proc.stderr!.on('data', (d) => (this.err += d));
  }
  lines(): string[] {
    return this.out.split('\n').filter(Boolean);
  }
  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }
  stop(): void {
    if (!this.exited) this.proc.kill('SIGTERM');
  }
}

/** Whether `pid` is alive (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Pids of processes running `mosquitto -c <dir>/...`. */
export function mosquittoPidsFor(dir: string): number[] {
  const r = spawnSync('pgrep', ['-f', `mosquitto -c ${dir}/`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).filter(alive);
}

/** An IPv4 address of this machine other than loopback (the broker beyond loopback), or loopback when there is none. */
export function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
