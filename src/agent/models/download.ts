// HTTP(S) download into a `.part` file that survives a broken connection: each retry asks for
// the missing tail with a Range request and appends it, so a flaky link on a remote Jetson does
// not start 16 MB over every time. The caller verifies the bytes before using them.

import { createWriteStream, statSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

export class DownloadError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  url: string;
  partPath: string;
  /** Further attempts after the first one fails with a network error. */
  retries: number;
  /** Delay before the first retry; doubled for each further one. */
  retryDelayMs: number;
  /** Refuse to write more than this (the manifest's size): a wrong URL must not fill the disk. */
  maxBytes?: number;
  /** A connection silent for this long counts as broken. */
  idleTimeoutMs?: number;
  onProgress?(received: number, total: number | null): void;
  onRetry?(attempt: number, error: Error): void;
}

export interface DownloadResult {
  bytes: number;
  /** True when at least one attempt continued an earlier partial file. */
  resumed: boolean;
}

const MAX_REDIRECTS = 5;

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function request(url: string, headers: Record<string, string>, idleTimeoutMs: number, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new DownloadError(`not a valid URL: ${url}`, false));
      return;
    }
    const getter = parsed.protocol === 'https:' ? httpsGet : parsed.protocol === 'http:' ? httpGet : null;
    if (!getter) {
      reject(new DownloadError(`unsupported URL scheme ${parsed.protocol} (use http:, https: or a directory)`, false));
      return;
    }
    const req = getter(parsed, { headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) reject(new DownloadError(`too many redirects from ${url}`, false));
        else request(new URL(res.headers.location, parsed).href, headers, idleTimeoutMs, redirects + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.setTimeout(idleTimeoutMs, () => req.destroy(new DownloadError(`no data from ${parsed.host} for ${idleTimeoutMs / 1000} s`, true)));
    req.on('error', (e) => reject(e instanceof DownloadError ? e : new DownloadError(`${url}: ${e.message}`, true)));
  });
}

/** Parses `Content-Range: bytes start-end/total` (total may be `*`). */
function contentRange(header: string | undefined): { start: number; total: number | null } | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header ?? '');
  return m ? { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) } : null;
}

async function attempt(options: DownloadOptions): Promise<{ resumed: boolean }> {
  const have = sizeOf(options.partPath);
  const headers: Record<string, string> = { 'user-agent': 'pafcast-models-fetch' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await request(options.url, headers, options.idleTimeoutMs ?? 30_000);
  const status = res.statusCode ?? 0;

  if (status === 416 && have > 0) {
    res.resume();
    // Nothing left to send: the part file is already complete (an earlier run stopped before
    // verifying it), or it is longer than the file, which verification will catch.
    const total = /^bytes \*\/(\d+)$/.exec(res.headers['content-range'] ?? '');
    if (total && Number(total[1]) === have) return { resumed: true };
    rmSync(options.partPath, { force: true });
    throw new DownloadError(`${options.url}: server refused to resume (416); starting over`, true);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw new DownloadError(`${options.url}: HTTP ${status}`, status >= 500 || status === 408 || status === 429);
  }

  let offset = 0;
  let total: number | null = null;
  const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : null;
  if (status === 206) {
    const range = contentRange(res.headers['content-range']);
    if (!range || range.start !== have) {
      res.resume();
      rmSync(options.partPath, { force: true });
      throw new DownloadError(`${options.url}: server answered with another range (${res.headers['content-range'] ?? 'none'}); starting over`, true);
    }
    offset = have;
    total = range.total;
  } else {
    // 200 = the whole file (the server ignores Range): start the part file over.
    total = length;
  }
  if (options.maxBytes !== undefined && total !== null && total > options.maxBytes) {
    res.resume();
    throw new DownloadError(`${options.url}: file is ${total} bytes, expected at most ${options.maxBytes}`, false);
  }

  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(options.partPath, { flags: offset > 0 ? 'a' : 'w' });
    let received = offset;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      res.destroy();
      out.destroy();
      out.once('close', () => reject(e));
    };
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (options.maxBytes !== undefined && received > options.maxBytes)
        fail(new DownloadError(`${options.url}: more than the expected ${options.maxBytes} bytes`, false));
      options.onProgress?.(received, total);
    });
    res.on('aborted', () => fail(new DownloadError(`${options.url}: connection closed after ${received} of ${total ?? '?'} bytes`, true)));
    res.on('error', (e) => fail(new DownloadError(`${options.url}: ${e.message} after ${received} bytes`, true)));
    let ended = false;
    res.on('close', () => {
      if (!ended) fail(new DownloadError(`${options.url}: connection closed after ${received} of ${total ?? '?'} bytes`, true));
    });
    res.on('end', () => {
      ended = true;
      if (failed) return;
      if (length !== null && received - offset < length) {
        fail(new DownloadError(`${options.url}: connection closed after ${received} of ${total ?? '?'} bytes`, true));
        return;
      }
      out.end(() => resolve());
    });
    out.on('error', (e) => fail(new DownloadError(`cannot write ${options.partPath}: ${e.message}`, false)));
    res.pipe(out, { end: false });
  });
  return { resumed: offset > 0 };
}

export async function downloadWithResume(options: DownloadOptions): Promise<DownloadResult> {
  let resumed = false;
  for (let n = 0; ; n++) {
    try {
      const r = await attempt(options);
      resumed ||= r.resumed;
      return { bytes: sizeOf(options.partPath), resumed };
    } catch (e) {
      const error = e instanceof DownloadError ? e : new DownloadError((e as Error).message, true);
      if (!error.retryable || n >= options.retries) throw error;
      options.onRetry?.(n + 1, error);
      await new Promise((r) => setTimeout(r, options.retryDelayMs * 2 ** n));
    }
  }
}
