import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../../src/runtime/manifest.js';
import { fetchModel, FetchError } from '../../../src/agent/models/fetch-model.js';

const manifest = loadManifest('mobilenet-v2-small-coco18');
const sharedModels = resolve(import.meta.dirname, '../../../../shared/models');
const good = readFileSync(join(sharedModels, manifest.file!));
const corrupt = Buffer.from(good);
corrupt[corrupt.length >> 1] ^= 0xff;

interface Seen {
  route: string;
  range?: string;
}

/** Serves the model file with Range support, in a few broken ways chosen by the first path level. */
function startServer(seen: Seen[]): Promise<Server> {
  const dropped = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const [, route, file] = (req.url ?? '').split('/');
    seen.push({ route, range: req.headers.range });
    if (file !== manifest.file) {
      res.writeHead(404).end();
      return;
    }
    const body = route === 'corrupt' ? corrupt : good;
    // Drop the connection half-way: `flaky` only the first time, `broken` every time,
    // `flaky-norange` the first time and it never honours Range (answers 200 with everything).
    const drop = route === 'broken' || ((route === 'flaky' || route === 'flaky-norange') && !dropped.has(route));
    const range = route === 'flaky-norange' ? undefined : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (range) {
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { 'content-length': body.length });
    }
    if (drop) {
      dropped.add(route);
      res.write(body.subarray(start, start + ((body.length - start) >> 1)), () => res.socket?.destroy());
      return;
    }
    res.end(body.subarray(start));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let dest: string;

beforeAll(async () => {
  server = await startServer(seen);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  dest = mkdtempSync(join(tmpdir(), 'pafcast-models-'));
  return () => rmSync(dest, { recursive: true, force: true });
});

const fast = { retries: 3, retryDelayMs: 5 };

describe('fetchModel over HTTP', () => {
  it('downloads, verifies and installs a good file, then finds it up to date', async () => {
    const progress: number[] = [];
    const r = await fetchModel(manifest, { destDir: dest, from: `${base}/good/`, ...fast, onProgress: (n) => progress.push(n) });
    expect(r.action).toBe('installed');
    expect(readFileSync(join(dest, manifest.file!)).equals(good)).toBe(true);
    expect(readdirSync(dest)).toEqual([manifest.file]);
    expect(progress.at(-1)).toBe(good.length);

    const again = await fetchModel(manifest, { destDir: dest, from: `${base}/good`, ...fast });
    expect(again.action).toBe('up-to-date');
    expect(seen).toHaveLength(1);
  });

  it('resumes a download whose connection dropped half-way with a Range request', async () => {
    const notices: string[] = [];
    const r = await fetchModel(manifest, { destDir: dest, from: `${base}/flaky`, ...fast, onNotice: (t) => notices.push(t) });
    expect(r.action).toBe('installed');
    expect(readFileSync(join(dest, manifest.file!)).equals(good)).toBe(true);
    // The retry asks only for what is missing: whatever arrived before the drop (at most the half sent).
    expect(seen).toHaveLength(2);
    expect(seen[0].range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(seen[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(good.length >> 1);
    expect(notices[0]).toMatch(/connection closed after \d+ of \d+ bytes; retry 1/);
  });

  it('starts over when the server ignores Range after a dropped connection', async () => {
    const r = await fetchModel(manifest, { destDir: dest, from: `${base}/flaky-norange`, ...fast });
    expect(r.action).toBe('installed');
    expect(readFileSync(join(dest, manifest.file!)).equals(good)).toBe(true);
  });

  it('gives up on a connection that always breaks, keeps the old file and the partial bytes for later', async () => {
    writeFileSync(join(dest, manifest.file!), 'old model');
    const error = await fetchModel(manifest, { destDir: dest, from: `${base}/broken`, ...fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as Error).message).toMatch(/connection closed after/);
    expect((error as Error).message).toMatch(/existing .* was left as it was/);
    expect(readFileSync(join(dest, manifest.file!), 'utf8')).toBe('old model');
    expect(seen).toHaveLength(4);
    expect(existsSync(join(dest, `.${manifest.file}.part`))).toBe(true);
  });

  it('rejects a corrupted file (sha256 mismatch) and leaves the old file intact', async () => {
    writeFileSync(join(dest, manifest.file!), 'old model');
    const error = await fetchModel(manifest, { destDir: dest, from: `${base}/corrupt`, ...fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as Error).message).toMatch(new RegExp(`rejected: sha256 [0-9a-f]{64}, expected ${manifest.sha256}`));
    expect(readFileSync(join(dest, manifest.file!), 'utf8')).toBe('old model');
    expect(readdirSync(dest)).toEqual([manifest.file]);
  });

  it('reports a missing file on the server clearly', async () => {
    const error = await fetchModel(manifest, { destDir: dest, from: `${base}/good/nope`, ...fast }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/HTTP 404/);
    expect(seen).toHaveLength(1);
  });
});

describe('fetchModel from a directory', () => {
  it('copies and verifies a file from a local directory', async () => {
    const r = await fetchModel(manifest, { destDir: dest, from: sharedModels });
    expect(r.action).toBe('installed');
    expect(readFileSync(join(dest, manifest.file!)).equals(good)).toBe(true);
  });

  it('refuses a layout-only manifest and a manifest without URLs', async () => {
    await expect(fetchModel(loadManifest('openpose-body25'), { destDir: dest })).rejects.toThrow(/layout-only/);
    await expect(fetchModel(manifest, { destDir: dest })).rejects.toThrow(/names no download URL.*--from/);
  });
});
