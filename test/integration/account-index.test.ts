/**
 * The chain DB's account index (chain/store/account-index.ts) on a real ledger: written with each block
 * (complete from block 1), and rebuilt by backfillAccountIndex for a DB written before it existed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../chain/keys.js';
import { accountTxRange } from '../../chain/store/account-index.js';
import { KEY_ACCOUNT_INDEX } from '../../chain/store/layout.js';
import { TxKind } from '../../chain/tx/kinds.js';
import { toHex } from '../../util/bytes.js';
import { BlockRunner, openTestChain, type TestChain } from '../helpers/chain.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(61));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(62));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(63));

let chain: TestChain;
let run: BlockRunner;

beforeAll(async () => {
  chain = await openTestChain([validator], {
    extraAccounts: [alice, bob].map((k) => ({ address: k.address, balance: 10n ** 15n })),
  });
  run = new BlockRunner(chain);
});
afterAll(() => chain?.close());

const pay = (to: PrivateKey, amount = 1n) =>
  ({ kind: TxKind.Transfer, body: { to: to.address, amount } }) as const;

describe('account index', () => {
  it('lists each tx under its sender and transfer recipient, newest first, and pages by position', async () => {
    await run.block(run.tx(alice, pay(bob)), run.tx(alice, pay(bob)), run.tx(bob, pay(alice)));
    // A transfer beyond the balance fails: still listed, with its status.
    expect(
      await run.block(
        run.tx(alice, pay(bob, 10n ** 18n)),
        run.tx(alice, { kind: TxKind.Stake, body: { amount: 0n } }),
      ),
    ).toHaveLength(2);
    const store = chain.ledger.store;
    expect(await store.accountIndexComplete()).toBe(true);
    const all = await store.getAccountTxs(alice.address.bytes, { limit: 10 });
    expect(all.more).toBe(false);
    expect(all.txs.map((t) => [t.height, t.index, t.role, t.kind])).toEqual([
      [2, 1, 'sender', 'stake'],
      [2, 0, 'sender', 'transfer'],
      [1, 2, 'recipient', 'transfer'],
      [1, 1, 'sender', 'transfer'],
      [1, 0, 'sender', 'transfer'],
    ]);
    expect(all.txs[1].status).toBe('failed');
    const page = await store.getAccountTxs(alice.address.bytes, {
      limit: 2,
      before: { height: 2, index: 0 },
    });
    expect([page.txs.map((t) => [t.height, t.index]), page.more]).toEqual([
      [
        [1, 2],
        [1, 1],
      ],
      true,
    ]);
    const block1 = await store.getBlock(1);
    expect(all.txs.at(-1)?.hash).toEqual(block1?.txs[0].hash());
  });

  it('a DB without the index gets the same entries from backfillAccountIndex, however often it runs', async () => {
    const db = chain.ledger.store.db;
    const snapshot = async () => {
      const out: string[] = [];
      for (const who of [alice, bob]) {
        const r = accountTxRange(who.address.bytes);
        for await (const [k, v] of db.iterator({ gte: r.gte, lte: r.lte }))
          out.push(`${toHex(k)}=${toHex(v)}`);
      }
      return out;
    };
    const before = await snapshot();
    expect(before.length).toBe(9);
    // As written by code older than the index: no entries, no mark.
    await chain.ledger.store.settled();
    for (const e of before) await db.del(Buffer.from(e.split('=')[0].slice(2), 'hex'));
    await db.del(KEY_ACCOUNT_INDEX);
    expect(await chain.ledger.store.accountIndexComplete()).toBe(false);
    expect(await snapshot()).toEqual([]);
    const head = chain.ledger.head.height;
    expect(await chain.ledger.store.backfillAccountIndex(head, 1)).toBe(head);
    expect(await snapshot()).toEqual(before);
    expect(await chain.ledger.store.accountIndexComplete()).toBe(true);
    await chain.ledger.store.backfillAccountIndex(head);
    expect(await snapshot()).toEqual(before);
  });
});
