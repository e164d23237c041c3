/**
 * The same calls give the same results and gas in processes started with different V8 tiers and stack
 * sizes (`--liftoff-only`, `--no-liftoff`, `--stack-size=...`): a counter, a recursion that fits and a
 * recursion bomb (stack_limit), an infinite loop (out_of_gas), a division by zero (trap), an abort.
 * Each process runs the built runtime (dist/vm/runtime.js; `npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { counterModule, haltsModule, recursionModule } from '../helpers/wasm.js';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const RUNTIME = join(ROOT, 'dist', 'vm', 'runtime.js');

const SCRIPT = `
import { readFile } from 'node:fs/promises';
const { compileApp, AppInstance } = await import(process.argv[2]);
const { detachedContext } = await import(process.argv[2].replace(/runtime.js$/, 'call.js'));
const dir = process.argv[3];
const load = async (n) => (await AppInstance.create(await compileApp(new Uint8Array(await readFile(dir + '/' + n + '.wasm'))), detachedContext())).instance;
const out = [];
const show = (r) => out.push({ ...r, value: r.value === undefined ? null : String(r.value), gasUsed: String(r.gasUsed), message: r.halt === 'trap' ? r.message : undefined });
const counter = await load('counter');
show(counter.call('increment', [1000], 10n ** 9n));
show(counter.call('get', [], 10n ** 6n));
const rec = await load('rec');
show(rec.call('f', [200], 10n ** 9n));
show(rec.call('f', [10000000], 10n ** 12n));
const h = await load('halts');
show(h.call('spin', [], 1000000n));
show(h.call('div', [7, 0], 1000000n));
show(h.call('div', [7, 2], 1000000n));
show(h.call('bail', [], 1000000n));
process.stdout.write(JSON.stringify(out));
`;

describe('VM determinism across V8 tiers and stack sizes', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('identical results, gas and halts with --liftoff-only, --no-liftoff and different --stack-size', async () => {
    expect(existsSync(RUNTIME)).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'vos-vm-'));
    await writeFile(join(dir, 'counter.wasm'), counterModule());
    await writeFile(join(dir, 'rec.wasm'), recursionModule());
    await writeFile(join(dir, 'halts.wasm'), haltsModule());
    const script = join(dir, 'run.mjs');
    await writeFile(script, SCRIPT);
    const flagSets = [[], ['--liftoff-only'], ['--no-liftoff'], ['--stack-size=400'], ['--stack-size=3000']];
    const outputs: string[] = [];
    for (const flags of flagSets) {
      const r = await run(process.execPath, [...flags, script, RUNTIME, dir], { timeout: 60_000 });
      outputs.push(r.stdout);
    }
    const first = JSON.parse(outputs[0]) as { halt: string; value: string | null }[];
    expect(first.map((x) => x.halt)).toEqual([
      'ok',
      'ok',
      'ok',
      'stack_limit',
      'out_of_gas',
      'trap',
      'ok',
      'abort',
    ]);
    expect(first[1].value).toBe('1000');
    expect(first[2].value).toBe('200');
    expect(first[6].value).toBe('3');
    for (const [i, o] of outputs.entries())
      expect([flagSets[i], JSON.parse(o)]).toEqual([flagSets[i], first]);
  }, 120_000);
});
