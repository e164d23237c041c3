/**
 * The mempool's own cost per tx (signatures not counted: a verifier that accepts everything), for
 * 50,000 transfers from 2,000 senders in RPC-sized batches of 500: admission into a pool with room,
 * admission into a full pool (every tx evicts the cheapest tail), and reap + update as blocks of 3,000.
 * Baseline in the same run: the same txs put into a plain Map by hash (the floor for any pool).
 */
import { PrivateKey } from '../chain/keys.js';
import type { SignatureVerifier } from '../chain/ledger/verifier.js';
import { Mempool } from '../chain/mempool/mempool.js';
import { TxKind } from '../chain/tx/kinds.js';
import { Tx } from '../chain/tx/tx.js';

const acceptAll: SignatureVerifier = { verifyBatch: async (items) => items.map(() => true) };

export async function run(opts: { senders?: number; perSender?: number } = {}) {
  const senderCount = opts.senders ?? 2_000;
  const perSender = opts.perSender ?? 25;
  const keys = Array.from({ length: senderCount }, () => PrivateKey.generate());
  const to = PrivateKey.generate().address;
  const txs: Tx[] = [];
  for (let n = 0; n < perSender; n++) {
    for (const k of keys) {
      const payload = { kind: TxKind.Transfer as const, body: { to, amount: 1n } };
      const body = {
        chainId: 'vos-bench',
        nonce: BigInt(n),
        kind: TxKind.Transfer,
        payload,
        gasLimit: 30_000n,
      };
      txs.push(Tx.sign({ ...body, gasPrice: 1n + BigInt((n * 7 + txs.length) % 5) }, k));
    }
  }
  for (const t of txs) t.hash(); // cached: hashing is not what is measured
  const nonces = new Map<string, bigint>();
  const accounts = {
    async getAccount(a: { toString(): string }) {
      return { nonce: nonces.get(a.toString()) ?? 0n, balance: 10n ** 24n };
    },
  };
  const pool = (maxTxs: number) =>
    new Mempool({ chainId: 'vos-bench', minGasPrice: 1n, accounts, verifier: acceptAll, limits: { maxTxs } });

  let t = performance.now();
  const map = new Map<string, Tx>();
  for (const tx of txs) map.set(Buffer.from(tx.hash()).toString('latin1'), tx);
  const mapUs = ((performance.now() - t) * 1000) / txs.length;

  const admit = async (m: Mempool) => {
    const start = performance.now();
    for (let i = 0; i < txs.length; i += 500) await m.addMany(txs.slice(i, i + 500));
    return ((performance.now() - start) * 1000) / txs.length;
  };
  const roomy = pool(txs.length);
  const admitUs = await admit(roomy);
  const full = pool(Math.floor(txs.length / 5));
  const admitFullUs = await admit(full);

  t = performance.now();
  let reaped = 0;
  for (;;) {
    const block = roomy.reap({ maxTxs: 3_000 });
    if (block.length === 0) break;
    for (const tx of block) nonces.set(tx.sender.toString(), tx.nonce + 1n);
    reaped += block.length;
    await roomy.update(block);
  }
  const reapUs = ((performance.now() - t) * 1000) / reaped;
  if (reaped !== txs.length) throw new Error(`reaped ${reaped} of ${txs.length}`);
  return {
    txs: txs.length,
    senders: senderCount,
    baselineMapInsertUsPerTx: mapUs,
    admitUsPerTx: admitUs,
    admitFullPoolUsPerTx: admitFullUs,
    fullPoolTxs: full.size,
    reapAndUpdateUsPerTx: reapUs,
    ratioAdmitToMapInsert: admitUs / mapUs,
    ratioAdmitFullToAdmit: admitFullUs / admitUs,
  };
}
