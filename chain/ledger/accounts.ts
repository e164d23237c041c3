/**
 * State-tree records owned by the ledger core (keys are hashed by the tree; prefixes namespace them):
 *   acct/<address 20>          -> rlp([nonce, balance])
 *   val/<address 20>           -> rlp([publicKey, stake, jailed 0|1])
 *   val/index                  -> rlp([address...]) every address with a val/ record, sorted
 *   val/unbond/<height u64be>  -> rlp([address...]) validators with unbonding entries released at that height
 *   val/unbonding/<address 20> -> rlp([[createdAt, releaseAt, amount]...]) a validator's unbonding
 *                                 entries, oldest first; slashable until released (end-block.ts)
 *   val/evidence/<hash>        -> 0x01 evidence already punished (no double punishment)
 */
import { concatBytes, u64be, utf8 } from '../../util/bytes.js';
import { ADDRESS_LENGTH, Address } from '../address.js';
import { asBigint, asBytes, asList, asNumber, decodeRlp, encodeRlp } from '../codec.js';
import { PUBLIC_KEY_LENGTH } from '../keys.js';

export interface Account {
  nonce: bigint;
  balance: bigint;
}

export interface ValidatorRecord {
  publicKey: Uint8Array;
  stake: bigint;
  jailed: boolean;
}

export const EMPTY_ACCOUNT: Readonly<Account> = Object.freeze({ nonce: 0n, balance: 0n });

const ACCT = utf8('acct/');
const VAL = utf8('val/');
export const VAL_INDEX_KEY = utf8('val/index');
const VAL_UNBOND = utf8('val/unbond/');
const VAL_UNBONDING = utf8('val/unbonding/');
const VAL_EVIDENCE = utf8('val/evidence/');

export const accountKey = (a: Address) => concatBytes(ACCT, a.bytes);
export const validatorKey = (a: Address) => concatBytes(VAL, a.bytes);
export const unbondKey = (height: number) => concatBytes(VAL_UNBOND, u64be(height));
export const unbondingKey = (a: Address) => concatBytes(VAL_UNBONDING, a.bytes);
export const evidenceKey = (hash: Uint8Array) => concatBytes(VAL_EVIDENCE, hash);

export function encodeAccount(a: Account): Uint8Array {
  return encodeRlp([a.nonce, a.balance]);
}

export function decodeAccount(b: Uint8Array): Account {
  const f = asList(decodeRlp(b, 'account'), 'account', 2);
  return { nonce: asBigint(f[0], 'account.nonce'), balance: asBigint(f[1], 'account.balance') };
}

export function encodeValidatorRecord(v: ValidatorRecord): Uint8Array {
  return encodeRlp([v.publicKey, v.stake, v.jailed ? 1 : 0]);
}

export function decodeValidatorRecord(b: Uint8Array): ValidatorRecord {
  const f = asList(decodeRlp(b, 'validator'), 'validator', 3);
  return {
    publicKey: asBytes(f[0], 'validator.publicKey', PUBLIC_KEY_LENGTH),
    stake: asBigint(f[1], 'validator.stake'),
    jailed: asNumber(f[2], 'validator.jailed', 1) === 1,
  };
}

export function encodeAddressList(list: readonly Address[]): Uint8Array {
  return encodeRlp(list.map((a) => a.bytes));
}

export function decodeAddressList(b: Uint8Array): Address[] {
  return asList(decodeRlp(b, 'addresses'), 'addresses').map(
    (x) => new Address(asBytes(x, 'address', ADDRESS_LENGTH)),
  );
}

/** Stake a validator unbonded at `createdAt`; returns to its balance at the end of block `releaseAt`. */
export type Unbonding = { createdAt: number; releaseAt: number; amount: bigint };

export function encodeUnbondings(list: readonly Unbonding[]): Uint8Array {
  return encodeRlp(list.map((u) => [u.createdAt, u.releaseAt, u.amount]));
}

export function decodeUnbondings(b: Uint8Array): Unbonding[] {
  return asList(decodeRlp(b, 'unbondings'), 'unbondings').map((x) => {
    const f = asList(x, 'unbonding', 3);
    return {
      createdAt: asNumber(f[0], 'unbonding.createdAt'),
      releaseAt: asNumber(f[1], 'unbonding.releaseAt'),
      amount: asBigint(f[2], 'unbonding.amount'),
    };
  });
}
