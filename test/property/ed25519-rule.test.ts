/**
 * The VOS Ed25519 rule (chain/ed25519-rule.ts) on the edge cases of "Taming the many EdDSAs"
 * (Chalkias, Garillot, Nikolaenko 2020): small-order keys and R, mixed-order keys and R (cofactored
 * and cofactorless equations disagree), non-canonical S, non-canonical encodings of A and R. Each case
 * is built here from the curve (no vectors copied), with the verdict the rule prescribes, and checked
 * on every verifier the node and the browser use: node:crypto through verifySignature, the worker
 * pool, and @noble/curves through verifyEd25519Portable. What OpenSSL and noble's default (ZIP-215)
 * say without the rule is printed: that is where implementations differ and the rule decides.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import {
  ED25519_L as L,
  passesEd25519Rule,
  SMALL_ORDER_Y,
  verifyEd25519Portable,
} from '../../chain/ed25519-rule.js';
import { PrivateKey, verifySignature } from '../../chain/keys.js';
import { VerifyPool } from '../../chain/mempool/verify-pool.js';
import { propertyParams } from '../fc-params.js';

const Point = ed25519.Point;
type Pt = InstanceType<typeof Point>;
const P = 2n ** 255n - 19n;

const le = (n: bigint, len = 32): Uint8Array => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLe = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
};
const mul = (pt: Pt, k: bigint): Pt => {
  const m = ((k % L) + L) % L;
  return m === 0n ? Point.ZERO : pt.multiplyUnsafe(m);
};
/** [n]T for a torsion point T, n any integer (T's order divides 8). */
const torsionMul = (t: Pt, n: bigint): Pt => {
  let out = Point.ZERO;
  for (let i = 0n; i < ((n % 8n) + 8n) % 8n; i++) out = out.add(t);
  return out;
};
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint => {
  const h = new Uint8Array(64 + m.length);
  h.set(r);
  h.set(a, 32);
  h.set(m, 64);
  return fromLe(sha512(h)) % L;
};
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const msg = (i: number) => new TextEncoder().encode(`vos edge case ${i}`);

/** A point of order exactly 8 (the torsion part of a point found by decoding small y values). */
function order8(): Pt {
  for (let y = 2n; ; y++) {
    let q: Pt;
    try {
      q = Point.fromBytes(le(y), false);
    } catch {
      continue;
    }
    const t = q.multiplyUnsafe(L - 1n).add(q); // [L]q: the torsion component
    if (!t.double().double().equals(Point.ZERO)) return t;
  }
}
const T8 = order8();
const smallOrderPoints = Array.from({ length: 8 }, (_, i) => torsionMul(T8, BigInt(i)));

interface Case {
  name: string;
  pub: Uint8Array;
  message: Uint8Array;
  sig: Uint8Array;
  /** The rule's verdict. */
  accept: boolean;
}

/** Sign honestly with secret scalar a for public bytes `pub` (which may encode A0 + torsion). */
function signWith(a: bigint, pub: Uint8Array, m: Uint8Array, rNonce: bigint, rExtra: Pt = Point.ZERO) {
  const R = mul(Point.BASE, rNonce).add(rExtra);
  const rBytes = R.toBytes();
  const k = challenge(rBytes, pub, m);
  const s = (rNonce + k * a) % L;
  return { sig: concat(rBytes, le(s)), k };
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const honest = PrivateKey.fromSeed(new Uint8Array(32).fill(42));
  const m0 = msg(0);
  const good = honest.sign(m0);
  cases.push({ name: 'honest signature', pub: honest.publicKey, message: m0, sig: good, accept: true });

  // S + L: the same equation modulo L, a second encoding of one signature.
  const sPlusL = fromLe(good.subarray(32)) + L;
  cases.push({
    name: 'non-canonical S (S + L)',
    pub: honest.publicKey,
    message: m0,
    sig: concat(good.subarray(0, 32), le(sPlusL)),
    accept: false,
  });

  // Small-order A and small-order R with S = 0: [0]B = R + [k]A holds when R = -[k]A.
  const A8 = T8.toBytes();
  for (let i = 1; ; i++) {
    const m = msg(100 + i);
    const found = smallOrderPoints.find((R) => {
      const k = challenge(R.toBytes(), A8, m);
      return R.add(torsionMul(T8, k)).equals(Point.ZERO);
    });
    if (found !== undefined) {
      cases.push({
        name: 'small-order A, small-order R, S = 0 (both equations hold)',
        pub: A8,
        message: m,
        sig: concat(found.toBytes(), le(0n)),
        accept: false,
      });
      break;
    }
  }

  // Small-order A with an ordinary R = [r]B, S = r: holds when [k]A = 0 (k = 0 mod 8).
  for (let i = 1; ; i++) {
    const m = msg(200 + i);
    const r = 1234567n + BigInt(i);
    const R = mul(Point.BASE, r).toBytes();
    if (challenge(R, A8, m) % 8n === 0n) {
      cases.push({
        name: 'small-order A, ordinary R (both equations hold)',
        pub: A8,
        message: m,
        sig: concat(R, le(r)),
        accept: false,
      });
      break;
    }
  }

  // Mixed-order A = [a]B + T8, signed with a. Cofactorless holds iff [k]T8 = 0 (k = 0 mod 8).
  const a = 987654321987654321n;
  const mixedA = mul(Point.BASE, a).add(T8).toBytes();
  let holds = false;
  let fails = false;
  for (let i = 1; !(holds && fails); i++) {
    const m = msg(300 + i);
    const { sig, k } = signWith(a, mixedA, m, 555n + BigInt(i));
    const cofactorless = k % 8n === 0n;
    if (cofactorless && !holds) {
      holds = true;
      cases.push({
        name: 'mixed-order A, cofactorless equation holds',
        pub: mixedA,
        message: m,
        sig,
        accept: true,
      });
    }
    if (!cofactorless && !fails) {
      fails = true;
      cases.push({
        name: 'mixed-order A, only the cofactored equation holds',
        pub: mixedA,
        message: m,
        sig,
        accept: false,
      });
    }
  }

  // Mixed-order R = [r]B + T8 with an ordinary key: only the cofactored equation holds.
  const ordinaryA = mul(Point.BASE, a).toBytes();
  const mixedR = signWith(a, ordinaryA, msg(400), 777n, T8);
  cases.push({
    name: 'mixed-order R, only the cofactored equation holds',
    pub: ordinaryA,
    message: msg(400),
    sig: mixedR.sig,
    accept: false,
  });

  // Non-canonical encodings of small-order points (y + p, and x = 0 with the sign bit set).
  const identityPlusP = le(1n + P);
  const zeroY = le(0n + P);
  const negZero = le(1n);
  negZero[31] |= 0x80;
  for (const [name, enc] of [
    ['A = identity encoded with y = p + 1', identityPlusP],
    ['A = order-4 point encoded with y = p', zeroY],
    ['A = identity with the sign bit set ("-0")', negZero],
  ] as const) {
    cases.push({
      name,
      pub: enc,
      message: msg(500),
      sig: concat(Point.ZERO.toBytes(), le(0n)),
      accept: false,
    });
  }
  // Non-canonical R: the honest signature's R re-encoded is impossible (y >= p has no point above
  // 19); use the identity R with S = 0 on an ordinary key where [k]A = 0 cannot hold, and the
  // identity written as y = p + 1: rejected by the encoding check before any equation.
  cases.push({
    name: 'R = identity encoded with y = p + 1',
    pub: honest.publicKey,
    message: m0,
    sig: concat(identityPlusP, good.subarray(32)),
    accept: false,
  });
  return cases;
}

const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
function rawOpenSsl(c: Case): boolean | string {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI, c.pub]), format: 'der', type: 'spki' });
    return cryptoVerify(null, c.message, key, c.sig);
  } catch (err) {
    return `throws (${(err as Error).message.slice(0, 30)})`;
  }
}
function nobleDefault(c: Case): boolean | string {
  try {
    return ed25519.verify(c.sig, c.message, c.pub);
  } catch {
    return 'throws';
  }
}

const pool = new VerifyPool(1);
afterAll(() => pool.close());

describe('Ed25519 acceptance rule', () => {
  const cases = buildCases();

  it('derives the small-order y values of the rule from the curve', () => {
    const ys = new Set(
      smallOrderPoints.map((pt) => {
        const b = pt.toBytes();
        b[31] &= 0x7f;
        return fromLe(b);
      }),
    );
    expect([...ys].sort()).toEqual([...SMALL_ORDER_Y].sort());
    for (const pt of smallOrderPoints) expect(pt.multiplyUnsafe(8n).equals(Point.ZERO)).toBe(true);
  });

  it.each(cases)('$name: node:crypto, the worker pool and noble agree with the rule', async (c) => {
    expect(verifySignature(c.pub, c.message, c.sig)).toBe(c.accept);
    expect(verifyEd25519Portable(c.pub, c.message, c.sig)).toBe(c.accept);
    const [viaPool] = await pool.verifyBatch([{ publicKey: c.pub, message: c.message, signature: c.sig }]);
    expect(viaPool).toBe(c.accept);
  });

  it('prints where OpenSSL and noble (ZIP-215) differ without the rule', () => {
    const rows = cases.map(
      (c) =>
        `  ${c.accept ? 'accept' : 'reject'} | OpenSSL ${rawOpenSsl(c)} | noble zip215 ${nobleDefault(c)} | ${c.name}`,
    );
    process.stdout.write(`Ed25519 edge cases (rule | raw verifiers):\n${rows.join('\n')}\n`);
    // The rule is needed: at least one case is accepted by a raw verifier and refused by the rule.
    expect(cases.some((c) => !c.accept && (rawOpenSsl(c) === true || nobleDefault(c) === true))).toBe(true);
    expect(passesEd25519Rule(new Uint8Array(31), new Uint8Array(64))).toBe(false);
  });

  it('node:crypto and noble agree on random keys, messages and single-bit tampering', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.option(fc.nat(64 * 8 - 1), { nil: undefined }),
        (seed, m, flip) => {
          const key = PrivateKey.fromSeed(seed);
          const sig = key.sign(m);
          if (flip !== undefined) sig[flip >> 3] ^= 1 << (flip & 7);
          const node = verifySignature(key.publicKey, m, sig);
          expect(verifyEd25519Portable(key.publicKey, m, sig)).toBe(node);
          if (flip === undefined) expect(node).toBe(true);
        },
      ),
      propertyParams('ed25519 rule: node vs noble', 200),
    );
  });
});
