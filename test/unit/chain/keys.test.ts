import { describe, expect, it } from '@jest/globals';
import { bech32, bech32m } from '@scure/base';
import { Address, addressFromPublicKey } from '../../../chain/address.js';
import { PrivateKey, verifySignature } from '../../../chain/keys.js';

describe('keys and addresses', () => {
  it('address is bech32m vos1 of sha256(pubkey)[0..20] and round-trips', () => {
    const k = PrivateKey.generate();
    const s = k.address.toString();
    expect(s.startsWith('vos1')).toBe(true);
    expect(Address.fromString(s).equals(k.address)).toBe(true);
    expect(addressFromPublicKey(k.publicKey).equals(k.address)).toBe(true);
  });
  it('rejects malformed addresses with a clear error', () => {
    const s = PrivateKey.generate().address.toString();
    expect(() => Address.fromString(`${s.slice(0, -1)}${s.endsWith('q') ? 'p' : 'q'}`)).toThrow(
      'invalid address',
    );
    expect(() => Address.fromString(s.replace('vos1', 'bc1'))).toThrow('invalid address');
    expect(() => Address.fromString('')).toThrow('invalid address');
    expect(Address.isValid(s)).toBe(true);
  });
  it('says what is wrong with an address: checksum, length, character, prefix, bech32 vs bech32m', () => {
    const s = PrivateKey.generate().address.toString();
    const typo = `${s.slice(0, -1)}${s.endsWith('q') ? 'p' : 'q'}`;
    expect(() => Address.fromString(typo)).toThrow(`invalid address ${typo}: bad checksum`);
    expect(() => Address.fromString('vos1...')).toThrow('7 characters, a VOS address has 42');
    expect(() => Address.fromString(`${s.slice(0, -2)}b${s.slice(-1)}`)).toThrow(
      'character "b" is not allowed',
    );
    const other = bech32m.encode('xyz', bech32m.toWords(new Uint8Array(20)));
    expect(() => Address.fromString(other)).toThrow('prefix "xyz"');
    const v0 = bech32.encode('vos', bech32.toWords(new Uint8Array(20)));
    expect(() => Address.fromString(v0)).toThrow('bech32 string, VOS addresses use bech32m');
  });
  it('verify never throws on malformed input', () => {
    const k = PrivateKey.generate();
    expect(verifySignature(k.publicKey.subarray(1), new Uint8Array(1), new Uint8Array(64))).toBe(false);
    expect(verifySignature(k.publicKey, new Uint8Array(1), new Uint8Array(63))).toBe(false);
    expect(verifySignature(new Uint8Array(32), new Uint8Array(1), new Uint8Array(64))).toBe(false);
  });
  it('rejects a seed of the wrong length', () => {
    expect(() => PrivateKey.fromSeed(new Uint8Array(31))).toThrow('32 bytes');
  });
});
