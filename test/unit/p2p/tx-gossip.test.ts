/**
 * Tx gossip between in-process libp2p hosts: a good batch is admitted by the receiver's mempool, a bad
 * one costs the sender score, an oversize frame is refused as soon as its length is read, and a
 * sender never sends a batch above the budget's cap (chain/budget.ts).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { TX_BATCH_FRAME_BYTES, TX_BATCH_MAX_BYTES } from '../../../chain/budget.js';
import { decodeRlp, encodeRlp } from '../../../chain/codec.js';
import { PrivateKey } from '../../../chain/keys.js';
import { inlineVerifier } from '../../../chain/ledger/verifier.js';
import { Mempool } from '../../../chain/mempool/mempool.js';
import { Tx, TxKind } from '../../../chain/tx/index.js';
import { createTxFromRlp } from '../../../chain/tx/tx.js';
import { frame, readFrames } from '../../../p2p/framing.js';
import { createHost, type VosHost } from '../../../p2p/host.js';
import { PeerScorer } from '../../../p2p/peer-scorer.js';
import { TxGossip } from '../../../p2p/tx-gossip.js';

const chainId = 'vos-test';
const protocol = `/vos/${chainId}/tx/1`;
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(61));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(62));

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});

async function host(): Promise<VosHost> {
  const h = await createHost({ key: PrivateKey.generate(), chainId, listen: ['/ip4/127.0.0.1/tcp/0'] });
  cleanups.push(async () => h.stop());
  return h;
}

function mempool(): Mempool {
  return new Mempool({
    chainId,
    minGasPrice: 1n,
    accounts: { getAccount: async () => ({ nonce: 0n, balance: 10n ** 18n }) },
    verifier: inlineVerifier,
  });
}

async function gossipNode() {
  const h = await host();
  const scorer = new PeerScorer({ host: h });
  const pool = mempool();
  const g = new TxGossip({ host: h, chainId, mempool: pool, scorer });
  await g.start();
  cleanups.push(() => g.stop());
  return { host: h, scorer, pool, gossip: g };
}

function transfer(nonce: number, chain = chainId): Tx {
  return Tx.sign(
    {
      chainId: chain,
      nonce: BigInt(nonce),
      kind: TxKind.Transfer,
      payload: { kind: TxKind.Transfer, body: { to: bob.address, amount: 1n } },
      gasLimit: 100_000n,
      gasPrice: 1n,
    },
    alice,
  );
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw peer that speaks the tx protocol by hand. */
async function rawStream(from: VosHost, to: VosHost): Promise<Stream> {
  await from.dial(multiaddr(to.getMultiaddrs()[0]));
  return from.dialProtocol(to.peerId, protocol);
}

describe('TxGossip', () => {
  it('a tx admitted by one node reaches the other mempool, once', async () => {
    const [a, b] = [await gossipNode(), await gossipNode()];
    await a.host.dial(multiaddr(b.host.getMultiaddrs()[0]));
    await until('connected', () => a.host.getPeers().length === 1);
    await new Promise((r) => setTimeout(r, 100));
    const txs = [transfer(0), transfer(1), transfer(2)];
    for (const tx of txs) await a.pool.add(tx);
    await until('gossiped', () => b.pool.size === 3);
    expect(b.gossip.received).toBe(3);
    for (const tx of txs) expect(b.pool.get(tx.hash())).toBeDefined();
    // b admitted them from a peer: it does not send them back.
    await new Promise((r) => setTimeout(r, 100));
    expect(a.gossip.received).toBe(0);
    expect(b.scorer.score(a.host.peerId)).toBe(0);
  });

  it('a batch that is not RLP, a batch item that is a list, or a tx with a bad signature costs the sender score', async () => {
    const b = await gossipNode();
    const sender = await host();
    const stream = await rawStream(sender, b.host);
    const good = transfer(0).serialize();
    const forged = Uint8Array.from(good);
    forged[forged.length - 1] ^= 1; // the signature's last byte
    expect(() => createTxFromRlp(forged)).not.toThrow();
    stream.send(frame(Uint8Array.of(0xff, 0x00)));
    await until('penalty 1', () => b.scorer.score(sender.peerId) === -10);
    stream.send(frame(encodeRlp([[good]])));
    await until('penalty 2', () => b.scorer.score(sender.peerId) === -20);
    stream.send(frame(encodeRlp([forged])));
    await until('banned', () => b.scorer.isBanned(sender.peerId));
    expect(b.pool.size).toBe(0);
  });

  it('a stale or already-known tx is a normal race and costs nothing', async () => {
    const b = await gossipNode();
    const sender = await host();
    const stream = await rawStream(sender, b.host);
    const tx = transfer(0);
    await b.pool.add(tx);
    stream.send(frame(encodeRlp([tx.serialize()])));
    stream.send(frame(encodeRlp([transfer(1).serialize()])));
    await until('admitted', () => b.pool.size === 2);
    expect(b.scorer.score(sender.peerId)).toBe(0);
  });

  it('refuses a frame above the cap as soon as its length is read (it was 80 MiB)', async () => {
    const b = await gossipNode();
    const sender = await host();
    const stream = await rawStream(sender, b.host);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 2 * 1024 * 1024); // claims 2 MiB, sends none of it
    stream.send(header);
    await until('penalty', () => b.scorer.score(sender.peerId) < 0);
    expect(TX_BATCH_FRAME_BYTES).toBeLessThan(2 * 1024 * 1024);
  });

  it('a sender splits its batches so that none is above the cap', async () => {
    // A mempool stand-in that hands the gossip large txs (64 KiB-ish, as a future tx kind might be).
    const h = await host();
    let added: ((tx: Tx) => void) | undefined;
    const pool = {
      onAdded: (fn: (tx: Tx) => void) => {
        added = fn;
        return () => undefined;
      },
    } as unknown as Mempool;
    const g = new TxGossip({ host: h, chainId, mempool: pool, scorer: new PeerScorer({ host: h }) });
    await g.start();
    cleanups.push(() => g.stop());
    const receiver = await host();
    const frames: number[] = [];
    let items = 0;
    await receiver.handle(protocol, async (stream) => {
      for await (const f of readFrames(stream, 64 * 1024 * 1024)) {
        frames.push(f.length);
        items += (decodeRlp(Uint8Array.from(f), 'batch') as Uint8Array[]).length;
      }
    });
    await h.dial(multiaddr(receiver.getMultiaddrs()[0]));
    await until('connected', () => h.getPeers().length === 1);
    const big = new Uint8Array(60_000).fill(7);
    const fake = (i: number) =>
      ({ hash: () => Uint8Array.of(i & 0xff, i >> 8), serialize: () => big }) as unknown as Tx;
    for (let i = 0; i < 40; i++) added!(fake(i));
    await until('all sent', () => items === 40);
    expect(frames.length).toBeGreaterThan(1);
    expect(Math.max(...frames)).toBeLessThanOrEqual(TX_BATCH_FRAME_BYTES);
    expect(frames.reduce((a, b) => a + b, 0)).toBeGreaterThan(TX_BATCH_MAX_BYTES);
  });
});
