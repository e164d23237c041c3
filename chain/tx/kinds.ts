/** Transaction kinds and their payloads (RLP). Each module adds its kinds here. */
import { ADDRESS_LENGTH, type Address, internAddress } from '../address.js';
import { asBigint, asBytes, asList, CodecError, decodeRlp, encodeRlp, U256_MAX } from '../codec.js';

export enum TxKind {
  Transfer = 1,
  Stake = 2,
  Unstake = 3,
}

export const TX_KIND_NAMES: Record<TxKind, string> = {
  [TxKind.Transfer]: 'transfer',
  [TxKind.Stake]: 'stake',
  [TxKind.Unstake]: 'unstake',
};

export function isTxKind(n: number): n is TxKind {
  return n in TX_KIND_NAMES;
}

export interface TransferPayload {
  to: Address;
  amount: bigint;
}

export interface AmountPayload {
  amount: bigint;
}

export type TxPayload =
  | { kind: TxKind.Transfer; body: TransferPayload }
  | { kind: TxKind.Stake; body: AmountPayload }
  | { kind: TxKind.Unstake; body: AmountPayload };

export function encodePayload(p: TxPayload): Uint8Array {
  switch (p.kind) {
    case TxKind.Transfer:
      return encodeRlp([p.body.to.bytes, p.body.amount]);
    case TxKind.Stake:
    case TxKind.Unstake:
      return encodeRlp([p.body.amount]);
  }
}

/** Decode and validate a payload for its kind (canonical, no trailing bytes). */
export function decodePayload(kind: TxKind, bytes: Uint8Array): TxPayload {
  const f = asList(decodeRlp(bytes, 'tx.payload'), 'tx.payload');
  switch (kind) {
    case TxKind.Transfer: {
      if (f.length !== 2) throw new CodecError('INVALID_FIELD', 'tx.payload', 'transfer takes [to, amount]');
      return {
        kind,
        body: {
          to: internAddress(asBytes(f[0], 'transfer.to', ADDRESS_LENGTH)),
          amount: asBigint(f[1], 'transfer.amount', U256_MAX),
        },
      };
    }
    case TxKind.Stake:
    case TxKind.Unstake: {
      if (f.length !== 1)
        throw new CodecError('INVALID_FIELD', 'tx.payload', `${TX_KIND_NAMES[kind]} takes [amount]`);
      return { kind, body: { amount: asBigint(f[0], `${TX_KIND_NAMES[kind]}.amount`, U256_MAX) } };
    }
  }
}

export function payloadToJSON(p: TxPayload): Record<string, string> {
  switch (p.kind) {
    case TxKind.Transfer:
      return { to: p.body.to.toString(), amount: p.body.amount.toString() };
    case TxKind.Stake:
    case TxKind.Unstake:
      return { amount: p.body.amount.toString() };
  }
}
