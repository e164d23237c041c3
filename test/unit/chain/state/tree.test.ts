import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ClassicLevel } from 'classic-level';
import { sha256 } from '../../../../chain/hash.js';
import { ZERO } from '../../../../chain/state/hashing.js';
import {
  decodeProof,
  encodeProof,
  ProofKind,
  proofFromJSON,
  proofToJSON,
  verifyProof,
} from '../../../../chain/state/proof.js';
import { StateTree } from '../../../../chain/state/tree.js';
import { equalBytes, utf8 } from '../../../../util/bytes.js';

let dir: string;
let db: ClassicLevel<Uint8Array, Uint8Array>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vos-tree-'));
  db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const k = (s: string) => utf8(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString());

describe('state tree', () => {
  it('empty tree has the zero root and proves absence', async () => {
    const t = await StateTree.open(db);
    expect(equalBytes(t.root, ZERO)).toBe(true);
    const p = await t.prove(k('nothing'));
    expect(p.kind).toBe(ProofKind.AbsentEmpty);
    expect(verifyProof(t.root, k('nothing'), p)).toEqual({ ok: true, value: null });
  });

  it('puts, updates, deletes; versions and historical reads', async () => {
    const t = await StateTree.open(db);
    await t.commit(
      [
        [k('a'), k('1')],
        [k('b'), k('2')],
      ],
      1,
    );
    const r1 = t.root;
    await t.commit(
      [
        [k('a'), k('3')],
        [k('b'), null],
        [k('c'), k('4')],
      ],
      2,
    );
    expect(text(await t.get(k('a')))).toBe('3');
    expect(await t.get(k('b'))).toBeUndefined();
    expect(text(await t.getAt(k('b'), 1))).toBe('2');
    expect(text(await t.getAt(k('a'), 1))).toBe('1');
    expect(equalBytes((await t.rootAt(1))!, r1)).toBe(true);
    await t.commit(
      [
        [k('a'), null],
        [k('c'), null],
      ],
      3,
    );
    expect(equalBytes(t.root, ZERO)).toBe(true);
  });

  it('reopening from disk gives the same root and values', async () => {
    const t = await StateTree.open(db);
    const changes: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 500; i++) changes.push([k(`key-${i}`), k(`value-${i}`)]);
    await t.commit(changes, 1);
    const root = t.root;
    const t2 = await StateTree.open(db);
    expect(t2.version).toBe(1);
    expect(equalBytes(t2.root, root)).toBe(true);
    expect(text(await t2.get(k('key-321')))).toBe('value-321');
    // an update on the reopened tree (lazily loaded nodes) matches one on the in-memory tree
    await t.commit(
      [
        [k('key-5'), null],
        [k('new'), k('x')],
      ],
      2,
    );
    await t2.commit(
      [
        [k('key-5'), null],
        [k('new'), k('x')],
      ],
      2,
    );
    expect(equalBytes(t2.root, t.root)).toBe(true);
  });

  it('a staged update that is never written leaves the previous version (crash before the batch)', async () => {
    const t = await StateTree.open(db);
    await t.commit([[k('a'), k('1')]], 1);
    const root = t.root;
    const staged = await t.stage([[k('a'), k('2')]], 2);
    expect(equalBytes(staged.root, root)).toBe(false);
    const reopened = await StateTree.open(db); // "after the crash"
    expect(reopened.version).toBe(1);
    expect(equalBytes(reopened.root, root)).toBe(true);
    expect(text(await reopened.get(k('a')))).toBe('1');
  });

  it('proves presence and absence (empty branch and other leaf); proofs round-trip their encodings', async () => {
    const t = await StateTree.open(db);
    const changes: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i < 64; i++) changes.push([k(`k${i}`), k(`v${i}`)]);
    await t.commit(changes, 1);
    const kinds = new Set<ProofKind>();
    for (let i = 0; i < 200; i++) {
      const key = k(`k${i}`);
      const p = await t.prove(key);
      kinds.add(p.kind);
      const r = verifyProof(t.root, key, p);
      expect(r.ok).toBe(true);
      if (r.ok) expect(text(r.value ?? undefined)).toBe(i < 64 ? `v${i}` : undefined);
      expect(equalBytes(encodeProof(decodeProof(encodeProof(p))), encodeProof(p))).toBe(true);
      expect(verifyProof(t.root, key, proofFromJSON(proofToJSON(p))).ok).toBe(true);
      expect(verifyProof(t.root, key, p, (...parts) => sha256(...parts)).ok).toBe(true);
    }
    expect(kinds).toEqual(new Set([ProofKind.Present, ProofKind.AbsentEmpty, ProofKind.AbsentOtherLeaf]));
  });

  it('historical proofs verify against the historical root', async () => {
    const t = await StateTree.open(db);
    await t.commit([[k('x'), k('old')]], 1);
    const r1 = t.root;
    await t.commit([[k('x'), k('new')]], 2);
    const p = await t.prove(k('x'), 1);
    expect(verifyProof(r1, k('x'), p)).toEqual({ ok: true, value: k('old') });
    expect(verifyProof(t.root, k('x'), p).ok).toBe(false);
  });
});
