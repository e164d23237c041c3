/**
 * The naming state machine on a real ledger: commit and reveal, front-running, price burned, expiry,
 * grace, release, transfer lockup and cancel, owner-only changes, reserved and invalid names.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeRlp } from '../../../../chain/codec.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { DEFAULT_NAMING_PARAMS, type NamingParams, namePrice } from '../../../../chain/ledger/params.js';
import { createTxFromRlp, type Tx, type TxPayload } from '../../../../chain/tx/index.js';
import { commitHash, NAME_REC_PREFIX, nameKey, nameOfKey } from '../../../../services/naming/layout.js';
import { decodeEntry } from '../../../../services/naming/records.js';
import { effectiveEntry, NameTxKind, namePayload, nameStatus } from '../../../../services/naming/state.js';
import { BlockRunner, openTestChain, type TestChain } from '../../../helpers/chain.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(31));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(32));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(33));
const naming: NamingParams = {
  ...DEFAULT_NAMING_PARAMS,
  registrationPeriod: 10,
  gracePeriod: 4,
  transferLockup: 3,
  commitMaxAge: 5,
  pricesByLength: [5_000n, 1_000n, 100n],
};

let chain: TestChain | undefined;
let run: BlockRunner;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

async function open(): Promise<TestChain> {
  chain = await openTestChain([validator], {
    params: { naming },
    extraAccounts: [alice, bob].map((k) => ({ address: k.address, balance: 10_000_000n })),
  });
  run = new BlockRunner(chain);
  return chain;
}

const tx = (key: PrivateKey, payload: TxPayload): Tx => run.tx(key, payload);
/** Commit one block with these txs; returns each tx's receipt error ('' = ok). */
const block = (...txs: Tx[]): Promise<string[]> => run.block(...txs);

async function entry(name: string) {
  const v = await chain!.ledger.getState(nameKey(name));
  return v === undefined ? undefined : decodeEntry(name, v);
}

async function register(key: PrivateKey, name: string): Promise<void> {
  const salt = randomBytes(32);
  expect(await block(tx(key, namePayload.commit(commitHash(name, key.address, salt))))).toEqual(['']);
  expect(await block(tx(key, namePayload.reveal(name, salt)))).toEqual(['']);
}

describe('naming state machine', () => {
  it('commit, then reveal a block later: registered to the revealer, the price by length burned', async () => {
    await open();
    const before = (await chain!.ledger.getAccount(alice.address)).balance;
    await register(alice, 'alice');
    const e = await entry('alice');
    expect(e?.owner.equals(alice.address)).toBe(true);
    expect(e?.expires).toBe(2 + naming.registrationPeriod);
    const after = (await chain!.ledger.getAccount(alice.address)).balance;
    // two txs' fees and the 5-letter price
    expect(before - after > namePrice(naming, 5)).toBe(true);
    expect(namePrice(naming, 5)).toBe(100n);
  });

  it('a reveal in the commit block is too early; a reveal without a matching commit fails; an old commit expires', async () => {
    await open();
    const salt = randomBytes(32);
    const h = commitHash('early', alice.address, salt);
    expect(
      await block(tx(alice, namePayload.commit(h)), tx(alice, namePayload.reveal('early', salt))),
    ).toEqual(['', 'NAME_REVEAL_TOO_EARLY']);
    expect(await block(tx(alice, namePayload.reveal('early', randomBytes(32))))).toEqual(['NAME_NO_COMMIT']);
    for (let i = 0; i < naming.commitMaxAge; i++) await block();
    expect(await block(tx(alice, namePayload.reveal('early', salt)))).toEqual(['NAME_COMMIT_EXPIRED']);
    expect(await entry('early')).toBeUndefined();
  });

  it('front-running: a watcher that sees the reveal cannot take the name', async () => {
    await open();
    const salt = randomBytes(32);
    await block(tx(alice, namePayload.commit(commitHash('prize', alice.address, salt))));
    // Bob sees alice's reveal (name and salt) in the mempool: he replays it, and commits for himself.
    const bobSalt = randomBytes(32);
    expect(
      await block(
        tx(bob, namePayload.reveal('prize', salt)),
        tx(bob, namePayload.commit(commitHash('prize', bob.address, bobSalt))),
        tx(alice, namePayload.reveal('prize', salt)),
      ),
    ).toEqual(['NAME_NO_COMMIT', '', '']);
    expect(await block(tx(bob, namePayload.reveal('prize', bobSalt)))).toEqual(['NAME_TAKEN']);
    expect((await entry('prize'))?.owner.equals(alice.address)).toBe(true);
  });

  it('only the owner updates, renews, transfers or releases; the others fail with no state change', async () => {
    await open();
    await register(alice, 'owned');
    const before = await chain!.ledger.getState(nameKey('owned'));
    const records = { ...(await entry('owned'))!.records, txt: ['mine'] };
    expect(
      await block(
        tx(bob, namePayload.update('owned', records)),
        tx(bob, namePayload.renew('owned')),
        tx(bob, namePayload.transfer('owned', bob.publicKey)),
        tx(bob, namePayload.release('owned')),
      ),
    ).toEqual(['NAME_NOT_OWNER', 'NAME_NOT_OWNER', 'NAME_NOT_OWNER', 'NAME_NOT_OWNER']);
    expect(await chain!.ledger.getState(nameKey('owned'))).toEqual(before);
    expect(await block(tx(alice, namePayload.update('owned', records)))).toEqual(['']);
    expect((await entry('owned'))?.records.txt).toEqual(['mine']);
  });

  it('expiry, then an owner-only grace period (renew works), then the name is free for anyone', async () => {
    await open();
    await register(alice, 'lapse'); // h2, expires at 12
    while (chain!.ledger.head.height < 12) await block();
    const records = (await entry('lapse'))!.records;
    // h13: expired; updates refused, renew by the owner accepted during grace
    expect(await block(tx(alice, namePayload.update('lapse', records)))).toEqual(['NAME_EXPIRED']);
    const e = (await entry('lapse'))!;
    expect(nameStatus(e, 13, naming)).toBe('grace');
    expect(await block(tx(alice, namePayload.renew('lapse')))).toEqual(['']);
    expect((await entry('lapse'))?.expires).toBe(22);
    // let it lapse past grace (22 + 4): bob registers it
    while (chain!.ledger.head.height < 26) await block();
    const salt = randomBytes(32);
    expect(await block(tx(bob, namePayload.commit(commitHash('lapse', bob.address, salt))))).toEqual(['']);
    expect(await block(tx(bob, namePayload.reveal('lapse', salt)))).toEqual(['']);
    expect((await entry('lapse'))?.owner.equals(bob.address)).toBe(true);
  });

  it('release frees the name at once; the enumerable index follows', async () => {
    await open();
    await register(alice, 'gone');
    await register(alice, 'kept');
    const names = async () => {
      const out: string[] = [];
      for await (const [k] of chain!.ledger.store.indexed(NAME_REC_PREFIX)) out.push(nameOfKey(k)!);
      return out;
    };
    expect(await names()).toEqual(['gone', 'kept']);
    expect(await block(tx(alice, namePayload.release('gone')))).toEqual(['']);
    expect(await entry('gone')).toBeUndefined();
    expect(await names()).toEqual(['kept']);
    await register(bob, 'gone');
    expect((await entry('gone'))?.owner.equals(bob.address)).toBe(true);
  });

  it('transfer takes effect after the lockup; the owner can cancel before', async () => {
    await open();
    await register(alice, 'moving'); // h2
    expect(await block(tx(alice, namePayload.transfer('moving', bob.publicKey)))).toEqual(['']); // h3, effective after 6
    expect(await block(tx(alice, namePayload.cancelTransfer('moving')))).toEqual(['']);
    expect((await entry('moving'))?.transfer).toBeNull();
    expect(await block(tx(alice, namePayload.transfer('moving', bob.publicKey)))).toEqual(['']); // h5 -> 8
    const pending = (await entry('moving'))!;
    expect(pending.transfer?.effectiveAt).toBe(8);
    // before the lockup ends bob is not the owner yet; alice still is
    expect(await block(tx(bob, namePayload.renew('moving')))).toEqual(['NAME_NOT_OWNER']);
    expect(effectiveEntry(pending, 8).owner.equals(alice.address)).toBe(true);
    expect(effectiveEntry(pending, 9).owner.equals(bob.address)).toBe(true);
    while (chain!.ledger.head.height < 8) await block();
    const records = { ...pending.records, txt: ['bob now'] };
    expect(
      await block(
        tx(alice, namePayload.update('moving', records)),
        tx(bob, namePayload.update('moving', records)),
      ),
    ).toEqual(['NAME_NOT_OWNER', '']);
    expect((await entry('moving'))?.owner.equals(bob.address)).toBe(true);
  });

  it('reserved names cannot be registered; invalid and non-canonical names never decode', async () => {
    await open();
    const salt = randomBytes(32);
    await block(tx(alice, namePayload.commit(commitHash('localhost', alice.address, salt))));
    expect(await block(tx(alice, namePayload.reveal('localhost', salt)))).toEqual(['NAME_RESERVED']);
    for (const bad of ['ab', 'Alice', '-abc', 'a_b', 'xn--zz']) {
      const raw = encodeRlp([
        'vos-test',
        0,
        alice.publicKey,
        NameTxKind.Renew,
        encodeRlp([bad]),
        1,
        1,
        new Uint8Array(64),
      ]);
      expect(() => createTxFromRlp(raw)).toThrow(/name-renew.name/);
    }
  });
});
