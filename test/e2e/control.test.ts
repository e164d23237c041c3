/**
 * The control module on a 4-node devnet of real processes (every node a validator and a storage
 * provider), through the CLI and JSON-RPC only. Genesis (`vos devnet --params`): 40-block epochs,
 * audits every 10 blocks, an 8 MiB base storage quota, a 1 MiB threshold floor.
 *
 * node0 stores a 6 MiB object: the other three hold its shards, answer the audits and earn; node0
 * earns nothing for its own shard. After the epoch end: the holders' quotas are above the base and one
 * of them stores its whole quota (over the base), node0 is refused past its base quota with QUOTA_EXCEEDED; at
 * that boundary the holders' voting power is above their stake, node0's is its stake, and over the
 * set's 40 heights the proposer counts follow the powers. Then a node above the threshold and one at
 * or below it publish equally relevant items: every node ranks the boosted one first.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RpcClient } from '../../rpc/client.js';
import { execVos, execVosJson } from '../helpers/cli.js';
import { type DevnetInfo, randomBasePort, startDevnet, stopProcess, waitFor } from '../helpers/devnet.js';

const MiB = 1024 * 1024;
const EPOCH = 40;
const BASE = 8 * MiB;

interface ControlNode {
  address: string;
  epoch: number;
  contribution: string;
  threshold: string;
  quota: number;
  used: number;
  boost: number;
}
interface Validators {
  height: number;
  validators: { address: string; power: string }[];
}

const vos = (args: string[]) => execVos(args, 120_000);
const vosJson = <T>(args: string[]) => execVosJson<T>(args, 120_000);

describe('control module on a 4-node devnet', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  const rpc = (i: number) => info.nodes[i].rpc;
  const call = <T>(i: number, m: string, p: unknown[] = []) => new RpcClient(rpc(i)).call<T>(m, p);
  const standing = (i: number, of = i) => call<ControlNode>(i, 'control_getNode', [info.nodes[of].address]);
  const file = async (name: string, size: number) => {
    const f = join(dir, name);
    await writeFile(f, randomBytes(size));
    return f;
  };
  /** The epoch-end height at which the holders of node0's object first all have a contribution. */
  let boundary = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-control-'));
    const params = join(dir, 'params.json');
    await writeFile(
      params,
      JSON.stringify({
        epochLength: EPOCH,
        storage: { auditInterval: 10, baseQuota: BASE },
        control: { minThreshold: MiB },
      }),
    );
    ({ proc: supervisor, info } = await startDevnet(
      join(dir, 'net'),
      4,
      randomBasePort(),
      { VOS_EMPTY_BLOCK_INTERVAL_MS: '200' },
      ['--params', params],
    ));
    await waitFor(
      'four providers',
      async () => (await call<unknown[]>(0, 'storage_providers')).length === 4,
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('holders of an object earn from its audits: quotas rise, the non-contributor is refused past the base', async () => {
    const p = await call<{ epochLength: number; params: { storageBase: number; minThreshold: number } }>(
      0,
      'control_getParams',
    );
    expect(p).toMatchObject({ epochLength: EPOCH, params: { storageBase: BASE, minThreshold: MiB } });
    const put = await vosJson<{ id: string; size: number }>([
      'store',
      'put',
      await file('six.bin', 6 * MiB),
      '--distributed',
      '--rpc',
      rpc(0),
    ]);
    expect(put.size).toBe(6 * MiB);
    // The first epoch end where every holder has a contribution (and node0, holding only its own, none).
    const first = await waitFor(
      'an epoch where nodes 1-3 contributed',
      async () => {
        const s = await Promise.all([0, 1, 2, 3].map((i) => standing(0, i)));
        if (s[0].epoch === 0 || !s.every((x) => x.epoch === s[0].epoch)) return undefined;
        return s.slice(1).every((x) => BigInt(x.contribution) > 0n) ? s : undefined;
      },
      120_000,
    );
    boundary = first[0].epoch * EPOCH;
    expect(first[0].contribution).toBe('0');
    expect(first[0].quota).toBe(BASE);
    for (const x of first.slice(1)) expect(x.quota).toBeGreaterThan(BASE);
    // Every node computes the same standing from its own state.
    const core = (x: ControlNode) => [x.epoch, x.contribution, x.threshold, x.quota, x.boost];
    for (let i = 1; i < 4; i++) {
      const again = await Promise.all([0, 1, 2, 3].map((j) => standing(i, j)));
      if (again[0].epoch === first[0].epoch) expect(again.map(core)).toEqual(first.map(core));
    }
    // node0 (base quota, 6 MiB used) is refused 3 MiB more; a holder with a raised quota stores 12 MiB.
    const refused = await vos([
      'store',
      'put',
      await file('three.bin', 3 * MiB),
      '--distributed',
      '--rpc',
      rpc(0),
      '--json',
    ]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(JSON.parse(refused.stdout).error.message).toMatch(/exceed the storage quota/);
    const rich = [1, 2, 3].reduce((a, b) => (first[b].quota > first[a].quota ? b : a), 1);
    // It stores up to its whole quota: more than the base quota would allow.
    const size = first[rich].quota - first[rich].used;
    expect(size).toBeGreaterThan(BASE);
    const ok = await vosJson<{ size: number }>([
      'store',
      'put',
      await file('over.bin', size),
      '--distributed',
      '--rpc',
      rpc(rich),
    ]);
    expect(ok.size).toBe(size);
    // vos status shows it.
    const st = await vos(['status', '--rpc', rpc(1)]);
    expect(st.stdout).toMatch(/contrib\s+\d/);
    expect(st.stdout).toMatch(/quota\s+.* used of .* storage/);
  }, 240_000);

  it('at that epoch boundary the contributors gain voting power and propose proportionally more often', async () => {
    const set = await call<Validators>(0, 'chain_getValidators', [boundary + 2]);
    const stakeOf = async (a: string) =>
      BigInt((await call<{ stake: string }>(0, 'chain_getAccount', [a])).stake);
    const power = new Map(set.validators.map((v) => [v.address, BigInt(v.power)]));
    expect(power.get(info.nodes[0].address)).toBe(await stakeOf(info.nodes[0].address));
    for (let i = 1; i < 4; i++)
      expect(power.get(info.nodes[i].address)).toBeGreaterThan(await stakeOf(info.nodes[i].address));
    // The set signs heights boundary + 2 ... boundary + 41: count who proposed them.
    const last = boundary + EPOCH + 1;
    await waitFor(
      'the set to sign its heights',
      async () => (await call<{ height: number }>(0, 'node_status')).height >= last,
      120_000,
    );
    const count = new Map<string, number>();
    for (let h = boundary + 2; h <= last; h++) {
      const hd = await call<{ proposer: string }>(0, 'chain_getHeader', [h]);
      count.set(hd.proposer, (count.get(hd.proposer) ?? 0) + 1);
    }
    const total = [...power.values()].reduce((a, b) => a + b, 0n);
    const n0 = count.get(info.nodes[0].address) ?? 0;
    const expected0 = (EPOCH * Number(power.get(info.nodes[0].address))) / Number(total);
    process.stdout.write(
      `proposers of ${boundary + 2}..${last}: ${info.nodes.map((n) => `${n.name} ${count.get(n.address) ?? 0} (power ${power.get(n.address)})`).join(', ')}\n`,
    );
    // Weighted round robin: exact at round 0; rounds > 0 under load move a few turns.
    expect(Math.abs(n0 - expected0)).toBeLessThanOrEqual(4);
    for (let i = 1; i < 4; i++) expect(count.get(info.nodes[i].address) ?? 0).toBeGreaterThan(n0);
  }, 240_000);

  it('search: an item of a node above the threshold ranks above an equally relevant one of a node below it, on every node', async () => {
    // node0 and the big holder's objects make the contributions differ: wait for a boosted node.
    const pick = await waitFor(
      'a node above the threshold and one at or below it',
      async () => {
        const s = await Promise.all([0, 1, 2, 3].map((i) => standing(0, i)));
        const up = s.findIndex((x) => x.boost > 0);
        const down = s.findIndex((x) => x.boost === 0);
        return up >= 0 && down >= 0 ? { up, down, s } : undefined;
      },
      120_000,
    );
    const text = 'Orchard almanac of the quiet river valley';
    const ids: Record<number, string> = {};
    for (const i of [pick.down, pick.up]) {
      const f = join(dir, `item-${i}.txt`);
      await writeFile(f, `${text}, copy of node${i}\n`);
      const r = await vosJson<{ id: string }>([
        'publish',
        f,
        '--title',
        text,
        '--description',
        'the same words',
        '--tags',
        'orchard,valley',
        '--home',
        info.nodes[i].home,
        '--rpc',
        rpc(i),
      ]);
      ids[i] = r.id;
    }
    type Found = { results: { id: string; owner: string; score: number }[] };
    for (let i = 0; i < 4; i++) {
      const found = await waitFor(
        `node${i} to find both`,
        async () => {
          const r = await call<Found>(i, 'search_query', [{ q: 'orchard almanac valley' }]);
          return r.results.length >= 2 ? r : undefined;
        },
        30_000,
      );
      const s = await standing(i, pick.up);
      expect(s.boost).toBeGreaterThan(0);
      expect(found.results[0].id).toBe(ids[pick.up]);
      expect(found.results[1].id).toBe(ids[pick.down]);
      expect(found.results[0].score / found.results[1].score).toBeCloseTo(1 + s.boost, 5);
    }
  }, 240_000);

  it('bytes served are attested by the fetching node: receipts land in the next epoch and count in served', async () => {
    const f = await file('served.bin', MiB);
    const pub = await vosJson<{ cid: string }>([
      'publish',
      f,
      '--title',
      'served bytes',
      '--home',
      info.nodes[0].home,
      '--rpc',
      rpc(0),
    ]);
    const got = await vos(['fetch', pub.cid, '-o', join(dir, 'served-copy.bin'), '--rpc', rpc(2)]);
    expect(got.code).toBe(0);
    type Parts = ControlNode & { parts: { served: string }; pending: { epoch: number; served: string } };
    // node2 signed a receipt for what node0 served it; node0 submits it in the next epoch.
    const pending = await waitFor(
      'the receipt tx of node0',
      async () => {
        const s = await call<Parts>(3, 'control_getNode', [info.nodes[0].address]);
        return BigInt(s.pending.served) > 0n ? s : undefined;
      },
      120_000,
    );
    expect(Number(pending.pending.served)).toBeGreaterThanOrEqual(MiB);
    const done = await waitFor(
      'the epoch end that counts it',
      async () => {
        const s = await call<Parts>(3, 'control_getNode', [info.nodes[0].address]);
        return s.epoch >= pending.pending.epoch ? s : undefined;
      },
      120_000,
    );
    expect(Number(done.parts.served)).toBe(Number(pending.pending.served));
  }, 300_000);
});
