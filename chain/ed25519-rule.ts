/**
 * The Ed25519 acceptance rule of VOS (consensus-critical: every node must accept exactly the same
 * signatures, whatever OpenSSL it links, and the browser light client must agree with the node).
 *
 * Rule: strict RFC 8032 with the cofactorless equation, as libsodium verifies:
 *   - S is canonical: S < L;
 *   - A and R are canonical encodings (y < p) and not of small order (the 8 torsion points);
 *   - [S]B = R + [k]A with k = SHA-512(R || A || M) mod L, R compared by its encoding.
 * ZIP-215 (cofactored, non-canonical encodings accepted) was not chosen: OpenSSL, the node's fast
 * verifier, implements the cofactorless equation only. Where OpenSSL versions have differed
 * (non-canonical or small-order keys and R, S >= L) the cheap checks of `passesEd25519Rule` run
 * before it, so what is left to OpenSSL is the equation every version computes alike. Mixed-order
 * keys and R (a torsion component) are decided by the cofactorless equation: accepted only where it
 * holds. `verifyEd25519Portable` is the same rule on @noble/curves (browser, cross-checks in tests).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';

const P = 2n ** 255n - 19n;
/** The order of the prime subgroup. */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * y coordinates of the 8 points of small order (identity, order 2, 4 and 8; each y serves the point
 * and its negation, which differ only in the sign bit). test/property/ed25519-rule.test.ts derives
 * them from the curve.
 */
export const SMALL_ORDER_Y: readonly bigint[] = [
  0n,
  1n,
  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n,
  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n,
  P - 1n,
];

/** 32-byte little-endian encodings (sign bit clear) of those y values, and of y + p where it fits. */
const BLOCKED: readonly Uint8Array[] = [
  ...SMALL_ORDER_Y,
  ...SMALL_ORDER_Y.filter((y) => y + P < 2n ** 255n).map((y) => y + P),
].map(le32);

function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

const L_BYTES = le32(ED25519_L);

/** y >= p in a 32-byte point encoding (sign bit ignored). */
function nonCanonicalY(b: Uint8Array, off: number): boolean {
  if ((b[off + 31] & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (b[off + i] !== 0xff) return false;
  return b[off] >= 0xed;
}

function smallOrder(b: Uint8Array, off: number): boolean {
  for (const blocked of BLOCKED) {
    let same = (b[off + 31] & 0x7f) === blocked[31];
    for (let i = 0; same && i < 31; i++) same = b[off + i] === blocked[i];
    if (same) return true;
  }
  return false;
}

/** S < L for the little-endian scalar at b[off..off+32). */
function canonicalScalar(b: Uint8Array, off: number): boolean {
  for (let i = 31; i >= 0; i--) {
    if (b[off + i] < L_BYTES[i]) return true;
    if (b[off + i] > L_BYTES[i]) return false;
  }
  return false; // S == L
}

/**
 * The encoding checks of the rule (everything but the equation). PERF: byte compares only (~0.1 us),
 * run before every OpenSSL verify.
 */
export function passesEd25519Rule(publicKey: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (!canonicalScalar(signature, 32)) return false;
  if (nonCanonicalY(publicKey, 0) || smallOrder(publicKey, 0)) return false;
  if (nonCanonicalY(signature, 0) || smallOrder(signature, 0)) return false;
  return true;
}

function leToBigint(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

/** The whole rule on @noble/curves (no OpenSSL): for the browser and to cross-check node:crypto. */
export function verifyEd25519Portable(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!passesEd25519Rule(publicKey, signature)) return false;
  const Point = ed25519.Point;
  let A: InstanceType<typeof Point>;
  try {
    A = Point.fromBytes(publicKey, false);
  } catch {
    return false;
  }
  const r = signature.subarray(0, 32);
  const s = leToBigint(signature.subarray(32));
  const h = new Uint8Array(64 + message.length);
  h.set(r, 0);
  h.set(publicKey, 32);
  h.set(message, 64);
  const k = leToBigint(sha512(h)) % ED25519_L;
  // R' = [S]B - [k]A; cofactorless: R' must encode to exactly R's bytes.
  const sB = s === 0n ? Point.ZERO : Point.BASE.multiplyUnsafe(s);
  const kA = k === 0n ? Point.ZERO : A.multiplyUnsafe(k);
  const expected = sB.subtract(kA).toBytes();
  for (let i = 0; i < 32; i++) if (expected[i] !== r[i]) return false;
  return true;
}
