import { describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../../chain/keys.js';
import { CachingVerifier, inlineVerifier, type VerifyItem } from '../../../../chain/ledger/verifier.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(7));

function item(text: string): VerifyItem {
  const message = new TextEncoder().encode(text);
  return { publicKey: key.publicKey, message, signature: key.sign(message) };
}

/** Counts what reaches the real verifier. */
function counting() {
  const seen: VerifyItem[] = [];
  return {
    seen,
    verifier: {
      verifyBatch: (items: readonly VerifyItem[]) => {
        seen.push(...items);
        return inlineVerifier.verifyBatch(items);
      },
    },
  };
}

describe('CachingVerifier', () => {
  it('checks each valid signature once and answers later checks from the cache', async () => {
    const inner = counting();
    const v = new CachingVerifier(inner.verifier);
    const a = item('a');
    const b = item('b');
    expect(await v.verifyBatch([a, b])).toEqual([true, true]);
    expect(await v.verifyBatch([b, a, item('c')])).toEqual([true, true, true]);
    expect(inner.seen).toHaveLength(3);
    expect(v.hits).toBe(2);
  });

  it('never caches a failure, and a cached success does not vouch for other bytes', async () => {
    const inner = counting();
    const v = new CachingVerifier(inner.verifier);
    const good = item('pay 1');
    const forged = { ...good, message: new TextEncoder().encode('pay 9') };
    expect(await v.verifyBatch([good])).toEqual([true]);
    expect(await v.verifyBatch([forged])).toEqual([false]);
    expect(await v.verifyBatch([forged])).toEqual([false]);
    // Shift one byte from the signature into the message: same concatenation, different item.
    const shifted = {
      publicKey: good.publicKey,
      signature: good.signature.subarray(0, 63),
      message: Uint8Array.from([good.signature[63], ...good.message]),
    };
    expect(await v.verifyBatch([shifted])).toEqual([false]);
    expect(inner.seen).toHaveLength(4);
  });

  it('stays within its bound, evicting the oldest', async () => {
    const inner = counting();
    const v = new CachingVerifier(inner.verifier, 2);
    const [a, b, c] = [item('a'), item('b'), item('c')];
    await v.verifyBatch([a, b, c]);
    await v.verifyBatch([c, b]);
    expect(inner.seen).toHaveLength(3);
    await v.verifyBatch([a]);
    expect(inner.seen).toHaveLength(4);
  });
});
