// Compiles every sample app (apps/<name>/index.ts) to apps/build/<name>.wasm with AssemblyScript, for
// the VOS allowlist: no bulk memory, no non-trapping float conversions, no mutable-global imports, and
// the static initialiser exported as `_initialize` (a start function is refused at deploy).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const asc = join(root, '..', 'node_modules', '.bin', 'asc');
mkdirSync(join(root, 'build'), { recursive: true });
const apps = readdirSync(root, { withFileTypes: true })
  .filter(
    (d) =>
      d.isDirectory() && d.name !== 'sdk' && d.name !== 'build' && existsSync(join(root, d.name, 'index.ts')),
  )
  .map((d) => d.name);
for (const app of apps) {
  const r = spawnSync(
    asc,
    [
      join(root, app, 'index.ts'),
      '-o',
      join(root, 'build', `${app}.wasm`),
      '--runtime',
      'stub',
      '-O3',
      '--noAssert',
      '--disable',
      'bulk-memory',
      '--disable',
      'nontrapping-f2i',
      '--disable',
      'mutable-globals',
      '--exportStart',
      '_initialize',
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    process.stderr.write(`apps/build.mjs: ${app} failed to compile\n`);
    process.exit(1);
  }
}
process.stdout.write(`apps: ${apps.map((a) => `apps/build/${a}.wasm`).join(', ')}\n`);
