/**
 * Tx gossip between two libp2p hosts on 127.0.0.1: a tx the receiver's mempool refuses is counted in
 * `vos_mempool_rejected_total` by its error code.
 */
import '../../util/polyfill.js';
import { afterAll, describe, expect, it } from '@jest/globals';
import { multiaddr } from '@multiformats/multiaddr';
import { PrivateKey } from '../../chain/keys.js';
import { Mempool } from '../../chain/mempool/mempool.js';
import { Tx, TxKind } from '../../chain/tx/index.js';
import { createHost, listenAddrs, type VosHost } from '../../p2p/host.js';
import { PeerScorer } from '../../p2p/peer-scorer.js';
import { TxGossip } from '../../p2p/tx-gossip.js';
import { createMetrics } from '../../util/metrics.js';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

const rich = { getAccount: async () => ({ nonce: 0n, balance: 10n ** 18n }) };

async function peer(mempoolChainId: string) {
  const host: VosHost = await createHost({
    key: PrivateKey.generate(),
    chainId: 'vos-gossip',
    listen: listenAddrs('127.0.0.1', 0),
  });
  const metrics = createMetrics(undefined, { defaultMetrics: false });
  const mempool = new Mempool({ chainId: mempoolChainId, minGasPrice: 1n, accounts: rich, verifier: null });
  const gossip = new TxGossip({
    host,
    chainId: 'vos-gossip',
    mempool,
    scorer: new PeerScorer({ host }),
    metrics,
  });
  await gossip.start();
  stops.push(async () => {
    await gossip.stop();
    await host.stop();
  });
  return { host, metrics, mempool, gossip };
}

describe('tx gossip', () => {
  it('counts the txs a peer relays that the mempool refuses, by code', async () => {
    const a = await peer('vos-gossip');
    // B's mempool belongs to another chain: every tx A relays is TX_WRONG_CHAIN there.
    const b = await peer('vos-other');
    const tcp = a.host.getMultiaddrs().find((m) => m.toString().includes('/tcp/'))!;
    await b.host.dial(multiaddr(tcp.toString()));
    const tx = Tx.sign(
      {
        chainId: 'vos-gossip',
        nonce: 0n,
        kind: TxKind.Transfer,
        payload: { kind: TxKind.Transfer, body: { to: PrivateKey.generate().address, amount: 1n } },
        gasLimit: 100_000n,
        gasPrice: 1n,
      },
      PrivateKey.generate(),
    );
    await a.mempool.add(tx);
    const count = async () =>
      (await b.metrics.mempoolRejected.get()).values.find((v) => v.labels.code === 'TX_WRONG_CHAIN')?.value ??
      0;
    for (let i = 0; i < 200 && (await count()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await count()).toBe(1);
    expect(b.mempool.size).toBe(0);
  });
});
