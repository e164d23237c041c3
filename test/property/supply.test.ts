/**
 * Total supply (balances + stakes + pending unbondings) is conserved over random sequences of valid
 * and invalid txs: fees move to the proposer, failed txs only pay fees, invalid txs are dropped.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Commit } from '../../chain/commit.js';
import { PrivateKey } from '../../chain/keys.js';
import {
  decodeUnbondings,
  decodeValidatorRecord,
  unbondingKey,
  validatorKey,
} from '../../chain/ledger/accounts.js';
import { Tx, TxKind, type TxPayload } from '../../chain/tx/index.js';
import { propertyParams } from '../fc-params.js';
import { openTestChain, produceBlock } from '../helpers/chain.js';

const keys = [1, 2, 3].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));
const outsider = PrivateKey.fromSeed(new Uint8Array(32).fill(9));

const opArb = fc.record({
  from: fc.integer({ min: 0, max: 2 }),
  to: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom(TxKind.Transfer, TxKind.Transfer, TxKind.Stake, TxKind.Unstake),
  amount: fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1n << 70n })),
  nonceSkew: fc.constantFrom(0n, 0n, 0n, 0n, -1n, 1n),
  badSig: fc.integer({ min: 0, max: 9 }).map((n) => n < 1),
  gasPrice: fc.constantFrom(0n, 1n, 1n, 2n),
});

describe('supply conservation', () => {
  it('balances + stakes + unbonding stay constant over random blocks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        async (blocks) => {
          const chain = await openTestChain([keys[0]], {
            params: { epochLength: 2, unbondingPeriod: 3, minValidatorStake: 100n },
            extraAccounts: keys.slice(1).map((k) => ({ address: k.address, balance: 1_000_000n })),
          });
          // Stake txs can make the other keys validators (and unstake can drop keys[0] from the set):
          // the test chain proposes and signs commits with whichever of them the set holds.
          chain.keys.push(...keys.slice(1));
          try {
            const everyone = [...keys, outsider];
            const total = async () => {
              let sum = 0n;
              for (const k of everyone) {
                sum += (await chain.ledger.getAccount(k.address)).balance;
                const v = await chain.ledger.getState(validatorKey(k.address));
                if (v !== undefined) sum += decodeValidatorRecord(v).stake;
                const u = await chain.ledger.getState(unbondingKey(k.address));
                if (u !== undefined) for (const x of decodeUnbondings(u)) sum += x.amount;
              }
              return sum;
            };
            const initial = await total();
            const nonces = new Map<number, bigint>();
            let last: Commit | null = null;
            for (const ops of blocks) {
              const txs = ops.map((op) => {
                const n = nonces.get(op.from) ?? 0n;
                const nonce = n + op.nonceSkew < 0n ? 0n : n + op.nonceSkew;
                if (op.nonceSkew === 0n) nonces.set(op.from, n + 1n);
                const payload: TxPayload =
                  op.kind === TxKind.Transfer
                    ? { kind: op.kind, body: { to: everyone[op.to].address, amount: op.amount } }
                    : { kind: op.kind as TxKind.Stake, body: { amount: op.amount } };
                const tx = Tx.sign(
                  {
                    chainId: 'vos-test',
                    nonce,
                    kind: op.kind,
                    payload,
                    gasLimit: 100_000n,
                    gasPrice: op.gasPrice,
                  },
                  keys[op.from],
                );
                if (!op.badSig) return tx;
                const sig = Uint8Array.from(tx.signature);
                sig[0] ^= 1;
                return new Tx(tx, sig);
              });
              const r = await produceBlock(chain, txs, last);
              last = r.commit;
              // resync expected nonces with the chain (dropped txs did not consume theirs)
              for (let i = 0; i < keys.length; i++)
                nonces.set(i, (await chain.ledger.getAccount(keys[i].address)).nonce);
              expect(await total()).toBe(initial);
            }
          } finally {
            await chain.close();
          }
        },
      ),
      propertyParams('supply conservation', 40, 1000),
    );
  });
});
