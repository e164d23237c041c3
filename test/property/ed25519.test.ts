/** node:crypto (OpenSSL) and @noble/curves must agree on Ed25519 keys, signatures and verification. */
import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { PrivateKey, verifySignature } from '../../chain/keys.js';
import { equalBytes } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const msgArb = fc.uint8Array({ maxLength: 256 });

describe('Ed25519: node:crypto agrees with @noble/curves', () => {
  it('same public key and same (deterministic) signature', () => {
    fc.assert(
      fc.property(seedArb, msgArb, (seed, msg) => {
        const k = PrivateKey.fromSeed(seed);
        expect(equalBytes(k.publicKey, ed25519.getPublicKey(seed))).toBe(true);
        const sig = k.sign(msg);
        expect(equalBytes(sig, ed25519.sign(msg, seed))).toBe(true);
        expect(verifySignature(k.publicKey, msg, sig)).toBe(true);
        expect(ed25519.verify(sig, msg, k.publicKey)).toBe(true);
      }),
      propertyParams('ed25519 sign agreement', 200),
    );
  });

  it('both reject a tampered message or signature', () => {
    fc.assert(
      fc.property(
        seedArb,
        msgArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (seed, msg, pos, x, onSig) => {
          const k = PrivateKey.fromSeed(seed);
          const sig = k.sign(msg);
          const m2 = Uint8Array.from(msg);
          const s2 = Uint8Array.from(sig);
          if (onSig || m2.length === 0) s2[pos % 64] ^= x;
          else m2[pos % m2.length] ^= x;
          const ours = verifySignature(k.publicKey, m2, s2);
          let theirs: boolean;
          try {
            theirs = ed25519.verify(s2, m2, k.publicKey);
          } catch {
            theirs = false;
          }
          expect(ours).toBe(theirs);
          expect(ours).toBe(false);
        },
      ),
      propertyParams('ed25519 tamper agreement', 200),
    );
  });
});
