import { describe, expect, it } from '@jest/globals';
import { Address, addressFromPublicKey } from '../../../chain/address.js';
import { encodeRlp } from '../../../chain/codec.js';
import { sha256 } from '../../../chain/hash.js';
import {
  centrePriorities,
  newValidatorPriority,
  proposerStep,
  rescalePriorities,
} from '../../../consensus/proposer.js';
import {
  createValidatorSet,
  createValidatorSetFromRlp,
  type Validator,
  ValidatorSet,
} from '../../../consensus/validator-set.js';
import { toHex, utf8 } from '../../../util/bytes.js';

/** A validator with a made-up 32-byte key (the set only needs address = hash of the key). */
function testValidator(seed: number, power: bigint): Validator {
  const publicKey = sha256(utf8(`validator-${seed}`));
  return { address: addressFromPublicKey(publicKey), publicKey, power };
}

// CometBFT types/validator_set_test.go TestProposerSelection1: foo 1000, bar 300, baz 330, 99 steps.
const COMETBFT_SELECTION1 =
  'foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo';

describe('proposer selection (CometBFT weighted round robin)', () => {
  it('reproduces CometBFT TestProposerSelection1', () => {
    const names = ['foo', 'bar', 'baz'];
    const powers = [1000n, 300n, 330n];
    const addrs = names.map((n) => utf8(n));
    let pr = [0n, 0n, 0n];
    const seq: string[] = [];
    for (let i = 0; i < 99; i++) {
      const s = proposerStep(powers, addrs, pr);
      pr = s.priorities;
      seq.push(names[s.proposer]);
    }
    expect(seq.join(' ')).toBe(COMETBFT_SELECTION1);
  });

  it('breaks ties by the lower address', () => {
    const addrs = [utf8('b'), utf8('a'), utf8('c')];
    const s = proposerStep([5n, 5n, 5n], addrs, [0n, 0n, 0n]);
    expect(s.proposer).toBe(1);
    expect(s.priorities).toEqual([5n, -10n, 5n]);
  });

  it('rescales a spread above 2 * total and centres around 0 with floor division', () => {
    expect(rescalePriorities([100n, -100n], 10n)).toEqual([10n, -10n]); // ratio ceil(200/20) = 10
    expect(rescalePriorities([5n, -5n], 10n)).toEqual([5n, -5n]);
    expect(centrePriorities([-3n, 0n])).toEqual([-1n, 2n]); // avg floor(-3/2) = -2
    expect(newValidatorPriority(80n)).toBe(-90n);
  });
});

describe('ValidatorSet', () => {
  const vals = [testValidator(1, 10n), testValidator(2, 30n), testValidator(3, 10n), testValidator(4, 20n)];

  it('keeps canonical order (power desc, address asc), totals and lookups', () => {
    const set = createValidatorSet(vals, 1);
    expect(set.validators.map((v) => v.power)).toEqual([30n, 20n, 10n, 10n]);
    const [a, b] = set.validators.slice(2);
    expect(Buffer.compare(a.address.bytes, b.address.bytes)).toBeLessThan(0);
    expect(set.totalPower).toBe(70n);
    expect(set.size).toBe(4);
    expect(set.getByAddress(vals[1].address)?.power).toBe(30n);
    expect(set.indexOf(vals[1].address)).toBe(0);
    expect(set.getByAddress(new Address(new Uint8Array(20)))).toBeUndefined();
    expect(set.powerOf(3)).toBe(10n);
  });

  it('hash() is sha256 of the canonical RLP without priorities (the header validatorsHash)', () => {
    const set = createValidatorSet(vals, 1);
    const rlp = encodeRlp(set.validators.map((v) => [v.address.bytes, v.publicKey, v.power]));
    expect(toHex(set.hash())).toBe(toHex(sha256(rlp)));
    expect(toHex(set.next().hash())).toBe(toHex(set.hash()));
  });

  it('serializes with height and priorities and decodes back; rejects non-canonical input', () => {
    const set = createValidatorSet(vals, 7).atHeight(12);
    const back = createValidatorSetFromRlp(set.serialize());
    expect(back.height).toBe(12);
    expect(back.priorities()).toEqual(set.priorities());
    expect(back.priorities().some((p) => p < 0n)).toBe(true);
    expect(back.proposerAt(15, 3)).toBe(set.proposerAt(15, 3));
    const swapped = encodeRlp([
      1,
      [...set.validators].reverse().map((v) => [v.address.bytes, v.publicKey, v.power]),
      set.validators.map(() => 0),
    ]);
    expect(() => createValidatorSetFromRlp(swapped)).toThrow('canonical order');
    const badKey = encodeRlp([1, [[vals[0].address.bytes, vals[1].publicKey, 10n]], [0]]);
    expect(() => createValidatorSetFromRlp(badKey)).toThrow('does not match');
    const missing = encodeRlp([1, [[vals[0].address.bytes, vals[0].publicKey, 10n]], []]);
    expect(() => createValidatorSetFromRlp(missing)).toThrow('one priority per validator');
  });

  it('rejects empty sets, duplicates, zero power and mismatched keys', () => {
    expect(() => createValidatorSet([], 1)).toThrow('no validators');
    expect(() => createValidatorSet([vals[0], vals[0]], 1)).toThrow('duplicate');
    expect(() => createValidatorSet([{ ...vals[0], power: 0n }], 1)).toThrow('no power');
    expect(() => createValidatorSet([{ ...vals[0], address: vals[1].address }], 1)).toThrow('does not match');
  });

  it('proposerAt: round r = step r+1 from the height state; next height = one step', () => {
    const set = createValidatorSet(vals, 1);
    const powers = set.validators.map((v) => v.power);
    const addrs = set.validators.map((v) => v.address.bytes);
    let pr = [...set.priorities()];
    const steps: number[] = [];
    for (let i = 0; i < 12; i++) {
      const s = proposerStep(powers, addrs, pr);
      steps.push(s.proposer);
      pr = s.priorities;
    }
    // rounds of height 1
    expect([0, 1, 2, 3, 4, 5].map((r) => set.proposerAt(1, r))).toEqual(steps.slice(0, 6));
    // round 0 of heights 1..6 follow the same sequence (one step per height)
    expect([1, 2, 3, 4, 5, 6].map((h) => set.proposerAt(h, 0))).toEqual(steps.slice(0, 6));
    // round 2 of height 3 = step 3 + 2
    expect(set.proposerAt(3, 2)).toBe(steps[4]);
    expect(set.atHeight(3).proposerAt(3, 2)).toBe(steps[4]);
    expect(set.proposerAddressAt(1, 0).equals(set.validators[steps[0]].address)).toBe(true);
    expect(() => set.proposerAt(0, 0)).toThrow('before');
  });

  it('update(): removes, adds at -1.125 * total, keeps priorities of changed validators, re-centres', () => {
    const set = createValidatorSet(vals, 1).atHeight(5);
    const newcomer = testValidator(9, 40n);
    const updated = set.update([
      { publicKey: vals[0].publicKey, power: 0n }, // remove
      { publicKey: vals[1].publicKey, power: 35n }, // change
      { publicKey: newcomer.publicKey, power: 40n }, // add
    ]);
    expect(updated.height).toBe(5);
    expect(updated.getByAddress(vals[0].address)).toBeUndefined();
    expect(updated.getByAddress(vals[1].address)?.power).toBe(35n);
    expect(updated.totalPower).toBe(105n);
    const sum = updated.priorities().reduce((a, b) => a + b, 0n);
    expect(sum >= 0n && sum < BigInt(updated.size)).toBe(true); // centred
    const i = updated.indexOf(newcomer.address);
    const lowest = [...updated.priorities()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0];
    expect(updated.priorities()[i]).toBe(lowest); // last in line
    expect(() => set.update([{ publicKey: newcomer.publicKey, power: 0n }])).toThrow('not in the set');
    expect(() => set.update(vals.map((v) => ({ publicKey: v.publicKey, power: 0n })))).toThrow('empty');
    expect(updated).toBeInstanceOf(ValidatorSet);
  });

  it('toJSON shows powers and priorities as decimal strings', () => {
    const j = createValidatorSet(vals, 1).next().toJSON();
    expect(j.height).toBe(2);
    expect(j.totalPower).toBe('70');
    expect(typeof j.validators[0].proposerPriority).toBe('string');
  });
});
