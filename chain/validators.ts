/**
 * The validator list: who signs a height, with what voting power. The one model of it: canonical
 * order (power descending, then address ascending), validation, encoding and hash. The proposer
 * priorities that consensus keeps (consensus/validator-set.ts) are a layer over this list.
 * validatorsHash = sha256(rlp([[address, publicKey, power]...])) of the canonical list.
 */
import { compareBytes, toHex } from '../util/bytes.js';
import { ADDRESS_LENGTH, Address, addressFromPublicKey } from './address.js';
import {
  asBigint,
  asBytes,
  asList,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpInput,
  type RlpItem,
} from './codec.js';
import { sha256 } from './hash.js';
import { PUBLIC_KEY_LENGTH } from './keys.js';

export interface ValidatorInfo {
  readonly address: Address;
  readonly publicKey: Uint8Array;
  readonly power: bigint;
}

/** Upper bound on a validator list (genesis maxValidators is at most this). */
export const MAX_VALIDATORS = 10_000;

/** Canonical order: power descending, then address ascending. */
export function compareValidators(a: ValidatorInfo, b: ValidatorInfo): number {
  if (a.power !== b.power) return a.power > b.power ? -1 : 1;
  return compareBytes(a.address.bytes, b.address.bytes);
}

export function sortValidators(list: readonly ValidatorInfo[]): ValidatorInfo[] {
  return [...list].sort(compareValidators);
}

/**
 * Why a list is not a valid validator set, or null: non-empty, at most MAX_VALIDATORS, every address
 * derived from its key, power > 0, no duplicates, and (when `canonical`) already in canonical order.
 */
export function validatorListProblem(list: readonly ValidatorInfo[], canonical: boolean): string | null {
  if (list.length === 0) return 'no validators';
  if (list.length > MAX_VALIDATORS) return 'too many validators';
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (v.publicKey.length !== PUBLIC_KEY_LENGTH || !addressFromPublicKey(v.publicKey).equals(v.address))
      return `address ${v.address} does not match its public key`;
    if (v.power <= 0n) return `validator ${v.address} has no power`;
    const k = v.address.toHex();
    if (seen.has(k)) return `duplicate validator ${v.address}`;
    seen.add(k);
    if (canonical && i > 0 && compareValidators(list[i - 1], v) > 0) return 'not in canonical order';
  }
  return null;
}

export function validatorsRaw(list: readonly ValidatorInfo[]): RlpInput {
  return list.map((v): RlpInput => [v.address.bytes, v.publicKey, v.power]);
}

/** The encoding of a list as given (callers pass the canonical order). */
export function encodeValidators(list: readonly ValidatorInfo[]): Uint8Array {
  return encodeRlp(validatorsRaw(list));
}

/** sha256 of the canonical encoding; `list` must already be canonical. */
export function hashCanonicalValidators(list: readonly ValidatorInfo[]): Uint8Array {
  return sha256(encodeValidators(list));
}

export function validatorsHash(list: readonly ValidatorInfo[]): Uint8Array {
  return hashCanonicalValidators(sortValidators(list));
}

export function totalPower(list: readonly ValidatorInfo[]): bigint {
  let t = 0n;
  for (const v of list) t += v.power;
  return t;
}

/** Decode a canonical validator list from its RLP item; rejects anything validatorListProblem names. */
export function validatorsFromItem(item: RlpItem, what = 'validators'): ValidatorInfo[] {
  const items = asList(item, what);
  if (items.length > MAX_VALIDATORS) throw new CodecError('INVALID_FIELD', what, 'too many validators');
  const list = items.map((it, i) => {
    const f = asList(it, `${what}[${i}]`, 3);
    return {
      address: new Address(asBytes(f[0], `${what}[${i}].address`, ADDRESS_LENGTH)),
      publicKey: asBytes(f[1], `${what}[${i}].publicKey`, PUBLIC_KEY_LENGTH),
      power: asBigint(f[2], `${what}[${i}].power`),
    };
  });
  const problem = validatorListProblem(list, true);
  if (problem !== null) throw new CodecError('INVALID_FIELD', what, problem);
  return list;
}

export function decodeValidators(bytes: Uint8Array): ValidatorInfo[] {
  return validatorsFromItem(decodeRlp(bytes, 'validators'));
}

export function validatorToJSON(v: ValidatorInfo) {
  return { address: v.address.toString(), publicKey: toHex(v.publicKey), power: v.power.toString() };
}
