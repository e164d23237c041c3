/**
 * Nested state checkpoints: a dropped tx leaves the state as if it never ran.
 * - StateOverlay against a model (a stack of map copies) over random writes, nested checkpoints,
 *   commits and rollbacks.
 * - The ledger over random tx sequences with a small block gas limit, so the proposer drops txs after
 *   executing them (gas overflow: the tx wrote its fee, nonce and transfer before the limit was
 *   checked): the validator re-executing the block, and a fresh chain fed only the included txs, reach
 *   the proposer's state root.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PrivateKey } from '../../chain/keys.js';
import { StateOverlay } from '../../chain/ledger/overlay.js';
import { Tx, TxKind, type TxPayload } from '../../chain/tx/index.js';
import { toHex } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';
import { openTestChain, produceBlock } from '../helpers/chain.js';

type Op =
  | { t: 'set'; k: number; v: number }
  | { t: 'del'; k: number }
  | { t: 'checkpoint' }
  | { t: 'commit' }
  | { t: 'rollback' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('set' as const), k: fc.integer({ min: 0, max: 5 }), v: fc.nat(9) }),
  fc.record({ t: fc.constant('del' as const), k: fc.integer({ min: 0, max: 5 }) }),
  fc.constant({ t: 'checkpoint' as const }),
  fc.constant({ t: 'commit' as const }),
  fc.constant({ t: 'rollback' as const }),
);

const keyOf = (k: number) => new Uint8Array([k]);

describe('nested state checkpoints', () => {
  it('StateOverlay behaves like a stack of snapshots', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
        const base = new Map<number, number>([
          [0, 100],
          [1, 101],
        ]);
        const overlay = new StateOverlay({
          get: async (k) => (base.has(k[0]) ? new Uint8Array([base.get(k[0])!]) : undefined),
        });
        let model = new Map<number, number | null>();
        const snapshots: Map<number, number | null>[] = [];
        for (const op of ops) {
          switch (op.t) {
            case 'set':
              overlay.set(keyOf(op.k), new Uint8Array([op.v]));
              model.set(op.k, op.v);
              break;
            case 'del':
              overlay.delete(keyOf(op.k));
              model.set(op.k, null);
              break;
            case 'checkpoint':
              overlay.checkpoint();
              snapshots.push(new Map(model));
              break;
            case 'commit':
              if (snapshots.length === 0) {
                expect(() => overlay.commitCheckpoint()).toThrow();
                break;
              }
              overlay.commitCheckpoint();
              snapshots.pop();
              break;
            case 'rollback':
              if (snapshots.length === 0) {
                expect(() => overlay.rollback()).toThrow();
                break;
              }
              overlay.rollback();
              model = snapshots.pop()!;
              break;
          }
          expect(overlay.depth).toBe(snapshots.length);
          for (let k = 0; k <= 5; k++) {
            const want = model.has(k) ? model.get(k) : base.get(k);
            const got = await overlay.get(keyOf(k));
            expect(got === undefined ? null : got[0]).toBe(want ?? null);
          }
        }
      }),
      propertyParams('overlay checkpoints', 500),
    );
  });

  const keys = [1, 2, 3].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));
  const txArb = fc.record({
    from: fc.integer({ min: 0, max: 2 }),
    to: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom(TxKind.Transfer, TxKind.Transfer, TxKind.Stake, TxKind.Unstake),
    amount: fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1n << 70n })),
  });

  it('txs dropped after executing leave no trace in the state root', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(txArb, { minLength: 1, maxLength: 10 }),
        // Transfers cost ~22k gas, stakes ~52k: limits that cut a block after a few txs.
        fc.integer({ min: 30_000, max: 200_000 }),
        async (ops, maxBlockGas) => {
          const opts = {
            params: { maxBlockGas: BigInt(maxBlockGas), minValidatorStake: 100n },
            extraAccounts: keys.slice(1).map((k) => ({ address: k.address, balance: 1_000_000n })),
          };
          const proposer = await openTestChain([keys[0]], opts);
          const replay = await openTestChain([keys[0]], opts);
          try {
            const nonces = [0n, 0n, 0n];
            const txs = ops.map((op) => {
              const payload: TxPayload =
                op.kind === TxKind.Transfer
                  ? { kind: op.kind, body: { to: keys[op.to].address, amount: op.amount } }
                  : { kind: op.kind as TxKind.Stake, body: { amount: op.amount } };
              return Tx.sign(
                {
                  chainId: 'vos-test',
                  nonce: nonces[op.from]++,
                  kind: op.kind,
                  payload,
                  gasLimit: 100_000n,
                  gasPrice: 1n,
                },
                keys[op.from],
              );
            });
            // produceBlock re-executes the block as a validator: a proposer root polluted by a
            // dropped tx makes it throw (stateRoot mismatch).
            const built = await produceBlock(proposer, txs, null);
            const again = await produceBlock(replay, [...built.block.txs], null);
            expect(again.block.txs.length).toBe(built.block.txs.length);
            expect(toHex(again.block.header.stateRoot)).toBe(toHex(built.block.header.stateRoot));
          } finally {
            await proposer.close();
            await replay.close();
          }
        },
      ),
      propertyParams('dropped txs leave no trace', 40, 1000),
    );
  });
});
