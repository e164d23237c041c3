/**
 * The devnet as users run it: `vos devnet --validators 4` starts four validator processes that talk
 * over libp2p (TCP + Noise + Yamux, and QUIC for votes) on loopback. They reach height 20 with the same block at every
 * height; stopping the supervisor stops every node.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { multiaddr } from '@multiformats/multiaddr';
import { asNumber, decodeRlp, encodeRlp } from '../../chain/codec.js';
import { PrivateKey } from '../../chain/keys.js';
import { Tx, TxKind } from '../../chain/tx/index.js';
import { frame, readFrames } from '../../p2p/framing.js';
import { createHost, type VosHost } from '../../p2p/host.js';
import { RpcClient } from '../../rpc/client.js';
import { fromHex, toHex } from '../../util/bytes.js';
import {
  BIN,
  blockHashAt,
  type DevnetInfo,
  heightOf,
  isAlive,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';

describe('vos devnet (4 validator processes over libp2p)', () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let info: DevnetInfo;

  afterAll(async () => {
    await stopProcess(proc);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reaches height 20 with identical block hashes at every height', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-devnet-'));
    ({ proc, info } = await startDevnet(dir, 4, randomBasePort()));
    expect(info.nodes.map((n) => n.name)).toEqual(['node0', 'node1', 'node2', 'node3']);
    for (const n of info.nodes) expect(n.p2p).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);
    await waitFor(
      'height 20 on every node',
      async () => (await Promise.all(info.nodes.map((n) => heightOf(n.rpc)))).every((h) => h >= 20),
      90_000,
    );
    for (let h = 1; h <= 20; h++) {
      const hashes = await Promise.all(info.nodes.map((n) => blockHashAt(n.rpc, h)));
      expect(new Set(hashes).size).toBe(1);
    }
  }, 120_000);

  it('every validator holds a TCP and a QUIC connection to each of the other three', async () => {
    type Status = { peers: number; syncing: boolean; connections: { tcp: number; quic: number } };
    const status = (rpc: string) => new RpcClient(rpc).call('node_status', []) as Promise<Status>;
    await waitFor(
      'TCP and QUIC connections between all validators',
      async () =>
        (await Promise.all(info.nodes.map((n) => status(n.rpc)))).every(
          (s) => s.peers === 3 && s.connections.tcp >= 3 && s.connections.quic >= 3,
        ),
      20_000,
    );
    for (const n of info.nodes) expect((await status(n.rpc)).syncing).toBe(false);
  }, 30_000);

  it('txs sent to one node are gossiped: other proposers include them', async () => {
    const from = info.nodes[3];
    const keyFile = JSON.parse(await readFile(join(from.home, 'key.json'), 'utf8'));
    const key = PrivateKey.fromSeed(fromHex(keyFile.insecure.privateKey));
    const rpc3 = new RpcClient(from.rpc);
    const start = BigInt(((await rpc3.call('chain_getAccount', [from.address])) as { nonce: string }).nonce);
    const to = PrivateKey.generate().address;
    const txs = Array.from({ length: 40 }, (_, i) =>
      Tx.sign(
        {
          chainId: info.chainId,
          nonce: start + BigInt(i),
          kind: TxKind.Transfer,
          payload: { kind: TxKind.Transfer, body: { to, amount: 1n } },
          gasLimit: 100_000n,
          gasPrice: 1n,
        },
        key,
      ),
    );
    // In 8 rounds of 5, each committed before the next: without gossip only node3's blocks could carry
    // them, and 8 blocks in a row all proposed by node3 are practically impossible.
    const rpc0 = new RpcClient(info.nodes[0].rpc);
    const first = await heightOf(info.nodes[0].rpc);
    for (let round = 0; round < 8; round++) {
      const batch = txs.slice(round * 5, round * 5 + 5);
      const res = await rpc3.batch(batch.map((t) => ({ method: 'tx_send', params: [toHex(t.serialize())] })));
      for (const r of res) expect(r).not.toBeInstanceOf(Error);
      await waitFor(
        `round ${round} committed`,
        async () =>
          BigInt(((await rpc0.call('chain_getAccount', [to.toString()])) as { balance: string }).balance) ===
          BigInt(round * 5 + 5),
        60_000,
      );
    }
    const last = await heightOf(info.nodes[0].rpc);
    const proposers = new Set<string>();
    for (let h = first; h <= last; h++) {
      const b = (await rpc0.call('chain_getBlock', [h])) as { header: { proposer: string }; txs: unknown[] };
      if (b.txs.length > 0) proposers.add(b.header.proposer);
    }
    expect([...proposers].some((p) => p !== from.address)).toBe(true);
  }, 90_000);

  it('--relay: a validator behind a relay runs the chain protocols over it; a non-validator is relayed with limits', async () => {
    // A fresh full node (not a validator) listening through node0 as well.
    const home = join(dir, 'relayed');
    // Between node0's ports (base..base+2) and node1's (base+10..): base+5..7 are free.
    const port = Number(new URL(info.nodes[0].rpc).port) + 5;
    const init = spawn(
      process.execPath,
      [BIN, 'init', '--home', home, '--genesis', join(dir, 'genesis.json'), '--rpc-port', String(port)],
      { stdio: 'ignore' },
    );
    await new Promise((r) => init.once('exit', r));
    expect(init.exitCode).toBe(0);
    const full = spawn(
      process.execPath,
      [BIN, 'start', '--home', home, '--relay', info.nodes[0].p2p, '--join', info.nodes[1].p2p],
      { stdio: 'ignore' },
    );
    // node3, a validator, restarted to listen through node0 too (the other three keep committing).
    const n3 = info.nodes[3];
    process.kill(n3.pid, 'SIGTERM');
    await waitFor('node3 stopped', async () => !isAlive(n3.pid), 20_000);
    const validator = spawn(
      process.execPath,
      [BIN, 'start', '--home', n3.home, '--relay', info.nodes[0].p2p],
      {
        stdio: 'ignore',
      },
    );
    const clients: VosHost[] = [];
    const circuitOf = async (url: string) => {
      let circuit = '';
      await waitFor(
        `a relay reservation at node0 for ${url}`,
        async () => {
          const s = (await new RpcClient(url).call('node_status', [])) as { listen: string[] };
          circuit = s.listen.find((a) => a.includes('/p2p-circuit/')) ?? '';
          return circuit.startsWith(info.nodes[0].p2p);
        },
        30_000,
      );
      return circuit;
    };
    // An outside host that knows only the circuit address asks for the head over block sync.
    const dialCircuit = async (circuit: string) => {
      const client = await createHost({ key: PrivateKey.generate(), chainId: info.chainId, listen: [] });
      clients.push(client);
      const conn = await client.dial(multiaddr(circuit), { signal: AbortSignal.timeout(10_000) });
      expect(conn.remoteAddr.toString()).toContain('/p2p-circuit');
      return conn;
    };
    try {
      const vConn = await dialCircuit(await circuitOf(n3.rpc));
      expect(vConn.limits).toBeUndefined();
      const stream = await vConn.newStream(`/vos/${info.chainId}/blocksync/1`);
      stream.send(frame(encodeRlp([1])));
      await stream.close();
      let head = -1;
      for await (const f of readFrames(stream, 64)) head = asNumber(decodeRlp(f.subarray(), 'head'), 'head');
      expect(head).toBeGreaterThanOrEqual(0);
      // The full node's relayed connections end after a few MiB or minutes; the chain's protocols refuse them.
      const fConn = await dialCircuit(await circuitOf(`http://127.0.0.1:${port}`));
      expect(fConn.limits?.bytes).toBeGreaterThan(0n);
      await expect(fConn.newStream(`/vos/${info.chainId}/blocksync/1`)).rejects.toThrow();
      // The restarted validator signs again: the chain goes on with all four.
      const h = await heightOf(info.nodes[0].rpc);
      await waitFor('node3 follows', async () => (await heightOf(n3.rpc)) >= h, 60_000);
    } finally {
      for (const c of clients) await c.stop();
      await stopProcess(full);
      await stopProcess(validator);
    }
  }, 120_000);

  it('stopping the supervisor stops every node', async () => {
    const pids = info.nodes.map((n) => n.pid);
    await stopProcess(proc);
    await waitFor('all nodes gone', async () => pids.every((p) => !isAlive(p)), 20_000);
  }, 30_000);
});
