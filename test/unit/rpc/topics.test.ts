import { describe, expect, it } from '@jest/globals';
import type { Block } from '../../../chain/block.js';
import { PrivateKey } from '../../../chain/keys.js';
import { Receipt, ReceiptStatus } from '../../../chain/receipt.js';
import { type NameChange, NameSchedule, nameChangesOfTxs, nameMatches } from '../../../rpc/topics.js';
import { EMPTY_RECORDS, type NameEntry } from '../../../services/naming/records.js';

const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(1));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(2));
const A = alice.address.toString();
const B = bob.address.toString();

function entry(name: string, expires: number, transfer?: { to: PrivateKey; effectiveAt: number }): NameEntry {
  return {
    name,
    owner: alice.address,
    ownerKey: alice.publicKey,
    registeredAt: 1,
    expires,
    records: { ...EMPTY_RECORDS },
    transfer:
      transfer === undefined
        ? null
        : { to: transfer.to.address, toKey: transfer.to.publicKey, effectiveAt: transfer.effectiveAt },
  };
}

const change = (
  c: Partial<NameChange> & Pick<NameChange, 'name' | 'kind' | 'height' | 'expires'>,
): NameChange => ({
  owner: A,
  tx: `0x${'ab'.repeat(32)}`,
  ...c,
});

describe('nameChangesOfTxs', () => {
  it("reads the naming service's receipt events of the txs that succeeded", () => {
    const hash = (b: number) => () => new Uint8Array(32).fill(b);
    const block = {
      height: 7,
      txs: [{ hash: hash(1) }, { hash: hash(2) }, { hash: hash(3) }],
    } as unknown as Block;
    const receipts = [
      new Receipt(ReceiptStatus.Ok, 1n, '', [
        {
          type: 'name-register',
          attributes: [
            ['name', 'alice'],
            ['owner', alice.address],
            ['expires', 107n],
            ['price', 5n],
          ],
        },
      ]),
      new Receipt(ReceiptStatus.Failed, 1n, 'NAME_TAKEN', []),
      new Receipt(ReceiptStatus.Ok, 1n, '', [
        { type: 'transfer', attributes: [] },
        {
          type: 'name-transfer',
          attributes: [
            ['name', 'alice'],
            ['owner', alice.address],
            ['expires', 107n],
            ['to', bob.address],
            ['effectiveAt', 9n],
          ],
        },
      ]),
    ];
    expect(nameChangesOfTxs(block, receipts)).toEqual([
      { name: 'alice', owner: A, height: 7, kind: 'register', tx: `0x${'01'.repeat(32)}`, expires: 107 },
      {
        name: 'alice',
        owner: A,
        height: 7,
        kind: 'transfer',
        tx: `0x${'03'.repeat(32)}`,
        expires: 107,
        to: B,
        effectiveAt: 9,
      },
    ]);
  });
});

describe('NameSchedule', () => {
  it('reports expiry at expires + 1 and a transfer taking effect at effectiveAt + 1, from loaded names', () => {
    const s = new NameSchedule(5);
    s.load([entry('old', 12), entry('moving', 50, { to: bob, effectiveAt: 11 })], 10);
    expect(s.advance(11)).toEqual([]);
    expect(s.advance(12)).toEqual([
      {
        name: 'moving',
        owner: B,
        previousOwner: A,
        height: 12,
        kind: 'transfer-effective',
        tx: null,
        expires: 50,
      },
    ]);
    expect(s.advance(13)).toEqual([
      { name: 'old', owner: A, height: 13, kind: 'expire', tx: null, expires: 12 },
    ]);
    expect(s.size).toBe(2);
    // Free after the grace period: forgotten.
    expect(s.advance(18)).toEqual([]);
    expect(s.size).toBe(1);
  });

  it('follows the txs: a renewal moves the expiry, a release forgets, a cancelled transfer never happens', () => {
    const s = new NameSchedule(100);
    s.load([], 0);
    s.advance(1);
    s.apply([change({ name: 'a', kind: 'register', height: 1, expires: 5 })]);
    s.apply([change({ name: 'b', kind: 'register', height: 1, expires: 5 })]);
    s.apply([change({ name: 'b', kind: 'transfer', height: 1, expires: 5, to: B, effectiveAt: 3 })]);
    s.advance(2);
    s.apply([change({ name: 'a', kind: 'renew', height: 2, expires: 20 })]);
    s.apply([change({ name: 'b', kind: 'transfer-cancel', height: 2, expires: 5 })]);
    expect(s.advance(4)).toEqual([]);
    expect(s.advance(6).map((c) => [c.name, c.kind])).toEqual([['b', 'expire']]);
    s.apply([change({ name: 'b', kind: 'release', height: 6, expires: 5 })]);
    expect(s.advance(21).map((c) => [c.name, c.kind, c.height])).toEqual([['a', 'expire', 21]]);
    expect(s.size).toBe(1);
  });

  it('names loaded with a transfer that already took effect are owned by the receiver', () => {
    const s = new NameSchedule(0);
    s.load([entry('done', 30, { to: bob, effectiveAt: 3 })], 10);
    expect(s.advance(31)).toEqual([
      { name: 'done', owner: B, height: 31, kind: 'expire', tx: null, expires: 30 },
    ]);
  });
});

describe('nameMatches', () => {
  it('by name, and by account as owner, receiver or previous owner', () => {
    const c = change({ name: 'n', kind: 'transfer', height: 1, expires: 9, to: B });
    expect(nameMatches(c, {})).toBe(true);
    expect(nameMatches(c, { name: 'n' })).toBe(true);
    expect(nameMatches(c, { name: 'm' })).toBe(false);
    expect(nameMatches(c, { account: A })).toBe(true);
    expect(nameMatches(c, { account: B })).toBe(true);
    const other = PrivateKey.fromSeed(new Uint8Array(32).fill(3)).address.toString();
    expect(nameMatches(c, { account: other })).toBe(false);
    expect(
      nameMatches(
        { ...c, kind: 'transfer-effective', owner: B, to: undefined, previousOwner: other },
        { account: other },
      ),
    ).toBe(true);
  });
});
