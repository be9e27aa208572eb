// Serves the viewer (web/viewer.html, web/viewer.js: plain files shipped in the package, no build step).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpServer } from '../http/server.js';

/** web/ of the package: walks up from this module (src/ when run from source, dist/src/ when built). */
export function webDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'web', 'viewer.html'))) return join(dir, 'web');
    dir = dirname(dir);
  }
  throw new Error('preview: web/viewer.html not found in the package');
}

/** Registers `/` (the page, behind the token) and `/viewer.js` (public: it holds no secrets). */
export function registerPage(http: HttpServer, whepUrl: string): () => void {
  const dir = webDir();
  // The page learns its WHEP endpoint from a meta tag, so the HTML stays a plain file.
  const html = readFileSync(join(dir, 'viewer.html'), 'utf8').replace('__WHEP_URL__', whepUrl);
  const js = readFileSync(join(dir, 'viewer.js'), 'utf8');
  const removePage = http.route('GET', '/', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(html);
  });
  const removeScript = http.route('GET', '/viewer.js', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.end(js);
  }, { auth: false });
  return () => {
    removePage();
    removeScript();
  };
}
