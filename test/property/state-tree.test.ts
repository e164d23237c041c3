/**
 * State tree properties: proofs verify for present and absent keys and fail for any flipped bit in the
 * key, the value, the proof encoding or the root; the root does not depend on insertion order or batching.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { decodeProof, encodeProof, verifyProof } from '../../chain/state/proof.js';
import { StateTree } from '../../chain/state/tree.js';
import { equalBytes } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';

let dir: string;
let db: ClassicLevel<Uint8Array, Uint8Array>;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vos-tree-prop-'));
  db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
});
afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh tree in its own sublevel of one DB (cheap). */
async function freshTree(): Promise<StateTree> {
  return StateTree.open(
    db.sublevel<Uint8Array, Uint8Array>(`t${n++}`, { keyEncoding: 'view', valueEncoding: 'view' }),
  );
}

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 12 });
const valArb = fc.uint8Array({ minLength: 0, maxLength: 24 });
const entriesArb = fc.uniqueArray(fc.tuple(keyArb, valArb), {
  maxLength: 40,
  selector: ([key]) => Buffer.from(key).toString('hex'),
});

function flip(b: Uint8Array, pos: number, bit: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[pos % c.length] ^= 1 << bit;
  return c;
}

describe('state tree properties', () => {
  it('proofs verify for present and absent keys, and fail for any flipped bit', async () => {
    await fc.assert(
      fc.asyncProperty(
        entriesArb,
        keyArb,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (entries, probe, pos, bit) => {
          const t = await freshTree();
          await t.commit(entries, 1);
          const keys = [...entries.map(([key]) => key), probe];
          for (const key of keys) {
            const proof = await t.prove(key);
            const r = verifyProof(t.root, key, proof);
            expect(r.ok).toBe(true);
            const expected = entries.find(([kk]) => equalBytes(kk, key))?.[1] ?? null;
            if (r.ok)
              expect(r.value === null ? null : Buffer.from(r.value).toString('hex')).toBe(
                expected === null ? null : Buffer.from(expected).toString('hex'),
              );
            // flipped root
            expect(verifyProof(flip(t.root, pos, bit), key, proof).ok).toBe(false);
            // flipped key: an inclusion proof never verifies for another key; a non-inclusion proof may
            // (the other key can be absent too, e.g. in an empty branch) but then only truthfully
            const other = flip(key, pos, bit);
            const r3 = verifyProof(t.root, other, { ...proof, key: other });
            if (proof.value !== null) expect(r3.ok).toBe(false);
            else if (r3.ok) expect(await t.get(other)).toBeUndefined();
            // flipped value, or a value claimed for an absent key
            if (proof.value !== null && proof.value.length > 0) {
              expect(verifyProof(t.root, key, { ...proof, value: flip(proof.value, pos, bit) }).ok).toBe(
                false,
              );
            }
            // any flipped bit of the encoding: rejected by the decoder or by verification (or decodes to the same proof)
            const enc = encodeProof(proof);
            const bad = flip(enc, pos, bit);
            let p2: ReturnType<typeof decodeProof> | undefined;
            try {
              p2 = decodeProof(bad);
            } catch {
              p2 = undefined;
            }
            if (p2 !== undefined) {
              const r2 = verifyProof(t.root, key, p2);
              if (r2.ok) {
                // only acceptable if it is still a correct statement about the key
                expect(equalBytes(encodeProof(p2), enc)).toBe(true);
              }
            }
          }
        },
      ),
      propertyParams('state proofs verify and resist bit flips', 150),
    );
  });

  it('root is independent of insertion order and batching, including deletes', async () => {
    await fc.assert(
      fc.asyncProperty(
        entriesArb,
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (entries, batches, delIdx) => {
          const dels = new Set(delIdx.filter((i) => i < entries.length));
          // A: all at once, final state only
          const a = await freshTree();
          await a.commit(
            entries.filter((_, i) => !dels.has(i)),
            1,
          );
          // B: shuffled, in several batches, inserting then deleting
          const b = await freshTree();
          const shuffled = [...entries].reverse();
          const size = Math.ceil(shuffled.length / batches) || 1;
          let v = 1;
          for (let i = 0; i < shuffled.length; i += size) await b.commit(shuffled.slice(i, i + size), v++);
          await b.commit(
            [...dels].map((i) => [entries[i][0], null] as [Uint8Array, null]),
            v++,
          );
          expect(Buffer.from(b.root).toString('hex')).toBe(Buffer.from(a.root).toString('hex'));
        },
      ),
      propertyParams('state root independent of order', 150),
    );
  });

  it('decodeProof rejects trailing bytes', async () => {
    const t = await freshTree();
    await t.commit([[new Uint8Array([1]), new Uint8Array([2])]], 1);
    const enc = encodeProof(await t.prove(new Uint8Array([1])));
    expect(() => decodeProof(new Uint8Array([...enc, 0]))).toThrow();
  });
});
