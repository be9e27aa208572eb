import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, HttpServer, readBody } from '../../../src/agent/http/server.js';

const quiet = { info() {}, warn() {}, error() {} };
const servers: HttpServer[] = [];

async function serve(token?: string): Promise<{ http: HttpServer; base: string }> {
  const http = new HttpServer({ host: '127.0.0.1', port: 0, token }, quiet);
  servers.push(http);
  http.route('GET', '/secret', (_req, res) => void res.end('classified'));
  http.route('GET', '/public', (_req, res) => void res.end('hello'), { auth: false });
  http.route('POST', /^\/items\/([0-9]+)$/, async (req, res, { params }) => {
    const body = await readBody(req, 16);
    res.end(`item ${params[0]} got ${body.toString()}`);
  });
  http.route('GET', '/teapot', () => {
    throw new HttpError(418, 'short and stout', { 'X-Why': 'tea' });
  });
  http.route('GET', '/broken', () => {
    throw new Error('bug');
  });
  const { port } = await http.start();
  return { http, base: `http://127.0.0.1:${port}` };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('HttpServer', () => {
  it('answers /healthz without a token even when one is configured', async () => {
    const { base } = await serve('s3cret');
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('needs the bearer token on protected routes, by header or query, and says how to authenticate', async () => {
    const { base } = await serve('s3cret');
    const none = await fetch(`${base}/secret`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(`${base}/secret`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/secret`, { headers: { Authorization: 'Basic czNjcmV0' } })).status).toBe(401);
    const byHeader = await fetch(`${base}/secret`, { headers: { Authorization: 'Bearer s3cret' } });
    expect(byHeader.status).toBe(200);
    expect(await byHeader.text()).toBe('classified');
    expect((await fetch(`${base}/secret?token=s3cret`)).status).toBe(200);
    expect((await fetch(`${base}/public`)).status).toBe(200);
  });

  it('serves protected routes openly when no token is configured', async () => {
    const { base } = await serve();
    expect((await fetch(`${base}/secret`)).status).toBe(200);
  });

  it('routes by method and RegExp with capture groups; 404 for unknown paths, 405 with Allow for other methods', async () => {
    const { base } = await serve();
    const ok = await fetch(`${base}/items/42`, { method: 'POST', body: 'abc' });
    expect(await ok.text()).toBe('item 42 got abc');
    expect((await fetch(`${base}/items/x`, { method: 'POST', body: '' })).status).toBe(404);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    const wrong = await fetch(`${base}/items/42`, { method: 'PATCH' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('answers CORS preflight for known paths without a token, and exposes Location to scripts', async () => {
    const { base } = await serve('s3cret');
    const pre = await fetch(`${base}/items/1`, { method: 'OPTIONS', headers: { Origin: 'http://elsewhere', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
    const plain = await fetch(`${base}/healthz`);
    expect(plain.headers.get('access-control-expose-headers')).toContain('Location');
  });

  it('turns HttpError into its status and headers, other errors into 500, oversized bodies into 413', async () => {
    const { base } = await serve();
    const tea = await fetch(`${base}/teapot`);
    expect(tea.status).toBe(418);
    expect(tea.headers.get('x-why')).toBe('tea');
    expect(await tea.text()).toBe('short and stout\n');
    expect((await fetch(`${base}/broken`)).status).toBe(500);
    expect((await fetch(`${base}/items/1`, { method: 'POST', body: 'x'.repeat(100) })).status).toBe(413);
  });

  it('routes registered after start are served', async () => {
    const { http, base } = await serve();
    http.route('GET', '/metrics', (_req, res) => void res.end('m 1\n'), { auth: false });
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('m 1\n');
  });

  it('fails to start with a clear reason when the port is taken, and rejects bad ports up front', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const http = new HttpServer({ host: '127.0.0.1', port }, quiet);
      await expect(http.start()).rejects.toThrow(/port is in use/);
    } finally {
      blocker.close();
    }
    expect(() => new HttpServer({ host: '127.0.0.1', port: 70000 }, quiet)).toThrow(/port/);
  });

  it('stop() closes the listener so the port no longer answers', async () => {
    const { http, base } = await serve();
    await http.stop();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
