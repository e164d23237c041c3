/**
 * WASM apps on a 4-node devnet of real processes, through the CLI and JSON-RPC only. Three of the
 * nodes are restarted with other V8 tiers and stack sizes (`--liftoff-only`, `--no-liftoff`,
 * `--stack-size`), so every block of app txs is executed by differently compiled code and must still
 * give one state root.
 *
 * - The counter: incremented through txs from two nodes, read the same by app_query on the others.
 * - Hostile modules: refused at deploy with the rule named (float/NaN, SIMD, bulk memory, a start
 *   function, deep nesting, a huge br_table, malformed bytes, an unknown import; oversize code is
 *   refused by the CLI and, sent anyway, by the node at admission); a recursion bomb, an endless
 *   loop and a memory bomb halt with the same receipt on every node, and the chain goes on.
 * - The sample apps: a guestbook entry; a chat room created by the owner of a VOS name and found by
 *   that name on another node; an app published in the store as kind=executable, found by search and
 *   installed by another account, which then calls it.
 * - Off chain: node0 serves a hosted guestbook and the courier app; node1 calls them over comm, a call
 *   past its budget halts out of gas and is charged, the courier stores bytes in distributed storage
 *   and sends a message that node2 receives.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Address } from '../../chain/address.js';
import { loadKey } from '../../chain/keystore.js';
import { Tx } from '../../chain/tx/tx.js';
import { RpcClient } from '../../rpc/client.js';
import { toHex } from '../../util/bytes.js';
import { appPayload } from '../../vm/state.js';
import { WASM_LIMITS } from '../../vm/wasm/limits.js';
import { execVos, execVosJson } from '../helpers/cli.js';
import {
  BIN,
  type DevnetInfo,
  heightOf,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';
import { haltsModule, memoryBombModule, recursionModule, uleb, wasmModule } from '../helpers/wasm.js';

const BUILD = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'apps', 'build');
const FLAGS = [[], ['--liftoff-only'], ['--no-liftoff'], ['--stack-size=2000']];

const vos = (args: string[]) => execVos(args, 120_000);
const vosJson = <T>(args: string[]) => execVosJson<T>(args, 120_000);
const fn = (body: number[]) => ({ funcs: [{ type: 0, body }], exports: [{ name: 'f', kind: 0, index: 0 }] });

interface Query {
  halt: string;
  value: string | null;
  outputText: string | null;
  gasUsed: string;
  quotaUsed?: string;
}

describe('WASM apps on a 4-node devnet (nodes on different V8 tiers)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  const restarted: ChildProcess[] = [];
  const home = (i: number) => ['--home', info.nodes[i].home];
  const call = <T>(i: number, m: string, p: unknown[] = []) =>
    new RpcClient(info.nodes[i].rpc, { timeoutMs: 30_000 }).call<T>(m, p);
  const hexOf = (i: number) => Address.fromString(info.nodes[i].address).toHex();
  const file = async (name: string, bytes: Uint8Array) => {
    const f = join(dir, name);
    await writeFile(f, bytes);
    return f;
  };
  const deploy = async (i: number, path: string, extra: string[] = []) =>
    (await vosJson<{ app: string }>(['app', 'deploy', path, ...home(i), ...extra])).app;
  const query = (i: number, app: string, method: string, extra: string[] = []) =>
    vosJson<Query>(['app', 'query', app, method, '--rpc', info.nodes[i].rpc, ...extra]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-vm-'));
    // One control epoch for the whole file: the hosted calls' quota use adds up without a reset.
    const params = join(dir, 'params.json');
    await writeFile(params, JSON.stringify({ epochLength: 4000, unbondingPeriod: 10_000 }));
    ({ proc: supervisor, info } = await startDevnet(
      join(dir, 'net'),
      4,
      randomBasePort(),
      { VOS_EMPTY_BLOCK_INTERVAL_MS: '200' },
      ['--params', params],
    ));
    await waitFor('height 3', async () => (await heightOf(info.nodes[0].rpc)) >= 3, 60_000);
    // Restart nodes 1-3 with other V8 flags (the supervisor never restarts a node by itself).
    for (let i = 1; i < 4; i++) {
      process.kill(info.nodes[i].pid, 'SIGTERM');
      await waitFor(
        `node${i} down`,
        async () => {
          try {
            process.kill(info.nodes[i].pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        20_000,
      );
      const p = spawn(process.execPath, [...FLAGS[i], BIN, 'start', '--home', info.nodes[i].home], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, VOS_EMPTY_BLOCK_INTERVAL_MS: '200' },
      });
      p.stderr?.resume();
      restarted.push(p);
    }
    const h = await heightOf(info.nodes[0].rpc);
    for (let i = 1; i < 4; i++)
      await waitFor(`node${i} back`, async () => (await heightOf(info.nodes[i].rpc)) > h + 2, 60_000);
  }, 180_000);

  afterAll(async () => {
    for (const p of restarted) await stopProcess(p);
    await stopProcess(supervisor);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the counter: incremented from two nodes, read the same everywhere; one state root', async () => {
    const app = await deploy(0, join(BUILD, 'counter.wasm'));
    expect(app).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await vos(['app', 'call', app, 'increment', ...home(1)])).stdout.trim()).toBe('1');
    const second = await vosJson<{ value: string; height: number }>([
      'app',
      'call',
      app,
      'increment',
      ...home(2),
    ]);
    expect(second.value).toBe('2');
    for (let i = 0; i < 4; i++) {
      await waitFor(
        `node${i} at ${second.height}`,
        async () => (await heightOf(info.nodes[i].rpc)) >= second.height,
        30_000,
      );
      expect((await query(i, app, 'get')).value).toBe('2');
    }
    const roots = await Promise.all(
      [0, 1, 2, 3].map(
        async (i) => (await call<{ stateRoot: string }>(i, 'chain_getHeader', [second.height])).stateRoot,
      ),
    );
    expect(new Set(roots).size).toBe(1);
    const listed = await vosJson<{ apps: { app: string }[] }>(['app', 'list', '--rpc', info.nodes[3].rpc]);
    expect(listed.apps.map((a) => a.app)).toContain(app);
  }, 120_000);

  it('hostile modules: refused at deploy naming the rule, or halting the same on every node', async () => {
    const deep = WASM_LIMITS.nesting + 5;
    const targets = WASM_LIMITS.brTable + 1;
    const refused: [string, Uint8Array][] = [
      ['APP_WASM_FORBIDDEN:float', wasmModule(fn([0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0x1a, 0x41, 0]))],
      ['APP_WASM_FORBIDDEN:simd', wasmModule(fn([0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x41, 0]))],
      [
        'APP_WASM_FORBIDDEN:bulk-memory',
        wasmModule({ memory: [1, 0, 1], ...fn([0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0b, 0x00, 0x41, 0]) }),
      ],
      ['APP_WASM_FORBIDDEN:start', wasmModule({ ...fn([]), types: [{ params: [], results: [] }], start: 0 })],
      [
        'APP_WASM_LIMIT:nesting',
        wasmModule(fn([...Array(deep).fill([0x02, 0x40]).flat(), ...Array(deep).fill(0x0b), 0x41, 0])),
      ],
      [
        'APP_WASM_LIMIT:br-table-size',
        wasmModule(
          fn([0x02, 0x40, 0x41, 0, 0x0e, ...uleb(targets), ...Array(targets + 1).fill(0), 0x0b, 0x41, 0]),
        ),
      ],
      ['APP_WASM_MALFORMED', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x0a, 0xff])],
      [
        'APP_UNKNOWN_IMPORT:env.exec',
        wasmModule({ imports: [{ module: 'env', name: 'exec', type: 0 }], ...fn([0x41, 0]) }),
      ],
    ];
    for (const [i, [code, bytes]] of refused.entries()) {
      const r = await vos(['app', 'deploy', await file(`hostile-${i}.wasm`, bytes), ...home(i % 4)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`failed: ${code}`);
    }
    // Oversize code: the CLI says so before signing; a node refuses the tx at admission.
    const big = wasmModule(fn([...new Array(100 * 1024).fill(0x01), 0x41, 0]));
    const tooBig = await vos(['app', 'deploy', await file('big.wasm', big), ...home(0)]);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toContain('one deploy tx carries at most');
    const key = await loadKey(join(info.nodes[0].home, 'key.json'));
    const acct = await call<{ pendingNonce: string }>(0, 'chain_getAccount', [info.nodes[0].address]);
    const raw = Tx.sign(
      {
        chainId: info.chainId,
        nonce: BigInt(acct.pendingNonce),
        payload: appPayload.deploy(big),
        gasLimit: 10n ** 8n,
        gasPrice: 1n,
      },
      key,
    );
    await expect(call(0, 'tx_send', [toHex(raw.serialize())])).rejects.toMatchObject({
      data: { code: 'TX_TOO_LARGE' },
    });
    // Valid modules whose calls halt: the same receipt on every node.
    const rec = await deploy(0, await file('recursion.wasm', recursionModule()));
    const halts = await deploy(1, await file('halts.wasm', haltsModule()));
    const bomb = await deploy(2, await file('bomb.wasm', memoryBombModule()));
    const cases: [string, string[], string][] = [
      [rec, ['f', '10000000', '--gas', '500000000'], 'APP_STACK_LIMIT'],
      [halts, ['spin', '--gas', '5000000'], 'APP_OUT_OF_GAS'],
      [halts, ['div', '7', '0'], 'APP_TRAP'],
      [bomb, ['bomb', '--gas', '50000000'], 'APP_OUT_OF_GAS'],
    ];
    const hashes: string[] = [];
    for (const [i, [app, args, code]] of cases.entries()) {
      const r = await vos(['app', 'call', app, ...args, ...home(i % 4)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`failed: ${code}`);
      hashes.push(/tx (0x[0-9a-f]{64})/.exec(r.stderr)![1]);
    }
    const h = await heightOf(info.nodes[0].rpc);
    for (const hash of hashes) {
      const seen = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          waitFor(
            `tx on node${i}`,
            async () => (await call<{ receipt: unknown } | null>(i, 'tx_get', [hash]))?.receipt ?? undefined,
            30_000,
          ),
        ),
      );
      for (const r of seen) expect(r).toEqual(seen[0]);
    }
    // The nodes keep committing.
    for (let i = 0; i < 4; i++)
      await waitFor(`node${i} goes on`, async () => (await heightOf(info.nodes[i].rpc)) >= h + 3, 30_000);
  }, 240_000);

  it('the sample apps: a guestbook entry, a chat room found by name, an app from the store', async () => {
    const gb = await deploy(0, join(BUILD, 'guestbook.wasm'));
    const signed = await vosJson<{ value: string }>([
      'app',
      'call',
      gb,
      'sign',
      '--input',
      'hello from node1',
      ...home(1),
    ]);
    expect(signed.value).toBe('1');
    const list = JSON.parse((await query(2, gb, 'list', ['0', '10'])).outputText!);
    expect(list).toEqual([expect.objectContaining({ n: 0, by: hexOf(1), text: 'hello from node1' })]);

    await vosJson(['name', 'register', 'lobby', ...home(0)]);
    const rooms = await deploy(3, join(BUILD, 'chatrooms.wasm'));
    const stolen = await vos(['app', 'call', rooms, 'create', '--input', 'lobby\tmine', ...home(1)]);
    expect(stolen.stderr).toContain('APP_ABORT:only the owner of the name creates its room');
    await vosJson(['app', 'call', rooms, 'create', '--input', 'lobby\tgeneral talk', ...home(0)]);
    await vosJson(['app', 'call', rooms, 'join', '--input', 'lobby', ...home(2)]);
    const room = await query(1, rooms, 'find', ['--input', 'lobby']);
    expect(JSON.parse(room.outputText!)).toMatchObject({
      name: 'lobby',
      owner: hexOf(0),
      topic: 'general talk',
      members: 1,
    });

    const store = await deploy(0, join(BUILD, 'appstore.wasm'));
    const pub = await vosJson<{ id: string }>([
      'publish',
      join(BUILD, 'counter.wasm'),
      '--title',
      'Tally counter',
      '--description',
      'counts every call',
      '--kind',
      'executable',
      ...home(1),
    ]);
    await vosJson(['app', 'call', store, 'submit', '--input', pub.id, ...home(1)]);
    const found = await waitFor(
      'the app in the search index of node2',
      async () => {
        const r = await vosJson<{ results: { id: string; kind: string }[] }>([
          'search',
          'tally',
          '--rpc',
          info.nodes[2].rpc,
        ]);
        return r.results.find((x) => x.id === pub.id);
      },
      30_000,
    );
    expect(found.kind).toBe('executable');
    const inStore = JSON.parse((await query(2, store, 'search', ['--input', 'tally'])).outputText!);
    expect(inStore).toEqual([expect.objectContaining({ id: pub.id, title: 'Tally counter', installs: 0 })]);
    const installed = await vosJson<{ app: string }>([
      'app',
      'install',
      pub.id,
      '--store',
      store,
      ...home(2),
    ]);
    expect((await vos(['app', 'call', installed.app, 'increment', ...home(2)])).stdout.trim()).toBe('1');
    const after = JSON.parse((await query(3, store, 'list')).outputText!);
    expect(after[0]).toMatchObject({ id: pub.id, installs: 1 });
    const shown = await vosJson<{ owner: string }>([
      'app',
      'show',
      installed.app,
      '--rpc',
      info.nodes[0].rpc,
    ]);
    expect(shown.owner).toBe(info.nodes[2].address);
  }, 240_000);

  it('off chain: node0 serves apps, node1 calls them over comm; gas is charged; storage and messages', async () => {
    const gb = await deploy(0, join(BUILD, 'guestbook.wasm'), ['--hosted']);
    const courier = await deploy(0, join(BUILD, 'courier.wasm'), ['--hosted']);
    const plain = await vos(['app', 'deploy', join(BUILD, 'courier.wasm'), ...home(0)]);
    expect(plain.stderr).toContain('APP_HOSTED_ONLY_IMPORT:env.dstore_put');
    for (const app of [gb, courier]) await vosJson(['app', 'serve', app, ...home(0)]);
    const via = ['--via', info.nodes[0].address, ...home(1)];
    const first = await vosJson<Query>(['app', 'call', gb, 'sign', '--input', 'hosted hello', ...via]);
    expect(first.halt).toBe('ok');
    expect(JSON.parse(first.outputText!)).toMatchObject({ by: hexOf(1), text: 'hosted hello' });
    const poor = await vos(['app', 'call', gb, 'sign', '--input', 'x', '--gas', '1000', ...via]);
    expect(poor.code).toBe(1);
    expect(poor.stderr).toContain('halted: out_of_gas (gas charged 1000)');
    const next = await vosJson<Query>(['app', 'call', gb, 'count', ...via]);
    expect(BigInt(next.quotaUsed!)).toBe(BigInt(first.quotaUsed!) + 1000n + BigInt(next.gasUsed));
    expect(next.value).toBe('1');
    // Not on chain: a tx call is refused before it is sent.
    expect((await vos(['app', 'call', gb, 'count', ...home(1)])).stderr).toContain('hosted off chain');

    const stored = await vosJson<Query>([
      'app',
      'call',
      courier,
      'store',
      '--input',
      'kept by a hosted app',
      ...via,
    ]);
    const id = stored.outputText!;
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    const back = await vosJson<Query>(['app', 'call', courier, 'fetch', '--input', id, ...via]);
    expect(back.outputText).toBe('kept by a hosted app');
    const stat = await call<{ distributed: boolean }>(0, 'storage_stat', [id]);
    expect(stat.distributed).toBe(true);
    const sent = await vosJson<Query>([
      'app',
      'call',
      courier,
      'notify',
      '--input',
      `${info.nodes[2].address}\tfrom the courier`,
      ...via,
    ]);
    expect(sent.value).toBe('1');
    await waitFor(
      'the message at node2',
      async () =>
        (await call<{ text: string; direction: string }[]>(2, 'comm_history', [])).some(
          (m) => m.direction === 'in' && m.text === 'from the courier',
        ),
      30_000,
    );
    const metrics = await (await fetch(new URL('/metrics', info.nodes[0].rpc))).text();
    expect(metrics).toMatch(/vos_app_calls_total\{where="hosted",halt="out_of_gas"\} 1/);
  }, 240_000);
});
