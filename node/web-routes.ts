/**
 * GET / and /app/*: the web app (web/, bundled by web/build.mjs into dist/web/), served from memory.
 *
 * - `/` (and `/index.html`): the page, `Cache-Control: no-cache` with an ETag (a new build shows on the
 *   next load), a Content-Security-Policy that allows only this origin (no CDN, no inline script);
 *   the app routes by URL hash (`#/block/12`), so every route loads this one page.
 * - `/app/<file>`: the content-hashed assets, cached for a year (`immutable`); an unknown file is 404.
 * - gzip for clients that accept it (compressed once, at load); `If-None-Match` answers 304.
 * - Without a built bundle (`npm run build` not run), `/` answers a small page that says so, with
 *   the node's chain, height and how to reach its JSON-RPC.
 *
 * The bundle is read at the first request and again when its manifest changes (a rebuild while the
 * node runs). Only files listed in the bundle directory are served: a path is a key of that map,
 * never joined to a file system path.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

type GetHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface WebRouteTarget {
  route(path: string, handler: GetHandler): void;
}

export interface WebAppInfo {
  chainId: string;
  height: number;
  rpcUrl: string;
}

export interface WebRoutesOptions {
  /** The bundle directory (default: dist/web of this checkout, see bundleDir). */
  dir?: string;
  /** What the fallback page (no bundle built) shows. */
  info: () => WebAppInfo;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.map', '.svg', '.txt', '.wasm']);

/**
 * Only this origin: the bundle's script and style, JSON-RPC and the WebSocket to this port, media
 * from /content and /storage (and blob: for recorded clips), images as data: too.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
  type: string;
}

interface Bundle {
  manifestMtime: number;
  index: Asset;
  assets: Map<string, Asset>;
}

/**
 * dist/web of this checkout: from the compiled node (dist/node/web-routes.js) it is ../web; from the
 * sources (tests run node/web-routes.ts) it is ../dist/web. The first that holds a manifest wins.
 */
export function bundleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'web'), join(here, '..', 'dist', 'web')];
  return candidates.find((d) => existsSync(join(d, 'manifest.json'))) ?? candidates[candidates.length - 1];
}

function asset(name: string, body: Buffer): Asset {
  const ext = extname(name);
  return {
    body,
    gzip: COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body, { level: 9 }) : null,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    type: CONTENT_TYPES[ext] ?? 'application/octet-stream',
  };
}

async function loadBundle(dir: string, manifestMtime: number): Promise<Bundle> {
  const index = asset('index.html', await readFile(join(dir, 'index.html')));
  const assets = new Map<string, Asset>();
  const appDir = join(dir, 'app');
  for (const e of await readdir(appDir, { withFileTypes: true })) {
    if (e.isFile()) assets.set(e.name, asset(e.name, await readFile(join(appDir, e.name))));
  }
  return { manifestMtime, index, assets };
}

function send(req: IncomingMessage, res: ServerResponse, a: Asset, headers: Record<string, string>): void {
  const common = { ...SECURITY_HEADERS, ...headers, ETag: a.etag, Vary: 'Accept-Encoding' };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  const gzip = a.gzip !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? (a.gzip as Buffer) : a.body;
  res.writeHead(200, {
    ...common,
    'Content-Type': a.type,
    'Content-Length': String(body.length),
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(body);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** `/` without a built bundle: what this port serves, and how to build the app. */
export function fallbackPage(info: WebAppInfo): string {
  const chainId = escapeHtml(info.chainId);
  const url = escapeHtml(info.rpcUrl);
  const curl = `curl -s ${url} -H 'content-type: application/json' \\\n  -d '{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}'`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>VOS node ${chainId}</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}</style>
</head>
<body>
<h1>VOS node</h1>
<p>Chain <code>${chainId}</code> at height <strong>${info.height}</strong>.</p>
<p>The web app is not built in this checkout: run <code>npm run build</code> (it bundles <code>web/</code> into
<code>dist/web/</code>) and reload.</p>
<ul>
<li><a href="/healthz">/healthz</a>: liveness and height (JSON)</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
</ul>
<h2>JSON-RPC</h2>
<p>JSON-RPC 2.0 is served on this URL by <strong>POST</strong> (and WebSocket), not GET.
<code>rpc.discover</code> returns the OpenRPC document listing every method with its params and result:</p>
<pre>${curl}</pre>
</body>
</html>
`;
}

/** Register `/`, `/index.html` and `/app/*` on the RPC server. */
export function registerWebRoutes(server: WebRouteTarget, opts: WebRoutesOptions): void {
  const dir = opts.dir ?? bundleDir();
  let bundle: Bundle | undefined;
  let loading: Promise<Bundle | undefined> | undefined;

  /** The bundle, reloaded when its manifest changed; undefined when none is built. */
  const current = async (): Promise<Bundle | undefined> => {
    let mtime: number;
    try {
      mtime = (await stat(join(dir, 'manifest.json'))).mtimeMs;
    } catch {
      return undefined;
    }
    if (bundle !== undefined && bundle.manifestMtime === mtime) return bundle;
    loading ??= loadBundle(dir, mtime).then(
      (b) => {
        bundle = b;
        return b;
      },
      () => undefined,
    );
    try {
      return await loading;
    } finally {
      loading = undefined;
    }
  };

  const index: GetHandler = async (req, res) => {
    const b = await current();
    if (b === undefined) {
      const html = fallbackPage(opts.info());
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'Content-Length': String(Buffer.byteLength(html)),
      });
      res.end(html);
      return;
    }
    send(req, res, b.index, {
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Frame-Options': 'DENY',
    });
  };

  const assets: GetHandler = async (req, res) => {
    const name = (req.url ?? '').split('?')[0].slice('/app/'.length);
    const a = (await current())?.assets.get(name);
    if (a === undefined) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`no web app file ${name.slice(0, 200)}\n`);
      return;
    }
    send(req, res, a, { 'Cache-Control': 'public, max-age=31536000, immutable' });
  };

  server.route('/', index);
  server.route('/index.html', index);
  server.route('/app/*', assets);
}
