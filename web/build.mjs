// Bundles the web app (web/src, TypeScript + Preact) with esbuild into dist/web/: index.html and the
// content-hashed assets under dist/web/app/ (no CDN: everything the page loads comes from the node).
// The node's verification code runs in the bundle as it is, with browser versions of the few Node
// modules it imports (web/platform.mjs, web/platform/: sha256 on @noble/hashes, node:url's IDNA,
// node:net's IP checks; node:crypto's signing functions throw). Any other Node module fails the build.
// Prints the bundle's size, raw and gzipped (goal: <= 300 KB gzipped).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { browserPlatform } from './platform.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const GOAL_GZIP_BYTES = 300 * 1024;

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'app'), { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'web', 'src', 'main.tsx')],
  outdir: join(out, 'app'),
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  metafile: true,
  legalComments: 'eof',
  tsconfig: join(root, 'web', 'tsconfig.json'),
  plugins: [browserPlatform(root)],
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((f) => resolve(root, f));
const js = files.find((f) => f.endsWith('.js'));
const css = files.find((f) => f.endsWith('.css'));
if (js === undefined || css === undefined) throw new Error('esbuild wrote no .js or no .css');
const html = readFileSync(join(root, 'web', 'index.html'), 'utf8')
  .replace('{{js}}', basename(js))
  .replace('{{css}}', basename(css));
writeFileSync(join(out, 'index.html'), html);

let raw = 0;
let gzipped = 0;
const sizes = {};
for (const f of [...files, join(out, 'index.html')]) {
  const data = readFileSync(f);
  const gz = gzipSync(data, { level: 9 }).length;
  sizes[f.slice(out.length + 1)] = { bytes: data.length, gzip: gz };
  raw += data.length;
  gzipped += gz;
}
writeFileSync(
  join(out, 'manifest.json'),
  `${JSON.stringify({ index: 'index.html', js: `app/${basename(js)}`, css: `app/${basename(css)}`, sizes, total: { bytes: raw, gzip: gzipped } }, null, 2)}\n`,
);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`web app: dist/web (${kb(raw)}, ${kb(gzipped)} gzipped; goal <= ${kb(GOAL_GZIP_BYTES)} gzipped)`);
if (gzipped > GOAL_GZIP_BYTES)
  console.warn(`warning: the web bundle is over its size goal (${kb(gzipped)} gzipped)`);
