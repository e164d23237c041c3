/**
 * Distributed storage on a 6-node devnet of real processes (every node a validator and a provider),
 * through the CLI and JSON-RPC only: a 50 MB file stored with `vos store put --distributed` from node0
 * (3+3 shards: the genesis 4+4 shrunk to the six providers), placement visible on every node; no
 * plaintext in any shard file; another node cannot open it; kill -9 three providers and `vos store get`
 * on node0 still returns the same sha256; the three restarted, a provider that deletes its shard fails
 * its next audit (a fault on chain) and the shard of a 3+2 object is repaired onto the sixth provider,
 * on every node's view.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RpcClient } from '../../rpc/client.js';
import { execVos, execVosJson } from '../helpers/cli.js';
import {
  BIN,
  type DevnetInfo,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';

const run = promisify(execFile);
const SIZE = 50 * 1024 * 1024;
const MARKER = 'VOS-PLAINTEXT-LINE-';

interface Shard {
  index: number;
  cid: string;
  provider: string;
  status: string;
  provenEpoch: number;
}
interface Stat {
  id: string;
  k: number;
  m: number;
  size: number;
  healthy: number;
  shards: Shard[];
}

const vos = (args: string[]) => execVos(args);
const vosJson = <T>(args: string[]) => execVosJson<T>(args);

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c);
  return h.digest('hex');
}

async function shardFiles(home: string): Promise<string[]> {
  const dir = join(home, 'data', 'storage', 'shards');
  const out: string[] = [];
  for (const sub of await readdir(dir).catch(() => [] as string[])) {
    if (sub === 'tmp') continue;
    for (const f of await readdir(join(dir, sub))) out.push(join(dir, sub, f));
  }
  return out;
}

describe('distributed storage on a 6-node devnet', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  const restarted: ChildProcess[] = [];
  let file = '';
  let digest = '';
  let id = '';
  const rpc = (i: number) => info.nodes[i].rpc;
  const stat = (i: number) => new RpcClient(rpc(i)).call<Stat>('storage_stat', [id]);
  const nodeOf = (address: string) => info.nodes.findIndex((n) => n.address === address);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-dstore-'));
    ({ proc: supervisor, info } = await startDevnet(dir, 6, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '200',
    }));
    // Every node registers itself as a provider in its first blocks.
    await waitFor(
      'six providers',
      async () => (await new RpcClient(rpc(0)).call<unknown[]>('storage_providers', [])).length === 6,
      60_000,
    );
    // 50 MB: lines of text (to look for in the shards), then random bytes.
    file = join(dir, 'object.bin');
    const text = Buffer.from(
      Array.from({ length: 200_000 }, (_, i) => `${MARKER}${String(i).padStart(8, '0')}\n`).join(''),
    );
    await writeFile(file, Buffer.concat([text, randomBytes(SIZE - text.length)]));
    digest = await sha256File(file);
  }, 120_000);

  afterAll(async () => {
    for (const p of restarted) await stopProcess(p);
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('vos store put --distributed: 3+3 shards on six providers, the placement on every node', async () => {
    const r = await vosJson<{ id: string; cid: string; size: number; k: number; m: number }>([
      'store',
      'put',
      file,
      '--distributed',
      '--rpc',
      rpc(0),
    ]);
    expect(r).toMatchObject({ size: SIZE, k: 3, m: 3 });
    expect(r.id).toMatch(/^0x[0-9a-f]{64}$/);
    id = r.id;
    // The CID is the one the IPFS importer gives (the local store computes it the same way).
    const local = await vosJson<{ cid: string }>(['store', 'put', file, '--rpc', rpc(1)]);
    expect(r.cid).toBe(local.cid);
    for (let i = 0; i < 6; i++) {
      const s = await waitFor('the placement', () => stat(i).catch(() => undefined), 10_000);
      expect(s.healthy).toBe(6);
      expect(new Set(s.shards.map((x) => x.provider)).size).toBe(6);
    }
  }, 180_000);

  it('over the quota or with too few providers: refused before any byte is placed, nothing left behind', async () => {
    const before = await Promise.all(info.nodes.map((n) => shardFiles(n.home)));
    const big = join(dir, 'sparse.bin');
    await run('truncate', ['-s', String(2 * 1024 ** 3), big]); // 2 GiB > the 1 GiB quota, no disk used
    const q = await vos(['store', 'put', big, '--distributed', '--rpc', rpc(0), '--json']);
    expect(q.code).toBe(1);
    expect(JSON.parse(q.stdout).error.code).toBe('QUOTA_EXCEEDED');
    await rm(big);
    const p = await vos([
      'store',
      'put',
      file,
      '--distributed',
      '--data',
      '4',
      '--parity',
      '4',
      '--rpc',
      rpc(0),
      '--json',
    ]);
    expect(JSON.parse(p.stdout).error.code).toBe('NOT_ENOUGH_PROVIDERS');
    expect(await Promise.all(info.nodes.map((n) => shardFiles(n.home)))).toEqual(before);
    const usage = await new RpcClient(rpc(3)).call<{ used: number }>('storage_usage', [
      info.nodes[0].address,
    ]);
    expect(usage.used).toBe(SIZE);
  }, 120_000);

  it('holders cannot read what they hold; another node cannot open it', async () => {
    // The text lines (any copy of one contains the marker) and 64 16-byte windows of the random part.
    const all = await readFile(file);
    const windows = Array.from({ length: 64 }, (_, i) => {
      const off = 4_000_000 + Math.floor((i * (SIZE - 4_000_016)) / 64);
      return all.subarray(off, off + 16);
    });
    let files = 0;
    for (const n of info.nodes)
      for (const f of await shardFiles(n.home)) {
        files++;
        const bytes = await readFile(f);
        expect(bytes.includes(MARKER)).toBe(false);
        for (const w of windows) if (bytes.includes(w)) throw new Error(`plaintext found in ${f}`);
      }
    expect(files).toBe(6);
    const other = await vos(['store', 'get', id, '-o', join(dir, 'nope'), '--rpc', rpc(1)]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('only its owner');
  }, 120_000);

  it('a published item is found by an English and a Chinese word on every node within 2 blocks; update, retract; GET /content', async () => {
    const note = join(dir, 'note.txt');
    await writeFile(note, '基于区块链技术的操作系统: a note about storage\n'.repeat(100));
    const home0 = info.nodes[0].home;
    const pub = await vosJson<{ id: string; cid: string; height: number }>([
      'publish',
      note,
      '--title',
      'Distributed operating system',
      '--description',
      '基于区块链技术的操作系统',
      '--tags',
      'vos,demo',
      '--home',
      home0,
      '--rpc',
      rpc(0),
    ]);
    type Found = { results: { id: string; title: string }[]; cursor: string | null };
    const search = (i: number, q: string, extra: Record<string, unknown> = {}) =>
      new RpcClient(rpc(i)).call<Found>('search_query', [{ q, ...extra }]);
    const heightOf = async (i: number) =>
      (await new RpcClient(rpc(i)).call<{ height: number }>('node_status', [])).height;
    for (let i = 0; i < 6; i++) {
      const seenAt = await waitFor(
        `node${i} to find it`,
        async () =>
          (await search(i, '区块链')).results.some((r) => r.id === pub.id) ? heightOf(i) : undefined,
        20_000,
      );
      expect(seenAt - pub.height).toBeLessThanOrEqual(2);
      expect((await search(i, 'operating')).results.map((r) => r.id)).toContain(pub.id);
      expect((await search(i, 'operating', { kind: 'image' })).results).toEqual([]);
      expect((await search(i, 'operating', { owner: info.nodes[0].address })).results[0]?.id).toBe(pub.id);
    }
    const page = await search(3, 'operating', { limit: 1 });
    expect(page.results).toHaveLength(1);
    // Content with its type, and a range.
    const res = await fetch(new URL(`/content/${pub.cid}`, rpc(0)), { headers: { range: 'bytes=0-8' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe('基于区');
    // Any node serves it: node5 fetches it from the publisher (checked block by block) and streams it.
    const fetched = join(dir, 'note-from-node5.txt');
    const f = await vos(['fetch', pub.cid, '-o', fetched, '--rpc', rpc(5)]);
    expect(f.stderr).toBe('');
    expect(await readFile(fetched)).toEqual(await readFile(note));
    // An update changes what is found; a retraction removes it everywhere.
    await vosJson([
      'publish',
      'update',
      pub.id,
      '--title',
      'Renamed kernel',
      '--home',
      home0,
      '--rpc',
      rpc(0),
    ]);
    for (let i = 0; i < 6; i++)
      await waitFor(
        `node${i} to see the update`,
        async () => (await search(i, 'kernel')).results.some((r) => r.id === pub.id) || undefined,
        20_000,
      );
    expect((await search(5, 'operating')).results.map((r) => r.id)).not.toContain(pub.id);
    await vosJson(['publish', 'retract', pub.id, '--home', home0, '--rpc', rpc(0)]);
    for (let i = 0; i < 6; i++)
      await waitFor(
        `node${i} to drop it`,
        async () => (await search(i, 'kernel')).results.length === 0 || undefined,
        20_000,
      );
  }, 180_000);

  it('kill -9 three providers: vos store get from a surviving node returns the same bytes', async () => {
    for (const i of [3, 4, 5]) process.kill(info.nodes[i].pid, 'SIGKILL');
    const out = join(dir, 'back.bin');
    const r = await vos(['store', 'get', id, '-o', out, '--rpc', rpc(0)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await sha256File(out)).toBe(digest);
    // Back up: the chain (6 validators, 3 down) goes on once they are.
    for (const i of [3, 4, 5])
      restarted.push(
        spawn(process.execPath, [BIN, 'start', '--home', info.nodes[i].home, '--log-level', 'warn'], {
          stdio: 'ignore',
          env: { ...process.env, VOS_EMPTY_BLOCK_INTERVAL_MS: '200' },
        }),
      );
    const h = await new RpcClient(rpc(0)).call<{ height: number }>('node_status', []);
    try {
      await waitFor(
        'the chain to go on',
        async () =>
          (await new RpcClient(rpc(0)).call<{ height: number }>('node_status', [])).height > h.height + 3,
        150_000,
      );
    } catch (err) {
      // Seen once in a loaded CI run: show where each node stands.
      const heights = await Promise.all(
        info.nodes.map((_, i) =>
          new RpcClient(rpc(i), { timeoutMs: 2000 })
            .call<{ height: number; peers: number }>('node_status', [])
            .then((s) => `node${i} ${s.height} (${s.peers} peers)`)
            .catch((e) => `node${i} ${String(e)}`),
        ),
      );
      process.stdout.write(`after the restart, from ${h.height}: ${heights.join(', ')}\n`);
      throw err;
    }
  }, 240_000);

  it('a provider that deletes its shard fails its audit (on chain) and the shard is repaired elsewhere', async () => {
    // A 3+2 object: five shards on six providers leave one to repair onto (one shard per provider).
    const small = join(dir, 'small.bin');
    await writeFile(small, randomBytes(3 * 1024 * 1024));
    const smallDigest = await sha256File(small);
    const put = await vosJson<{ id: string; k: number; m: number }>([
      'store',
      'put',
      small,
      '--distributed',
      '--data',
      '3',
      '--parity',
      '2',
      '--rpc',
      rpc(0),
    ]);
    expect(put).toMatchObject({ k: 3, m: 2 });
    id = put.id;
    const before = await waitFor('the placement', () => stat(0).catch(() => undefined), 10_000);
    // Every shard proven in some epoch first: audits run.
    await waitFor(
      'audit proofs',
      async () => (await stat(0)).shards.every((s) => s.provenEpoch >= 1),
      90_000,
    );
    const victim = before.shards.find((s) => nodeOf(s.provider) !== 0 && nodeOf(s.provider) !== 1) as Shard;
    const home = info.nodes[nodeOf(victim.provider)].home;
    for (const f of await shardFiles(home)) await rm(f);
    const faultsOf = async () =>
      (await new RpcClient(rpc(2)).call<{ address: string; faults: number }[]>('storage_providers', [])).find(
        (p) => p.address === victim.provider,
      )?.faults ?? 0;
    await waitFor('the fault on chain', async () => (await faultsOf()) >= 1, 120_000);
    // Repaired: the shard has another provider and every shard is healthy again, on every node.
    for (let i = 0; i < 6; i++) {
      const s = await waitFor(
        `the repair seen by node${i}`,
        async () => {
          const x = await stat(i);
          const sh = x.shards[victim.index];
          return x.healthy === 5 && sh.provider !== victim.provider ? x : undefined;
        },
        120_000,
      );
      expect(s.shards[victim.index].cid).toBe(victim.cid);
      expect(new Set(s.shards.map((x) => x.provider)).size).toBe(5);
    }
    const out = join(dir, 'after-repair.bin');
    expect((await vos(['store', 'get', id, '-o', out, '--rpc', rpc(0)])).code).toBe(0);
    expect(await sha256File(out)).toBe(smallDigest);
    // The owner deletes it: gone from every node's state, and the holders drop the shard files.
    const cids = (await stat(0)).shards.map((x) => x.cid);
    await vosJson(['store', 'delete', id, '--rpc', rpc(0)]);
    for (let i = 0; i < 6; i++)
      await waitFor(
        `node${i} to forget it`,
        async () =>
          (await stat(i).then(
            () => false,
            () => true,
          )) || undefined,
        20_000,
      );
    await waitFor(
      'the shard files to go',
      async () => {
        for (const n of info.nodes)
          for (const f of await shardFiles(n.home)) if (cids.some((c) => f.endsWith(c))) return undefined;
        return true;
      },
      30_000,
    );
  }, 300_000);
});
