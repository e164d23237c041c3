/**
 * Txs the node signs with its own key (a provider's registration, audit proofs, faults, repairs, the
 * placements of `storage_put` with distributed storage): nonces handed out one at a time after the
 * node's pending txs, gas at the floor, admitted to the mempool (which gossips them) and, when asked,
 * awaited until committed. A failed receipt is an error naming its code.
 */

import type { PrivateKey } from '../chain/keys.js';
import { txGas } from '../chain/ledger/gas.js';
import type { Ledger } from '../chain/ledger/ledger.js';
import type { Mempool } from '../chain/mempool/mempool.js';
import type { TxPayload } from '../chain/tx/kinds.js';
import { Tx } from '../chain/tx/tx.js';
import { VosError } from '../util/errors.js';
import type { Committed, TxWaiters } from './tx-waiters.js';

export class OwnTxError extends VosError<{ code: string }> {}

export class OwnTxs {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      chainId: string;
      key: PrivateKey;
      ledger: Ledger;
      mempool: Mempool;
      waiters: TxWaiters;
      minGasPrice: bigint;
    },
  ) {}

  /** Sign and admit; with `commit`, resolve once committed with an Ok receipt (else reject). */
  async send(
    payload: TxPayload,
    opts: { commit?: boolean; timeoutMs?: number } = {},
  ): Promise<{ hash: Uint8Array; committed?: Committed }> {
    // Nonces in order: one admission at a time; the wait for the commit runs outside the queue.
    const admitted = this.#queue.then(() => this.#admit(payload, opts));
    this.#queue = admitted.catch(() => undefined);
    const { hash, wait } = await admitted;
    if (wait === undefined) return { hash };
    const c = await wait;
    if (c.receipt.error !== '')
      throw new OwnTxError({ code: c.receipt.error }, `tx failed at height ${c.height}: ${c.receipt.error}`);
    return { hash, committed: c };
  }

  async #admit(payload: TxPayload, opts: { commit?: boolean; timeoutMs?: number }) {
    const { key, ledger, mempool } = this.o;
    const acct = await ledger.getAccount(key.address);
    const nonce = mempool.nextNonce(key.address, acct.nonce);
    const draft = { chainId: this.o.chainId, nonce, gasPrice: this.o.minGasPrice, payload };
    const gasLimit = txGas(Tx.sign({ ...draft, gasLimit: 1n << 40n }, key));
    const tx = Tx.sign({ ...draft, gasLimit }, key);
    const hash = tx.hash();
    if (!opts.commit) {
      await mempool.add(tx);
      return { hash, wait: undefined };
    }
    const ms = opts.timeoutMs ?? 60_000;
    const wait = this.o.waiters.wait(
      hash,
      ms,
      () => new OwnTxError({ code: 'TX_TIMEOUT' }, `own tx was not committed within ${ms / 1000} s`),
    );
    try {
      await mempool.add(tx);
    } catch (err) {
      wait.cancel();
      throw err;
    }
    return { hash, wait: wait.promise };
  }
}
