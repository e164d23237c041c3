/** Gas schedule (consensus rules). Fee = gasUsed x gasPrice, paid to the block proposer. */

import { TxKind, txKindModule } from '../tx/kinds.js';
import type { Tx } from '../tx/tx.js';

export const GAS = {
  txBase: 20_000n,
  perTxByte: 16n,
  transfer: 0n,
  stake: 30_000n,
  unstake: 30_000n,
} as const;

/** Gas charged before execution: base + bytes. */
export function intrinsicGas(tx: Tx): bigint {
  return GAS.txBase + GAS.perTxByte * BigInt(tx.size);
}

/** Total gas of a tx, known before it runs (an app call pays its whole budget: no refund). */
export function txGas(tx: Tx): bigint {
  const p = tx.body;
  return intrinsicGas(tx) + kindGas(tx.kind, p.kind === 'module' ? p.body : undefined);
}

export function kindGas(kind: number, body?: unknown): bigint {
  const m = txKindModule(kind);
  if (m !== undefined) return typeof m.gas === 'function' ? m.gas(body) : m.gas;
  switch (kind as TxKind) {
    case TxKind.Transfer:
      return GAS.transfer;
    case TxKind.Stake:
      return GAS.stake;
    case TxKind.Unstake:
      return GAS.unstake;
  }
}

/** Value that leaves the sender's balance besides the fee (for balance admission checks). */
export function txValue(tx: Tx): bigint {
  const p = tx.body;
  switch (p.kind) {
    case TxKind.Transfer:
    case TxKind.Stake:
      return p.body.amount;
    case TxKind.Unstake:
    case 'module':
      // Module kinds that burn (a name's price) are checked against the balance when they execute.
      return 0n;
  }
}
