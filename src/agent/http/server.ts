// The agent's one HTTP server. Modules register their routes on it (preview: page + WHEP, telemetry:
// /metrics); this file owns what every route shares: binding, routing, CORS preflight, the bearer
// token, error replies and /healthz.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { presentedToken, tokenMatches } from './auth.js';
import { HttpError } from './errors.js';
import type { HealthReport } from '../health.js';

export { HttpError } from './errors.js';

export interface HttpServerConfig {
  /** Bind address; loopback unless the user opens it up. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** When set (non-empty), routes registered with auth (the default) need it as a bearer token. */
  token?: string;
  /** What /healthz reports; without it /healthz always says ok. */
  health?: () => HealthReport;
}

/** pino-compatible subset. */
export interface HttpLog {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface RouteContext {
  url: URL;
  /** Capture groups of a RegExp path ([] for string paths). */
  params: string[];
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>;

export interface RouteOptions {
  /** Require the token (when one is configured). Default true: a route is public only on purpose. */
  auth?: boolean;
}

interface Route {
  method: string;
  path: string | RegExp;
  handler: RouteHandler;
  auth: boolean;
}

/** Headers a browser on another origin may send and read; WHEP needs Location to find its session. */
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Location, Allow, Link, ETag, Accept-Patch',
};
const PREFLIGHT_HEADERS = 'Authorization, Content-Type, If-Match';

export class HttpServer {
  private readonly routes: Route[] = [];
  private server: Server | undefined;

  constructor(
    private readonly cfg: HttpServerConfig,
    private readonly log: HttpLog,
  ) {
    if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535)
      throw new Error(`http: port must be an integer 0..65535, got ${String(cfg.port)}`);
    // 200 "ok" while every check passes; 503 "degraded" with one line per problem otherwise (a
    // monitor or container health check sees the failure, a person reads why).
    this.route('GET', '/healthz', (_req, res) => {
      const report = cfg.health?.() ?? { status: 'ok', problems: [] };
      if (report.status === 'ok') return sendText(res, 200, 'ok\n');
      sendText(res, 503, `degraded\n${report.problems.map((p) => `${p.check}: ${p.reason}`).join('\n')}\n`);
    }, { auth: false });
  }

  /**
   * Registers a handler; may be called before or after start(). Returns the function that removes it:
   * a module that stops must remove its routes, so one method and path have at most one handler and a
   * second registration of the same pair is a bug that throws here rather than a stale handler answering.
   */
  route(method: string, path: string | RegExp, handler: RouteHandler, opts: RouteOptions = {}): () => void {
    const m = method.toUpperCase();
    if (m === 'OPTIONS') throw new Error('http: OPTIONS is answered by the server (CORS preflight)');
    const same = (r: Route) => r.method === m && String(r.path) === String(path);
    if (this.routes.some(same)) throw new Error(`http: ${m} ${String(path)} is already registered`);
    const route: Route = { method: m, path, handler, auth: opts.auth ?? true };
    this.routes.push(route);
    return () => {
      const i = this.routes.indexOf(route);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  /** Registered method + path pairs (diagnostics and lifecycle tests). */
  get routeCount(): number {
    return this.routes.length;
  }

  async start(): Promise<{ port: number }> {
    if (this.server) throw new Error('http: already started');
    const server = createServer((req, res) => void this.dispatch(req, res));
    // A slow or silent client must not hold a socket forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'no interface has that address' : e.message;
        reject(new Error(`http: cannot listen on ${this.cfg.host}:${this.cfg.port}: ${why}`));
      };
      server.once('error', onError);
      server.listen(this.cfg.port, this.cfg.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (e) => this.log.error({ err: e }, 'http server error'));
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.log.info({ host: this.cfg.host, port, auth: Boolean(this.cfg.token) }, 'http server listening');
    return { port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent');
    } catch {
      return sendText(res, 400, 'malformed request target\n');
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const onPath: Array<{ route: Route; params: string[] }> = [];
    for (const route of this.routes) {
      const params = matchPath(route.path, url.pathname);
      if (params) onPath.push({ route, params });
    }
    if (onPath.length === 0) return sendText(res, 404, `no such resource: ${url.pathname}\n`);
    const allowed = [...new Set(onPath.map((r) => r.route.method)), 'OPTIONS'];
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        Allow: allowed.join(', '),
        'Access-Control-Allow-Methods': allowed.join(', '),
        'Access-Control-Allow-Headers': PREFLIGHT_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    const hit = onPath.find((r) => r.route.method === method || (method === 'HEAD' && r.route.method === 'GET'));
    if (!hit) return sendText(res, 405, `${method} is not allowed on ${url.pathname}\n`, { Allow: allowed.join(', ') });
    if (hit.route.auth && this.cfg.token && !tokenMatches(this.cfg.token, presentedToken(req, url)))
      return sendText(res, 401, 'a valid bearer token is required\n', { 'WWW-Authenticate': 'Bearer realm="pafcast"' });
    try {
      await hit.route.handler(req, res, { url, params: hit.params });
    } catch (e) {
      if (e instanceof HttpError) return sendText(res, e.status, `${e.message}\n`, e.headers);
      this.log.error({ err: e, method, path: url.pathname }, 'http handler failed');
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    }
  }
}

function matchPath(path: string | RegExp, pathname: string): string[] | undefined {
  if (typeof path === 'string') return path === pathname ? [] : undefined;
  const m = path.exec(pathname);
  return m && m[0] === pathname ? m.slice(1).map((g) => g ?? '') : undefined;
}

export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** Reads a request body up to `limit` bytes; larger bodies are refused with 413 rather than buffered. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
