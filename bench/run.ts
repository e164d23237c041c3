/**
 * `npm run bench`: runs every benchmark (or those named on the command line), writes one JSON file per
 * benchmark to bench/results/<name>.json and prints a table. Each figure sits beside a baseline measured
 * in the same run (Ed25519 verify rate, raw LevelDB writes, ...), since absolute times on shared
 * machines are noisy and ratios are not.
 */
import '../util/polyfill.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BenchResult = Record<string, unknown>;

interface BenchModule {
  run: () => Promise<BenchResult>;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  verify: () => import('./verify.bench.js') as Promise<BenchModule>,
  'state-tree': () => import('./state-tree.bench.js') as Promise<BenchModule>,
  throughput: () => import('./throughput.bench.js') as Promise<BenchModule>,
  consensus: () => import('./consensus.bench.js') as Promise<BenchModule>,
  devnet: () => import('./devnet.bench.js') as Promise<BenchModule>,
  transport: () => import('./transport.bench.js') as Promise<BenchModule>,
  durability: () => import('./durability.bench.js') as Promise<BenchModule>,
  naming: () => import('./naming.bench.js') as Promise<BenchModule>,
  dns: () => import('./dns.bench.js') as Promise<BenchModule>,
  storage: () => import('./storage.bench.js') as Promise<BenchModule>,
  search: () => import('./search.bench.js') as Promise<BenchModule>,
  mempool: () => import('./mempool.bench.js') as Promise<BenchModule>,
  comm: () => import('./comm.bench.js') as Promise<BenchModule>,
  control: () => import('./control.bench.js') as Promise<BenchModule>,
  vm: () => import('./vm.bench.js') as Promise<BenchModule>,
  rpc: () => import('./rpc.bench.js') as Promise<BenchModule>,
};

export const RESULTS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bench', 'results');

export async function writeResult(name: string, result: BenchResult): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  const doc = {
    name,
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: (await import('node:os')).availableParallelism() },
    ...result,
  };
  await writeFile(file, `${JSON.stringify(doc, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  return file;
}

export function printTable(name: string, result: BenchResult): void {
  process.stdout.write(`\n${name}\n`);
  for (const [k, v] of Object.entries(result)) {
    const val =
      typeof v === 'number' ? (Number.isInteger(v) ? v.toString() : v.toFixed(3)) : JSON.stringify(v);
    process.stdout.write(`  ${k.padEnd(40)} ${val}\n`);
  }
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  for (const name of names) {
    const load = BENCHES[name];
    if (load === undefined)
      throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
    const mod = await load();
    const result = await mod.run();
    printTable(name, result);
    process.stdout.write(`  -> ${await writeResult(name, result)}\n`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
