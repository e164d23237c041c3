/**
 * Real validator processes under faults (issue 4): kill -9 one validator, the other three keep
 * committing; restarted with `vos start --home`, it catches up by block sync and signs again. kill -9
 * two: no commits; restart one: commits resume. No validator ever double signs (no evidence in any
 * block). A fresh full node joins with `--join`, syncs more than 1,000 blocks and reports the same
 * blocks and state roots.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RpcClient } from '../../rpc/client.js';
import {
  BIN,
  type DevnetInfo,
  heightOf,
  randomBasePort,
  sleep,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';

type Header = { hash: string; stateRoot: string; height: number };
type CommitJSON = { signatures: { flag: string }[] };

const rpc = (url: string) => new RpcClient(url, { timeoutMs: 5000 });

function startNode(home: string, env: Record<string, string> = {}, args: string[] = []): ChildProcess {
  const p = spawn(process.execPath, [BIN, 'start', '--home', home, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  p.stderr?.resume();
  return p;
}

function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function signerIndex(url: string, address: string, height: number): Promise<number> {
  const v = (await rpc(url).call('chain_getValidators', [height])) as { validators: { address: string }[] };
  return v.validators.findIndex((x) => x.address === address);
}

async function signed(url: string, height: number, index: number): Promise<boolean> {
  const c = (await rpc(url).call('chain_getCommit', [height])) as CommitJSON | null;
  return c !== null && c.signatures[index]?.flag === 'commit';
}

describe('devnet under faults (real processes)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  const extra: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-faults-'));
    // Blocks as fast as consensus goes (1,000 in ~30 s).
    ({ proc: supervisor, info } = await startDevnet(dir, 4, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '0',
    }));
  }, 90_000);

  afterAll(async () => {
    for (const p of extra) await stopProcess(p);
    await stopProcess(supervisor);
    for (const n of info?.nodes ?? []) kill9(n.pid);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('kill -9 one validator: the rest commit; restarted, it catches up and signs again', async () => {
    const [n0, n1, n2, n3] = info.nodes;
    await waitFor('height 10', async () => (await heightOf(n0.rpc)) >= 10, 60_000);
    kill9(n3.pid);
    const h0 = await heightOf(n0.rpc);
    await waitFor(
      'three validators commit 10 more blocks',
      async () => (await heightOf(n0.rpc)) >= h0 + 10,
      60_000,
    );
    const restarted = startNode(n3.home, { VOS_EMPTY_BLOCK_INTERVAL_MS: '0' });
    extra.push(restarted);
    await waitFor(
      'the restarted validator catches up',
      async () => (await heightOf(n3.rpc)) >= (await heightOf(n0.rpc)) - 2,
      60_000,
    );
    const idx = await signerIndex(n0.rpc, n3.address, await heightOf(n0.rpc));
    expect(idx).toBeGreaterThanOrEqual(0);
    await waitFor(
      'its signature in a new commit',
      async () => {
        const h = await heightOf(n1.rpc);
        for (let x = h; x > h - 5 && x > 0; x--) if (await signed(n1.rpc, x, idx)) return true;
        return false;
      },
      60_000,
    );
    void n2;
  }, 240_000);

  it('kill -9 two validators: no commits; restart one: commits resume', async () => {
    const [n0, n1, n2, n3] = info.nodes;
    // n3 runs as `extra[0]` now; kill n2 and n3.
    kill9(n2.pid);
    await stopProcess(extra[0], 'SIGKILL');
    await sleep(1500);
    const stalled = await heightOf(n0.rpc);
    await sleep(4000);
    // At most the height in flight can finish; then nothing.
    expect(await heightOf(n0.rpc)).toBeLessThanOrEqual(stalled + 1);
    expect(await heightOf(n1.rpc)).toBeLessThanOrEqual(stalled + 1);
    const back = startNode(n2.home, { VOS_EMPTY_BLOCK_INTERVAL_MS: '0' });
    extra.push(back);
    await waitFor('commits resume', async () => (await heightOf(n0.rpc)) >= stalled + 5, 90_000);
    const again = startNode(n3.home, { VOS_EMPTY_BLOCK_INTERVAL_MS: '0' });
    extra.push(again);
  }, 180_000);

  it('a fresh full node joins with --join, syncs over 1,000 blocks: same blocks and state roots', async () => {
    const n0 = info.nodes[0];
    let lastLog = 0;
    // A node whose height stands still while the others commit: its log's tail is printed once (a CI
    // run saw node1 stop at 568 while answering RPC; alone it never happened).
    const stuck = new Map<number, { height: number; since: number; shown: boolean }>();
    await waitFor(
      'height 1,050',
      async () => {
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          const hs = await Promise.all(info.nodes.map((n) => heightOf(n.rpc).catch(() => -1)));
          process.stdout.write(`devnet heights: ${hs.join(' ')}\n`);
          for (const [i, h] of hs.entries()) {
            const s = stuck.get(i);
            if (s === undefined || s.height !== h)
              stuck.set(i, { height: h, since: Date.now(), shown: false });
            else if (!s.shown && Date.now() - s.since > 30_000 && Math.max(...hs) > h + 20) {
              s.shown = true;
              const log = await readFile(join(info.nodes[i].home, 'node.log'), 'utf8').catch(() => '');
              process.stdout.write(
                `node${i} stuck at ${h}; its log ends:\n${log.split('\n').slice(-60).join('\n')}\n`,
              );
            }
          }
        }
        return (await heightOf(n0.rpc)) >= 1050;
      },
      // Beside the other jest worker's devnets a CI run made ~5 blocks/s (570 at 120 s): bounded at 240 s.
      240_000,
    );
    const home = join(dir, 'full');
    // A block of its own (test/helpers/ports.ts): below the ephemeral range, held by no other test.
    const port = randomBasePort();
    const init = spawn(
      process.execPath,
      [
        BIN,
        'init',
        '--home',
        home,
        '--genesis',
        join(dir, 'genesis.json'),
        '--rpc-port',
        String(port),
        '--p2p-port',
        String(port + 1),
        '--dns-port',
        String(port + 2),
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => init.once('exit', r));
    expect(init.exitCode).toBe(0);
    const full = startNode(home, {}, ['--join', n0.p2p]);
    extra.push(full);
    const url = `http://127.0.0.1:${port}`;
    const target = 1000;
    await waitFor('the full node synced 1,000 blocks', async () => (await heightOf(url)) >= target, 120_000);
    for (const h of [1, 500, target]) {
      const [a, b] = await Promise.all([
        rpc(url).call('chain_getHeader', [h]) as Promise<Header>,
        rpc(n0.rpc).call('chain_getHeader', [h]) as Promise<Header>,
      ]);
      expect(a.hash).toBe(b.hash);
      expect(a.stateRoot).toBe(b.stateRoot);
    }
    // It was told of node0 only; the DHT (its routing-table refresh dials the peers it learns) finds the
    // other three validators.
    await waitFor(
      'the full node connected to all four validators',
      async () => ((await rpc(url).call('node_status', [])) as { peers: number }).peers >= 4,
      30_000,
    );
    // It keeps following: the same head as node0 within a few blocks.
    await waitFor(
      'the full node follows the head',
      async () => Math.abs((await heightOf(url)) - (await heightOf(n0.rpc))) <= 3,
      60_000,
    );
  }, 420_000);

  it('a chain DB that lost its last writes (signer guard and WAL ahead): it syncs the missing blocks and signs again', async () => {
    const [n0, n1] = info.nodes;
    await waitFor('n1 at height 5', async () => (await heightOf(n1.rpc)) >= 5, 60_000);
    // A copy of n1's chain DB taken while it is down stands for the state a power loss leaves.
    kill9(n1.pid);
    await sleep(500);
    const backup = join(dir, 'n1-chain-backup');
    await cp(join(n1.home, 'data', 'chain'), backup, { recursive: true });
    const lost = await heightOf(n0.rpc);
    const first = startNode(n1.home, { VOS_EMPTY_BLOCK_INTERVAL_MS: '0' });
    extra.push(first);
    // It signs blocks well past the copy: the guard and the WAL move ahead of it.
    const idx = await signerIndex(n0.rpc, n1.address, lost);
    await waitFor(
      'n1 signs 20 blocks past the copy',
      async () => {
        const h = await heightOf(n0.rpc);
        return h > lost + 20 && (await signed(n0.rpc, h, idx));
      },
      60_000,
    );
    await stopProcess(first, 'SIGKILL');
    const guard = JSON.parse(await readFile(join(n1.home, 'data', 'signer-state.json'), 'utf8')) as {
      height: number;
    };
    expect(guard.height).toBeGreaterThan(lost + 10);
    await rm(join(n1.home, 'data', 'chain'), { recursive: true, force: true });
    await cp(backup, join(n1.home, 'data', 'chain'), { recursive: true });
    const back = startNode(n1.home, { VOS_EMPTY_BLOCK_INTERVAL_MS: '0' });
    extra.push(back);
    await waitFor(
      'n1 syncs past its guard height',
      async () => (await heightOf(n1.rpc)) > guard.height,
      60_000,
    );
    await waitFor(
      'n1 signs again above its guard height',
      async () => {
        const h = await heightOf(n0.rpc);
        for (let x = h; x > h - 5 && x > guard.height; x--) if (await signed(n0.rpc, x, idx)) return true;
        return false;
      },
      60_000,
    );
  }, 240_000);

  it('no validator ever double signed: no evidence in any block', async () => {
    const n0 = info.nodes[0];
    const head = await heightOf(n0.rpc);
    const client = rpc(n0.rpc);
    // Batches of 100: the node's batch cap (rpc.maxBatch).
    for (let start = 1; start <= head; start += 100) {
      const calls = [];
      for (let h = start; h < Math.min(head + 1, start + 100); h++)
        calls.push({ method: 'chain_getBlock', params: [h] });
      const blocks = (await client.batch(calls)) as ({ evidence: unknown[] } | Error)[];
      for (const b of blocks) {
        if (b instanceof Error) throw b;
        expect(b.evidence).toEqual([]);
      }
    }
  }, 120_000);
});
