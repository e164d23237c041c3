/**
 * The validator list as data (who signs a height, with what voting power). Canonical order: power
 * descending, then address ascending. validatorsHash = sha256(rlp([[address, publicKey, power]...])).
 * Proposer priorities live in consensus/, not here.
 */
import { compareBytes, toHex } from '../util/bytes.js';
import { ADDRESS_LENGTH, Address, addressFromPublicKey } from './address.js';
import { asBigint, asBytes, asList, CodecError, decodeRlp, encodeRlp, type RlpInput } from './codec.js';
import { sha256 } from './hash.js';
import { PUBLIC_KEY_LENGTH } from './keys.js';

export interface ValidatorInfo {
  address: Address;
  publicKey: Uint8Array;
  power: bigint;
}

export function sortValidators(list: readonly ValidatorInfo[]): ValidatorInfo[] {
  return [...list].sort((a, b) =>
    a.power === b.power ? compareBytes(a.address.bytes, b.address.bytes) : a.power > b.power ? -1 : 1,
  );
}

export function encodeValidators(list: readonly ValidatorInfo[]): Uint8Array {
  return encodeRlp(list.map((v): RlpInput => [v.address.bytes, v.publicKey, v.power]));
}

export function validatorsHash(list: readonly ValidatorInfo[]): Uint8Array {
  return sha256(encodeValidators(sortValidators(list)));
}

export function totalPower(list: readonly ValidatorInfo[]): bigint {
  let t = 0n;
  for (const v of list) t += v.power;
  return t;
}

/** Decode a canonical (sorted, unique, address matching key, power > 0) validator list. */
export function decodeValidators(bytes: Uint8Array): ValidatorInfo[] {
  const items = asList(decodeRlp(bytes, 'validators'), 'validators');
  const list = items.map((it, i) => {
    const f = asList(it, `validators[${i}]`, 3);
    const address = new Address(asBytes(f[0], 'validator.address', ADDRESS_LENGTH));
    const publicKey = asBytes(f[1], 'validator.publicKey', PUBLIC_KEY_LENGTH);
    if (!addressFromPublicKey(publicKey).equals(address)) {
      throw new CodecError('INVALID_FIELD', 'validator.address', 'does not match the public key');
    }
    const power = asBigint(f[2], 'validator.power');
    if (power === 0n) throw new CodecError('INVALID_FIELD', 'validator.power', 'must be > 0');
    return { address, publicKey, power };
  });
  const sorted = sortValidators(list);
  for (let i = 0; i < list.length; i++) {
    if (list[i] !== sorted[i]) throw new CodecError('INVALID_FIELD', 'validators', 'not in canonical order');
    if (i > 0 && list[i].address.equals(list[i - 1].address)) {
      throw new CodecError('INVALID_FIELD', 'validators', 'duplicate validator');
    }
  }
  return list;
}

export function validatorToJSON(v: ValidatorInfo) {
  return { address: v.address.toString(), publicKey: toHex(v.publicKey), power: v.power.toString() };
}
