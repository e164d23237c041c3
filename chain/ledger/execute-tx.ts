/**
 * State transition of one tx. Invalid txs (wrong chain, nonce, fee floor, gas limit, unpaid fee) make
 * the whole block invalid and throw TxError. Valid txs always pay their fee and bump the nonce; if the
 * kind-specific part fails (e.g. balance < amount) its changes are rolled back and the receipt says why.
 */

import { compareBytes } from '../../util/bytes.js';
import type { Address } from '../address.js';
import { Receipt, ReceiptStatus, type TxEvent } from '../receipt.js';
import { TxError } from '../tx/errors.js';
import { TxKind, txKindModule } from '../tx/kinds.js';
import type { Tx } from '../tx/tx.js';
import {
  type Account,
  accountKey,
  decodeAccount,
  decodeAddressList,
  decodeUnbondings,
  decodeValidatorRecord,
  EMPTY_ACCOUNT,
  encodeAccount,
  encodeAddressList,
  encodeUnbondings,
  encodeValidatorRecord,
  type Unbonding,
  unbondingKey,
  unbondKey,
  VAL_INDEX_KEY,
  type ValidatorRecord,
  validatorKey,
} from './accounts.js';
import { TxFailure } from './failure.js';
import { txGas } from './gas.js';
import type { StateOverlay } from './overlay.js';
import type { ChainParams } from './params.js';

export const U256_MAX = (1n << 256n) - 1n;

export interface TxContext {
  chainId: string;
  height: number;
  params: ChainParams;
  state: StateOverlay;
  /** The block's time (Unix ms, from its header); 0 where a caller has no block. */
  time?: number;
  /** The hash of the block before this one (known to all before the block: not a secret). */
  prevHash: Uint8Array;
  /**
   * Who of the previous height's validators precommitted in this block's last commit (a nil
   * precommit counts: the validator was up), and who did not; empty at height 1.
   */
  participation?: Participation;
}

export interface Participation {
  signed: readonly Address[];
  missed: readonly Address[];
}

export async function getAccount(state: StateOverlay, a: Address): Promise<Account> {
  const v = await state.get(accountKey(a));
  return v === undefined ? { ...EMPTY_ACCOUNT } : decodeAccount(v);
}

export function putAccount(state: StateOverlay, a: Address, acct: Account): void {
  state.set(accountKey(a), encodeAccount(acct));
}

export async function getValidatorRecord(
  state: StateOverlay,
  a: Address,
): Promise<ValidatorRecord | undefined> {
  const v = await state.get(validatorKey(a));
  return v === undefined ? undefined : decodeValidatorRecord(v);
}

/** A validator's unbonding entries, oldest first. */
export async function getUnbondings(state: StateOverlay, a: Address): Promise<Unbonding[]> {
  const v = await state.get(unbondingKey(a));
  return v === undefined ? [] : decodeUnbondings(v);
}

export async function getValidatorIndex(state: StateOverlay): Promise<Address[]> {
  const v = await state.get(VAL_INDEX_KEY);
  return v === undefined ? [] : decodeAddressList(v);
}

/** Returns the receipt and the fee (paid to the proposer by the caller). Throws TxError if invalid. */
export async function executeTx(tx: Tx, ctx: TxContext): Promise<{ receipt: Receipt; fee: bigint }> {
  if (tx.chainId !== ctx.chainId) throw new TxError('TX_WRONG_CHAIN', `tx is for chain ${tx.chainId}`);
  if (tx.gasPrice < ctx.params.minGasPrice) {
    throw new TxError(
      'TX_FEE_TOO_LOW',
      `gas price ${tx.gasPrice} is below the floor ${ctx.params.minGasPrice}`,
    );
  }
  const gas = txGas(tx);
  if (tx.gasLimit < gas)
    throw new TxError('TX_GAS_LIMIT_TOO_LOW', `gas limit ${tx.gasLimit} < required ${gas}`);
  const sender = tx.sender;
  const acct = await getAccount(ctx.state, sender);
  if (tx.nonce !== acct.nonce) {
    throw new TxError(
      tx.nonce < acct.nonce ? 'TX_NONCE_TOO_LOW' : 'TX_NONCE_TOO_HIGH',
      `nonce ${tx.nonce}, expected ${acct.nonce}`,
    );
  }
  const fee = gas * tx.gasPrice;
  if (acct.balance < fee)
    throw new TxError('TX_INSUFFICIENT_BALANCE', `balance ${acct.balance} cannot pay fee ${fee}`);
  putAccount(ctx.state, sender, { nonce: acct.nonce + 1n, balance: acct.balance - fee });

  ctx.state.checkpoint();
  try {
    const events = await executeKind(tx, ctx);
    ctx.state.commitCheckpoint();
    return { receipt: new Receipt(ReceiptStatus.Ok, gas, '', events), fee };
  } catch (err) {
    ctx.state.rollback();
    if (!(err instanceof TxFailure)) throw err;
    return { receipt: new Receipt(ReceiptStatus.Failed, gas, err.code, []), fee };
  }
}

async function executeKind(tx: Tx, ctx: TxContext): Promise<TxEvent[]> {
  const { state } = ctx;
  const p = tx.body;
  const sender = tx.sender;
  switch (p.kind) {
    case TxKind.Transfer: {
      const from = await getAccount(state, sender);
      if (from.balance < p.body.amount) throw new TxFailure('INSUFFICIENT_BALANCE');
      putAccount(state, sender, { ...from, balance: from.balance - p.body.amount });
      const to = await getAccount(state, p.body.to);
      if (to.balance + p.body.amount > U256_MAX) throw new TxFailure('AMOUNT_OVERFLOW');
      putAccount(state, p.body.to, { ...to, balance: to.balance + p.body.amount });
      return [
        {
          type: 'transfer',
          attributes: [
            ['from', sender],
            ['to', p.body.to],
            ['amount', p.body.amount],
          ],
        },
      ];
    }
    case TxKind.Stake: {
      if (p.body.amount === 0n) throw new TxFailure('ZERO_AMOUNT');
      const from = await getAccount(state, sender);
      if (from.balance < p.body.amount) throw new TxFailure('INSUFFICIENT_BALANCE');
      putAccount(state, sender, { ...from, balance: from.balance - p.body.amount });
      const rec = await getValidatorRecord(state, sender);
      if (rec === undefined) {
        const index = await getValidatorIndex(state);
        index.push(sender);
        index.sort((a, b) => compareBytes(a.bytes, b.bytes));
        state.set(VAL_INDEX_KEY, encodeAddressList(index));
      }
      const next = rec ?? { publicKey: tx.signer, stake: 0n, jailed: false };
      state.set(validatorKey(sender), encodeValidatorRecord({ ...next, stake: next.stake + p.body.amount }));
      return [
        {
          type: 'stake',
          attributes: [
            ['validator', sender],
            ['amount', p.body.amount],
          ],
        },
      ];
    }
    case TxKind.Unstake: {
      if (p.body.amount === 0n) throw new TxFailure('ZERO_AMOUNT');
      const rec = await getValidatorRecord(state, sender);
      if (rec === undefined || rec.stake < p.body.amount) throw new TxFailure('INSUFFICIENT_STAKE');
      state.set(validatorKey(sender), encodeValidatorRecord({ ...rec, stake: rec.stake - p.body.amount }));
      const at = ctx.height + ctx.params.unbondingPeriod;
      const entries = await getUnbondings(state, sender);
      entries.push({ createdAt: ctx.height, releaseAt: at, amount: p.body.amount });
      state.set(unbondingKey(sender), encodeUnbondings(entries));
      const raw = await state.get(unbondKey(at));
      const due = raw === undefined ? [] : decodeAddressList(raw);
      if (!due.some((a) => a.equals(sender))) {
        due.push(sender);
        state.set(unbondKey(at), encodeAddressList(due));
      }
      return [
        {
          type: 'unstake',
          attributes: [
            ['validator', sender],
            ['amount', p.body.amount],
            ['releaseHeight', BigInt(at)],
          ],
        },
      ];
    }
    case 'module': {
      const m = txKindModule(p.id);
      if (m === undefined) throw new Error(`no module executes tx kind ${p.id}`);
      return m.execute(ctx, tx, p.body);
    }
  }
}
