/**
 * State proofs, verifiable without a node: this file imports no node:crypto or LevelDB (the browser and
 * light clients use it with @noble/hashes' sha256, the default).
 *
 * A proof walks from the root along the bits of H(key): `siblings` are the sibling hashes from the top
 * down (ZERO for an empty sibling, elided on the wire via a bitmap). It ends in
 *   - the key's own leaf (inclusion: value present), or
 *   - another leaf whose keyHash shares the path prefix (non-inclusion), or
 *   - an empty subtree (non-inclusion).
 * Encoding (canonical RLP): [key, value | "", kind, [nonZeroSiblings...], bitmap, otherKeyHash, otherValueHash].
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { asBytes, asList, asNumber, CodecError, decodeRlp, encodeRlp } from '../codec.js';
import { bitAt, type HashFn, internalHash, leafHash, MAX_DEPTH, ZERO } from './hashing.js';

export enum ProofKind {
  /** The key is present: `value` is its value. */
  Present = 0,
  /** The path ends in an empty subtree. */
  AbsentEmpty = 1,
  /** The path ends in another key's leaf. */
  AbsentOtherLeaf = 2,
}

export interface StateProof {
  key: Uint8Array;
  /** The value when present, else null. */
  value: Uint8Array | null;
  kind: ProofKind;
  /** Sibling hashes from the root down (ZERO = empty). */
  siblings: Uint8Array[];
  /** For AbsentOtherLeaf: the leaf found instead. */
  otherKeyHash?: Uint8Array;
  otherValueHash?: Uint8Array;
}

const nobleHash: HashFn = (...parts) => {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
};

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type VerifyResult = { ok: true; value: Uint8Array | null } | { ok: false; reason: string };

/** Check a proof against a state root. The returned value (null = absent) is what the root commits to. */
export function verifyProof(
  root: Uint8Array,
  key: Uint8Array,
  proof: StateProof,
  hash: HashFn = nobleHash,
): VerifyResult {
  if (!eq(proof.key, key)) return { ok: false, reason: 'proof is for another key' };
  if (root.length !== 32) return { ok: false, reason: 'root must be 32 bytes' };
  const depth = proof.siblings.length;
  if (depth > MAX_DEPTH) return { ok: false, reason: 'proof too deep' };
  const keyHash = hash(key);
  let node: Uint8Array;
  switch (proof.kind) {
    case ProofKind.Present:
      if (proof.value === null) return { ok: false, reason: 'inclusion proof without a value' };
      node = leafHash(hash, keyHash, hash(proof.value));
      break;
    case ProofKind.AbsentEmpty:
      if (proof.value !== null) return { ok: false, reason: 'non-inclusion proof with a value' };
      node = ZERO;
      break;
    case ProofKind.AbsentOtherLeaf: {
      const other = proof.otherKeyHash;
      if (proof.value !== null || other === undefined || proof.otherValueHash === undefined) {
        return { ok: false, reason: 'malformed non-inclusion proof' };
      }
      if (other.length !== 32 || proof.otherValueHash.length !== 32)
        return { ok: false, reason: 'bad leaf hashes' };
      if (eq(other, keyHash)) return { ok: false, reason: 'the other leaf is the key itself' };
      for (let i = 0; i < depth; i++)
        if (bitAt(other, i) !== bitAt(keyHash, i)) return { ok: false, reason: 'leaf is off the path' };
      node = leafHash(hash, other, proof.otherValueHash);
      break;
    }
    default:
      return { ok: false, reason: 'unknown proof kind' };
  }
  // A lone leaf never sits below an internal node whose other child is empty (it would have been lifted):
  // rejecting that shape keeps proofs canonical.
  for (let i = depth - 1; i >= 0; i--) {
    const sib = proof.siblings[i];
    if (sib.length !== 32) return { ok: false, reason: 'sibling must be 32 bytes' };
    if (i === depth - 1 && proof.kind !== ProofKind.AbsentEmpty && eq(sib, ZERO)) {
      return { ok: false, reason: 'non-canonical proof: leaf beside an empty subtree' };
    }
    node = bitAt(keyHash, i) === 0 ? internalHash(hash, node, sib) : internalHash(hash, sib, node);
  }
  if (!eq(node, root)) return { ok: false, reason: 'root mismatch' };
  return { ok: true, value: proof.kind === ProofKind.Present ? proof.value : null };
}

export function encodeProof(p: StateProof): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(p.siblings.length / 8));
  const nonZero: Uint8Array[] = [];
  p.siblings.forEach((s, i) => {
    if (!eq(s, ZERO)) {
      bitmap[i >> 3] |= 0x80 >> (i & 7);
      nonZero.push(s);
    }
  });
  return encodeRlp([
    p.key,
    p.value ?? new Uint8Array(0),
    p.kind,
    p.siblings.length,
    bitmap,
    nonZero,
    p.otherKeyHash ?? new Uint8Array(0),
    p.otherValueHash ?? new Uint8Array(0),
  ]);
}

export function decodeProof(bytes: Uint8Array): StateProof {
  const f = asList(decodeRlp(bytes, 'proof'), 'proof', 8);
  const kind = asNumber(f[2], 'proof.kind', 2) as ProofKind;
  const depth = asNumber(f[3], 'proof.depth', MAX_DEPTH);
  const bitmap = asBytes(f[4], 'proof.bitmap', Math.ceil(depth / 8));
  const nonZero = asList(f[5], 'proof.siblings').map((s, i) => asBytes(s, `proof.siblings[${i}]`, 32));
  const siblings: Uint8Array[] = [];
  let j = 0;
  for (let i = 0; i < depth; i++) {
    if (bitmap[i >> 3] & (0x80 >> (i & 7))) {
      const s = nonZero[j++];
      if (s === undefined)
        throw new CodecError('INVALID_FIELD', 'proof.siblings', 'fewer siblings than the bitmap says');
      if (eq(s, ZERO)) throw new CodecError('INVALID_FIELD', 'proof.siblings', 'zero sibling must be elided');
      siblings.push(s);
    } else siblings.push(ZERO);
  }
  if (j !== nonZero.length)
    throw new CodecError('INVALID_FIELD', 'proof.siblings', 'more siblings than the bitmap says');
  for (let i = depth; i < bitmap.length * 8; i++) {
    if (bitmap[i >> 3] & (0x80 >> (i & 7)))
      throw new CodecError('INVALID_FIELD', 'proof.bitmap', 'bits set past the depth');
  }
  const value = asBytes(f[1], 'proof.value');
  const other = asBytes(f[6], 'proof.otherKeyHash');
  const otherValue = asBytes(f[7], 'proof.otherValueHash');
  const hasOther = kind === ProofKind.AbsentOtherLeaf;
  if (
    hasOther ? other.length !== 32 || otherValue.length !== 32 : other.length !== 0 || otherValue.length !== 0
  ) {
    throw new CodecError(
      'INVALID_FIELD',
      'proof.other',
      'leaf hashes must be present exactly for AbsentOtherLeaf',
    );
  }
  if (kind !== ProofKind.Present && value.length !== 0)
    throw new CodecError('INVALID_FIELD', 'proof.value', 'absent key with a value');
  return {
    key: asBytes(f[0], 'proof.key'),
    value: kind === ProofKind.Present ? value : null,
    kind,
    siblings,
    ...(hasOther ? { otherKeyHash: other, otherValueHash: otherValue } : {}),
  };
}

const hex = (b: Uint8Array) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
const unhex = (s: unknown, what: string): Uint8Array => {
  if (typeof s !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(s))
    throw new CodecError('INVALID_FIELD', what, 'expected 0x-hex');
  const out = new Uint8Array((s.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
};

export interface StateProofJSON {
  key: string;
  value: string | null;
  kind: 'present' | 'absent-empty' | 'absent-other-leaf';
  siblings: string[];
  otherKeyHash?: string;
  otherValueHash?: string;
  /** The canonical encoding (what light clients may prefer to ship around). */
  encoded: string;
}

const KIND_NAMES = ['present', 'absent-empty', 'absent-other-leaf'] as const;

export function proofToJSON(p: StateProof): StateProofJSON {
  return {
    key: hex(p.key),
    value: p.value === null ? null : hex(p.value),
    kind: KIND_NAMES[p.kind],
    siblings: p.siblings.map(hex),
    ...(p.otherKeyHash ? { otherKeyHash: hex(p.otherKeyHash), otherValueHash: hex(p.otherValueHash!) } : {}),
    encoded: hex(encodeProof(p)),
  };
}

/**
 * Decode `encoded`, and refuse an answer whose readable fields (key, value, kind, siblings, other leaf)
 * say something else than it: a client may show those fields, so they must be what is verified.
 */
export function proofFromJSON(j: StateProofJSON): StateProof {
  const p = decodeProof(unhex(j?.encoded, 'proof.encoded'));
  const want = proofToJSON(p);
  const same =
    j.key === want.key &&
    j.value === want.value &&
    j.kind === want.kind &&
    Array.isArray(j.siblings) &&
    j.siblings.length === want.siblings.length &&
    j.siblings.every((x, i) => x === want.siblings[i]) &&
    j.otherKeyHash === want.otherKeyHash &&
    j.otherValueHash === want.otherValueHash;
  if (!same) throw new CodecError('INVALID_FIELD', 'proof', 'the proof fields disagree with proof.encoded');
  return p;
}
