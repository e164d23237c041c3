/**
 * The hosted runner (vm/hosted/runner.ts) in its worker thread (the build's dist/vm/hosted/worker.js;
 * `npm test` builds first): a call runs with the same gas as on chain and returns its new state; the
 * off-chain host calls reach the node's side through the Atomics bridge; an endless loop with a budget
 * too big to run out is cut by the wall clock (`timeout`, whole budget charged) and the next call gets
 * a fresh worker; a call reading more than MAX_CHAIN_READS keys traps. Reads block on the bridge too,
 * so an off-chain op before a read is done once; a read that fails traps; transfer halts off chain.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { MAX_CHAIN_READS } from '../../vm/call.js';
import { HostedRunner } from '../../vm/hosted/runner.js';
import { compileApp } from '../../vm/runtime.js';
import {
  testCallEnv as env,
  haltsModule,
  I32,
  probeModule,
  section,
  uleb,
  wasmModule,
} from '../helpers/wasm.js';

/** A data section: `bytes` at address 0 of memory 0. */
const dataSegment = (bytes: number[]) =>
  section(11, [1, 0x00, 0x41, 0x00, 0x0b, ...uleb(bytes.length), ...bytes]);

/** The node's lookups, preloaded in the worker as the node does (built file). */
const LOOKUPS = new URL('../../dist/node/app-lookups.js', import.meta.url).href;

const runners: HostedRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.close();
});

function runner(o: Partial<ConstructorParameters<typeof HostedRunner>[0]> = {}, timeoutMs = 2000) {
  const r = new HostedRunner({ read: async () => undefined, hosted: async () => null, ...o }, timeoutMs, [
    LOOKUPS,
  ]);
  runners.push(r);
  return r;
}

describe('hosted runner', () => {
  it('runs a call in the worker with the host API over the bridge, then state and effects come back', async () => {
    // f(): comm_send("bob", "hi") then storage_set("k", "v"); returns comm_send's result.
    const data = [...Buffer.from('bobhikv')];
    const app = await compileApp(
      wasmModule({
        types: [
          { params: [I32, I32, I32, I32], results: [I32] },
          { params: [I32, I32, I32, I32], results: [] },
          { params: [], results: [I32] },
        ],
        imports: [
          { module: 'env', name: 'comm_send', type: 0 },
          { module: 'env', name: 'storage_set', type: 1 },
        ],
        memory: [0x01, 0x00, 0x01],
        exports: [
          { name: 'memory', kind: 2, index: 0 },
          { name: 'f', kind: 0, index: 2 },
        ],
        funcs: [
          {
            type: 2,
            body: [
              ...[0x41, 5, 0x41, 1, 0x41, 6, 0x41, 1, 0x10, 1], // storage_set(5, 1, 6, 1): "k" = "v"
              ...[0x41, 0, 0x41, 3, 0x41, 3, 0x41, 2, 0x10, 0], // comm_send(0, 3, 3, 2)
            ],
          },
        ],
        extra: [dataSegment(data)],
      }),
    );
    const seen: string[] = [];
    const r = runner({
      hosted: async (op, args) => {
        seen.push(`${op}(${args.map((a) => Buffer.from(a).toString()).join(',')})`);
        return new Uint8Array([1]);
      },
    });
    const out = await r.call({ app, state: new Map(), method: 'f', args: [], gas: 10_000_000n, env });
    expect(out.halt).toBe('ok');
    expect(out.value).toBe(0);
    expect(seen).toEqual(['comm_send(bob,hi)']);
    expect(Buffer.from(out.state.get('k')!).toString()).toBe('v');
  }, 30_000);

  it('an endless loop with a huge budget is cut by the wall clock; the next call gets a new worker', async () => {
    const app = await compileApp(haltsModule());
    const r = runner({}, 300);
    const t = performance.now();
    const spun = await r.call({ app, state: new Map(), method: 'spin', args: [], gas: 10n ** 15n, env });
    expect(spun.halt).toBe('timeout');
    expect(spun.gasUsed).toBe(10n ** 15n);
    expect(performance.now() - t).toBeLessThan(20_000);
    const ok = await r.call({ app, state: new Map(), method: 'div', args: [9, 3], gas: 1_000_000n, env });
    expect(ok).toMatchObject({ halt: 'ok', value: 3 });
  }, 30_000);

  it('more chain reads than MAX_CHAIN_READS trap; each read is answered from the node side', async () => {
    // f(): name_owner of 17 different three-letter names (abc, bcd, ...).
    const body: number[] = [];
    for (let i = 0; i <= MAX_CHAIN_READS; i++) body.push(0x41, i, 0x41, 3, 0x41, 64, 0x10, 0, 0x1a);
    body.push(0x41, 0);
    const app = await compileApp(
      wasmModule({
        types: [
          { params: [I32, I32, I32], results: [I32] },
          { params: [], results: [I32] },
        ],
        imports: [{ module: 'env', name: 'name_owner', type: 0 }],
        memory: [0x01, 0x00, 0x01],
        exports: [
          { name: 'memory', kind: 2, index: 0 },
          { name: 'f', kind: 0, index: 1 },
        ],
        funcs: [{ type: 1, body }],
        extra: [dataSegment([...Buffer.from('abcdefghijklmnopqrstuvwxyz')])],
      }),
    );
    let reads = 0;
    const r = runner({
      read: async () => {
        reads++;
        return undefined;
      },
    });
    const out = await r.call({ app, state: new Map(), method: 'f', args: [], gas: 100_000_000n, env });
    expect(out.halt).toBe('trap');
    expect(out.message).toContain(`more than ${MAX_CHAIN_READS} chain reads`);
    expect(reads).toBe(MAX_CHAIN_READS);
  }, 30_000);

  it('reads block on the bridge: a hosted op before a read happens once; a failed read traps; no transfers', async () => {
    const app = await compileApp(probeModule());
    const seen: string[] = [];
    let reads = 0;
    const r = runner({
      read: async () => {
        reads++;
        return undefined;
      },
      hosted: async (op) => {
        seen.push(op);
        return new Uint8Array([1]);
      },
    });
    const out = await r.call({ app, state: new Map(), method: 'sendRead', args: [], gas: 10_000_000n, env });
    expect(out.halt).toBe('ok');
    expect(seen).toEqual(['comm_send']);
    expect(reads).toBe(1);
    const failing = runner({
      read: async () => {
        throw new Error('the store is closed');
      },
    });
    const failed = await failing.call({
      app,
      state: new Map(),
      method: 'burnRead',
      args: [10],
      gas: 10_000_000n,
      env,
    });
    expect(failed).toMatchObject({ halt: 'trap', message: 'the store is closed' });
    const paid = await r.call({ app, state: new Map(), method: 'pay', args: [], gas: 10_000_000n, env });
    expect(paid.halt).toBe('trap');
    expect(paid.message).toContain('env.transfer exists only on chain');
  }, 30_000);
});
