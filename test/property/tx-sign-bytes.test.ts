/**
 * A decoded tx's sign bytes are cut from its wire bytes (PERF); they must equal the sign bytes made by
 * re-encoding its fields, for any tx, and a signature made over one must verify with the other.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Address } from '../../chain/address.js';
import { PrivateKey } from '../../chain/keys.js';
import { createTxFromRlp, Tx, TxKind, txSignBytes } from '../../chain/tx/index.js';
import { propertyParams } from '../fc-params.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(9));

const txArb = fc
  .record({
    chainId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,49}$/),
    nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    kind: fc.constantFrom(TxKind.Transfer, TxKind.Stake, TxKind.Unstake),
    to: fc.uint8Array({ minLength: 20, maxLength: 20 }),
    amount: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
    gasLimit: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    gasPrice: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  })
  .map(({ chainId, nonce, kind, to, amount, gasLimit, gasPrice }) =>
    Tx.sign(
      {
        chainId,
        nonce,
        kind,
        payload:
          kind === TxKind.Transfer
            ? { kind, body: { to: new Address(to), amount } }
            : { kind, body: { amount } },
        gasLimit,
        gasPrice,
      },
      key,
    ),
  );

describe('tx sign bytes', () => {
  it('cut from the wire bytes equal the re-encoded ones', () => {
    fc.assert(
      fc.property(txArb, (tx) => {
        const decoded = createTxFromRlp(tx.serialize());
        expect(Buffer.from(decoded.signBytes())).toEqual(Buffer.from(txSignBytes(decoded)));
        expect(Buffer.from(tx.signBytes())).toEqual(Buffer.from(txSignBytes(tx)));
        expect(decoded.verifySignature()).toBe(true);
      }),
      propertyParams('tx sign bytes from wire bytes', 300),
    );
  });
});
