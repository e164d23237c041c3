/**
 * Mempool under random add / commit / remove / external-commit / clock sequences: the pool never exceeds
 * its count and byte bounds (global and per sender), byte counts stay exact, an eviction never leaves a
 * tx behind a gap it made, a refusal changes nothing, reap() order is valid, and a tx stranded behind a
 * gap is dropped exactly when it has waited the TTL (executable txs never are).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { txValue } from '../../chain/ledger/gas.js';
import type { Mempool } from '../../chain/mempool/mempool.js';
import { TxError } from '../../chain/tx/errors.js';
import type { Tx } from '../../chain/tx/index.js';
import { propertyParams } from '../fc-params.js';
import { accounts, clock, keys, mempool, mk } from '../unit/chain/mempool/fixtures.js';

const SENDERS = keys.slice(0, 4);
const TTL = 1_000;
const CODES = new Set([
  'MEMPOOL_FULL',
  'MEMPOOL_SENDER_FULL',
  'TX_INSUFFICIENT_BALANCE',
  'TX_NONCE_TOO_HIGH',
  'TX_NONCE_TOO_LOW',
  'TX_REPLACEMENT_UNDERPRICED',
  'TX_ALREADY_KNOWN',
]);

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('add' as const),
      s: fc.nat(3),
      dn: fc.nat(3),
      gasPrice: fc.bigInt(1n, 6n),
      size: fc.constantFrom('small' as const, 'normal' as const, 'big' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('replace' as const),
      i: fc.nat(50),
      size: fc.constantFrom('small' as const, 'normal' as const, 'big' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('commit' as const), k: fc.nat(4) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('external' as const), s: fc.nat(3), jump: fc.nat({ max: 2 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), i: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.nat(1_500) }) },
);

const limitsArb = fc.record({
  maxTxs: fc.integer({ min: 2, max: 8 }),
  maxBytes: fc.integer({ min: 300, max: 2_000 }),
  maxTxsPerSender: fc.integer({ min: 1, max: 6 }),
  maxBytesPerSender: fc.integer({ min: 150, max: 1_200 }),
  nonceWindow: fc.integer({ min: 2, max: 6 }),
});

const key = (t: Tx) => `${t.sender.toString()}/${t.nonce}`;
const cost = (t: Tx) => t.maxFee + txValue(t);

function all(m: Mempool): Tx[] {
  return SENDERS.flatMap((k) => m.pendingFor(k.address));
}

describe('mempool properties', () => {
  it('bounds, no eviction gaps, all-or-nothing refusals, valid reap order, exact TTL', async () => {
    await fc.assert(
      fc.asyncProperty(
        limitsArb,
        fc.array(fc.constantFrom(10n ** 30n, 10n ** 30n, 2_000_000n), { minLength: 4, maxLength: 4 }),
        fc.array(op, { minLength: 10, maxLength: 60, size: 'max' }),
        async (limits, balances, ops) => {
          const c = clock();
          const accts = accounts(SENDERS.map((k, i) => [k, balances[i]]));
          const m = mempool({ ...limits, strandedTtlMs: TTL }, accts, c.now);
          const acct = (i: number) => accts.map.get(SENDERS[i].address.toString())!;
          /** (sender/nonce) -> when the model saw it become stranded. */
          const since = new Map<string, number>();

          const check = () => {
            const txs = all(m);
            expect(m.size).toBe(txs.length);
            expect(m.size).toBeLessThanOrEqual(limits.maxTxs);
            expect(m.bytes).toBe(txs.reduce((s, t) => s + t.size, 0));
            expect(m.bytes).toBeLessThanOrEqual(limits.maxBytes);
            const executable = new Set<string>();
            SENDERS.forEach((k, i) => {
              const mine = m.pendingFor(k.address);
              const a = acct(i);
              expect(mine.length).toBeLessThanOrEqual(limits.maxTxsPerSender);
              expect(mine.reduce((s, t) => s + t.size, 0)).toBeLessThanOrEqual(limits.maxBytesPerSender);
              expect(mine.reduce((s, t) => s + cost(t), 0n)).toBeLessThanOrEqual(a.balance);
              for (const t of mine) {
                expect(t.nonce >= a.nonce && t.nonce < a.nonce + BigInt(limits.nonceWindow)).toBe(true);
              }
              let n = a.nonce;
              for (const t of mine) {
                if (t.nonce !== n) break;
                executable.add(key(t));
                n++;
              }
            });
            // reap: every executable tx, each sender in nonce order from its account nonce, and at each
            // step a tx paying at least as much as every other sender's next executable tx
            const order = m.reap();
            expect(order.length).toBe(executable.size);
            const next = SENDERS.map((_, i) => acct(i).nonce);
            const byKey = new Map(txs.map((t) => [key(t), t]));
            for (const t of order) {
              const i = SENDERS.findIndex((k) => k.address.equals(t.sender));
              expect(t.nonce).toBe(next[i]);
              SENDERS.forEach((k, j) => {
                const head = byKey.get(`${k.address.toString()}/${next[j]}`);
                if (head !== undefined) expect(t.gasPrice >= head.gasPrice).toBe(true);
              });
              next[i]++;
            }
            // the TTL model
            for (const t of txs) {
              const k = key(t);
              if (executable.has(k)) since.delete(k);
              else if (!since.has(k)) since.set(k, c.t);
            }
            const present = new Set(txs.map(key));
            for (const k of [...since.keys()]) if (!present.has(k)) since.delete(k);
          };

          for (const o of ops) {
            if (o.t === 'add' || o.t === 'replace') {
              let tx: Tx;
              if (o.t === 'add') {
                const a = acct(o.s);
                tx = mk(SENDERS[o.s], a.nonce + BigInt(o.dn), {
                  gasPrice: o.gasPrice,
                  size: o.size,
                  amount: o.size === 'big' ? 1n << 64n : 1n,
                });
              } else {
                // a pending tx again at twice its gas price, in another size
                const txs = all(m);
                if (txs.length === 0) continue;
                const old = txs[o.i % txs.length];
                const s = SENDERS.findIndex((k) => k.address.equals(old.sender));
                tx = mk(SENDERS[s], old.nonce, {
                  gasPrice: old.gasPrice * 2n,
                  size: o.size,
                  amount: o.size === 'big' ? 1n << 64n : 2n,
                });
              }
              const before = all(m);
              const beforeKeys = new Set(before.map(key));
              const replaces = beforeKeys.has(key(tx));
              const oldSize = before.find((t) => key(t) === key(tx))?.size ?? 0;
              const sizeBefore = m.size;
              const bytesBefore = m.bytes;
              const r = (await m.addMany([tx]))[0];
              const after = all(m);
              if ('error' in r) {
                expect(r.error).toBeInstanceOf(TxError);
                expect(CODES.has(r.error.code)).toBe(true);
                expect(after.map((t) => t.hash().toString()).sort()).toEqual(
                  before.map((t) => t.hash().toString()).sort(),
                );
                if (r.error.code === 'MEMPOOL_FULL') {
                  const over =
                    sizeBefore + (replaces ? 0 : 1) > limits.maxTxs ||
                    bytesBefore + tx.size - oldSize > limits.maxBytes;
                  expect(over).toBe(true);
                }
              } else {
                expect(m.has(tx.hash())).toBe(true);
                // evicted (sender, nonce) slots: nothing of that sender above them remains
                const afterKeys = new Set(after.map(key));
                for (const gone of before.filter((t) => !afterKeys.has(key(t)))) {
                  for (const t of after) {
                    if (t.sender.equals(gone.sender)) expect(t.nonce < gone.nonce).toBe(true);
                  }
                }
              }
            } else if (o.t === 'commit') {
              const reaped = m.reap({ maxTxs: o.k });
              for (const t of reaped) {
                const i = SENDERS.findIndex((k) => k.address.equals(t.sender));
                const a = acct(i);
                accts.set(SENDERS[i], { nonce: t.nonce + 1n, balance: a.balance - cost(t) });
              }
              await m.update(reaped);
            } else if (o.t === 'external') {
              // a tx of this sender committed from another node's mempool, spending part of the balance
              const a = acct(o.s);
              const nonce = a.nonce + BigInt(o.jump);
              accts.set(SENDERS[o.s], { nonce: nonce + 1n, balance: a.balance - a.balance / 4n });
              await m.update([mk(SENDERS[o.s], nonce, { gasPrice: 9n })]);
            } else if (o.t === 'remove') {
              const txs = all(m);
              if (txs.length > 0) m.remove([txs[o.i % txs.length]]);
            } else {
              c.advance(o.ms);
              const before = all(m);
              m.expire();
              const afterKeys = new Set(all(m).map(key));
              for (const t of before) {
                const k = key(t);
                const s = since.get(k);
                const due = s !== undefined && c.t - s >= TTL;
                expect({ k, dropped: !afterKeys.has(k) }).toEqual({ k, dropped: due });
              }
            }
            check();
          }
        },
      ),
      propertyParams('mempool bounds and eviction', 100),
    );
  });
});
