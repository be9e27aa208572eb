// The broker probe against a real MQTT broker (aedes) on a local port, and against a closed port.

import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBroker } from '../../../src/agent/doctor/mqtt-check.js';

let broker: Aedes;
let server: Server;
let port = 0;

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => broker.close(() => r()));
});

describe('MQTT broker probe', () => {
  it('answers ok when the broker sends CONNACK', async () => {
    const res = await probeBroker(`mqtt://127.0.0.1:${port}`, { timeoutMs: 3000 });
    expect(res.ok).toBe(true);
    expect(res.error).toBeUndefined();
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const res = await probeBroker(`mqtt://127.0.0.1:${freePort}`, { timeoutMs: 3000 });
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/ECONNREFUSED/);
  });

  it('gives up after the timeout when a server accepts TCP but never answers MQTT', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const res = await probeBroker(`mqtt://127.0.0.1:${(silent.address() as AddressInfo).port}`, { timeoutMs: 300 });
      expect(res.ok).toBe(false);
      expect(res.error).toMatch(/no answer within 300 ms|timeout/i);
    } finally {
      silent.close();
    }
  });
});
