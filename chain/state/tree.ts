/**
 * The authenticated state: a binary Merkle radix tree over H(key) (Urkel-like). A leaf sits at the
 * shortest prefix of its key hash that no other key shares, so the shape, and the root, depend only on
 * the set of (key, value) pairs, never on the order of updates. Nodes are content-addressed in LevelDB,
 * so versions share unchanged subtrees; each committed version has a root record.
 *
 * Updates are staged per block: stage() builds the new version copy-on-write in memory and returns its
 * root and the LevelDB ops that persist it; the caller writes them in its own atomic batch (with the
 * block), then calls commitStaged(). Loaded nodes stay in memory as a cache of the latest versions.
 */
import type { AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';
import { readU64be, u64be } from '../../util/bytes.js';
import { VosError } from '../../util/errors.js';
import { sha256, sha256One } from '../hash.js';
import { bitAt, INTERNAL_TAG, LEAF_TAG, leafHash, MAX_DEPTH, ZERO } from './hashing.js';
import { KEY_LATEST, nodeKey, rootKey } from './layout.js';
import { ProofKind, type StateProof } from './proof.js';

/** A sublevel of any parent database works. */
export type StateDb =
  | ClassicLevel<Uint8Array, Uint8Array>
  // biome-ignore lint/suspicious/noExplicitAny: the parent database's type does not matter here.
  | AbstractSublevel<any, any, Uint8Array, Uint8Array>;

class Leaf {
  readonly hash: Uint8Array;
  #valueHash: Uint8Array | null;
  /** `hash` is passed when the leaf is read back from its content-addressed record. */
  constructor(
    readonly keyHash: Uint8Array,
    readonly value: Uint8Array,
    hash?: Uint8Array,
  ) {
    this.#valueHash = hash === undefined ? sha256One(value) : null;
    this.hash = hash ?? leafHash(sha256, keyHash, this.#valueHash!);
  }

  // PERF: lazy for leaves loaded from disk; only proofs of absence need it.
  get valueHash(): Uint8Array {
    if (this.#valueHash === null) this.#valueHash = sha256One(this.value);
    return this.#valueHash;
  }
}

class Internal {
  /** null until computed (new nodes are hashed bottom-up once per stage). */
  hash: Uint8Array | null;
  constructor(
    public left: Child,
    public right: Child,
    hash: Uint8Array | null = null,
  ) {
    this.hash = hash;
  }
}

/** A child: a loaded node, a hash not loaded yet, or null (empty). */
type Node = Leaf | Internal;
type Child = Node | Uint8Array | null;

export interface StagedUpdate {
  readonly version: number;
  readonly root: Uint8Array;
  readonly ops: Array<{ type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }>;
  /** @internal */
  readonly node: Node | null;
}

type Item = { keyHash: Uint8Array; value: Uint8Array | null };

function compareHash(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function hashOf(c: Child): Uint8Array {
  if (c === null) return ZERO;
  if (c instanceof Uint8Array) return c;
  return c.hash!;
}

export class StateTree {
  readonly #db: StateDb;
  #version = 0;
  #root: Child = null;
  #closed = false;

  private constructor(db: StateDb) {
    this.#db = db;
  }

  static async open(db: StateDb): Promise<StateTree> {
    const t = new StateTree(db);
    const latest = await db.get(KEY_LATEST);
    if (latest !== undefined) {
      t.#version = Number(readU64be(latest));
      const root = await db.get(rootKey(t.#version));
      if (root === undefined)
        throw new VosError({ code: 'STATE_CORRUPT' }, `state root of version ${t.#version} is missing`);
      t.#root = isZero(root) ? null : root;
    }
    return t;
  }

  get version(): number {
    return this.#version;
  }

  get root(): Uint8Array {
    return hashOf(this.#root);
  }

  async rootAt(version: number): Promise<Uint8Array | undefined> {
    if (version === this.#version) return this.root;
    return this.#db.get(rootKey(version));
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#lookup(this.#root, sha256(key));
  }

  async getAt(key: Uint8Array, version: number): Promise<Uint8Array | undefined> {
    const root = await this.rootAt(version);
    if (root === undefined)
      throw new VosError({ code: 'UNKNOWN_VERSION', version }, `no state at version ${version}`);
    return this.#lookup(isZero(root) ? null : root, sha256(key));
  }

  // PERF: awaits only when a node must be read from disk; cached paths resolve without microtasks.
  async #lookup(start: Child, keyHash: Uint8Array): Promise<Uint8Array | undefined> {
    let node: Node | null = start instanceof Uint8Array ? await this.#load(start) : start;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      if (node === null) return undefined;
      if (node instanceof Leaf) return equal(node.keyHash, keyHash) ? node.value : undefined;
      const bit = bitAt(keyHash, depth);
      const c: Child = bit === 0 ? node.left : node.right;
      node = c instanceof Uint8Array ? ((await this.#child(node, bit)) as Node) : (c as Node | null);
    }
    throw new VosError({ code: 'STATE_CORRUPT' }, 'state tree deeper than 256');
  }

  async prove(key: Uint8Array, version = this.#version): Promise<StateProof> {
    const rootHash = await this.rootAt(version);
    if (rootHash === undefined)
      throw new VosError({ code: 'UNKNOWN_VERSION', version }, `no state at version ${version}`);
    const keyHash = sha256(key);
    const siblings: Uint8Array[] = [];
    let node: Child = version === this.#version ? this.#root : isZero(rootHash) ? null : rootHash;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      if (node === null) return { key, value: null, kind: ProofKind.AbsentEmpty, siblings };
      const n: Node = node instanceof Uint8Array ? await this.#load(node) : node;
      if (n instanceof Leaf) {
        if (equal(n.keyHash, keyHash)) return { key, value: n.value, kind: ProofKind.Present, siblings };
        return {
          key,
          value: null,
          kind: ProofKind.AbsentOtherLeaf,
          siblings,
          otherKeyHash: n.keyHash,
          otherValueHash: n.valueHash,
        };
      }
      const bit = bitAt(keyHash, depth);
      siblings.push(hashOf(bit === 1 ? n.left : n.right));
      node = await this.#child(n, bit);
    }
    throw new VosError({ code: 'STATE_CORRUPT' }, 'state tree deeper than 256');
  }

  /** Build `version` = latest + changes, in memory; nothing is written. */
  async stage(changes: Iterable<[Uint8Array, Uint8Array | null]>, version: number): Promise<StagedUpdate> {
    if (this.#closed) throw new VosError({ code: 'STATE_CLOSED' }, 'state tree is closed');
    const byHash = new Map<string, Item>();
    for (const [key, value] of changes) {
      const keyHash = sha256(key);
      byHash.set(Buffer.from(keyHash).toString('latin1'), { keyHash, value });
    }
    const items = [...byHash.values()].sort((a, b) => compareHash(a.keyHash, b.keyHash));
    const newNodes: Node[] = [];
    const root = await this.#update(this.#root, 0, items, 0, items.length, newNodes);
    // Hash new internal nodes bottom-up: they were pushed after their children (post-order).
    const ops: StagedUpdate['ops'] = [];
    for (const n of newNodes) {
      if (n instanceof Internal) {
        // PERF: the record is 0x01 || left || right, so its one-shot hash is the node hash.
        const rec = encodeInternal(n);
        n.hash = sha256One(rec);
        ops.push({ type: 'put', key: nodeKey(n.hash), value: rec });
      } else {
        ops.push({ type: 'put', key: nodeKey(n.hash), value: encodeLeaf(n) });
      }
    }
    const rootHash = hashOf(root);
    ops.push({ type: 'put', key: rootKey(version), value: rootHash });
    ops.push({ type: 'put', key: KEY_LATEST, value: u64be(version) });
    return { version, root: rootHash, ops, node: root instanceof Uint8Array ? null : root };
  }

  /** Make a staged version the latest, after the caller wrote its ops. */
  commitStaged(staged: StagedUpdate): void {
    this.#version = staged.version;
    this.#root = staged.node ?? (isZero(staged.root) ? null : staged.root);
  }

  /** Stage and write in one step (tests, tools; the ledger batches through stage()). */
  async commit(changes: Iterable<[Uint8Array, Uint8Array | null]>, version: number): Promise<Uint8Array> {
    const staged = await this.stage(changes, version);
    // biome-ignore lint/suspicious/noExplicitAny: op shape matches abstract-level's batch.
    await this.#db.batch(staged.ops as any);
    this.commitStaged(staged);
    return staged.root;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /**
   * New subtree at `depth` for `node` with items[lo, hi) applied (all share the path prefix of depth).
   * PERF: the hot path of block commits; recursion touches only changed paths, children load lazily.
   */
  async #update(
    node: Child,
    depth: number,
    items: Item[],
    lo: number,
    hi: number,
    out: Node[],
  ): Promise<Child> {
    if (lo >= hi) return node;
    if (node instanceof Uint8Array) node = await this.#load(node);
    if (node === null || node instanceof Leaf) {
      let merged = items.slice(lo, hi);
      if (node instanceof Leaf && !merged.some((it) => equal(it.keyHash, node.keyHash))) {
        merged.push({ keyHash: node.keyHash, value: node.value });
        merged.sort((a, b) => compareHash(a.keyHash, b.keyHash));
      }
      merged = merged.filter((it) => it.value !== null);
      // Reuse the existing leaf object when it is unchanged and alone.
      if (
        node instanceof Leaf &&
        merged.length === 1 &&
        equal(merged[0].keyHash, node.keyHash) &&
        equal(merged[0].value!, node.value)
      ) {
        return node;
      }
      return this.#build(depth, merged, 0, merged.length, out);
    }
    // Internal: split the items on the bit at `depth`.
    let mid = lo;
    while (mid < hi && bitAt(items[mid].keyHash, depth) === 0) mid++;
    const curLeft = lo < mid ? await this.#child(node, 0) : node.left;
    const curRight = mid < hi ? await this.#child(node, 1) : node.right;
    const left = await this.#update(curLeft, depth + 1, items, lo, mid, out);
    const right = await this.#update(curRight, depth + 1, items, mid, hi, out);
    if (left === curLeft && right === curRight) return node;
    // Canonical shape: a lone leaf is lifted to its parent's place.
    if (left === null && right === null) return null;
    if (left === null && right instanceof Leaf) return right;
    if (right === null && left instanceof Leaf) return left;
    if (left === null && right instanceof Uint8Array) return this.#liftIfLeaf(right, out, null, 'right');
    if (right === null && left instanceof Uint8Array) return this.#liftIfLeaf(left, out, null, 'left');
    const n = new Internal(left, right);
    out.push(n);
    return n;
  }

  /** A child known only by hash may be a leaf, which must then be lifted. */
  async #liftIfLeaf(h: Uint8Array, out: Node[], other: null, side: 'left' | 'right'): Promise<Child> {
    const n = await this.#load(h);
    if (n instanceof Leaf) return n;
    const parent = side === 'left' ? new Internal(n, other) : new Internal(other, n);
    out.push(parent);
    return parent;
  }

  /** Build a subtree from sorted present items at `depth`. */
  #build(depth: number, items: Item[], lo: number, hi: number, out: Node[]): Child {
    if (lo >= hi) return null;
    if (hi - lo === 1) {
      const it = items[lo];
      const leaf = new Leaf(it.keyHash, it.value!);
      out.push(leaf);
      return leaf;
    }
    if (depth >= MAX_DEPTH)
      throw new VosError({ code: 'STATE_HASH_COLLISION' }, 'two keys with the same hash');
    let mid = lo;
    while (mid < hi && bitAt(items[mid].keyHash, depth) === 0) mid++;
    const left = this.#build(depth + 1, items, lo, mid, out);
    const right = this.#build(depth + 1, items, mid, hi, out);
    const n = new Internal(left, right);
    out.push(n);
    return n;
  }

  /** Child `bit` of an internal node, loaded and memoised (nodes are immutable, so this is safe). */
  async #child(n: Internal, bit: 0 | 1): Promise<Child> {
    const c = bit === 0 ? n.left : n.right;
    if (!(c instanceof Uint8Array)) return c;
    const loaded = await this.#load(c);
    if (bit === 0) n.left = loaded;
    else n.right = loaded;
    return loaded;
  }

  async #load(hash: Uint8Array): Promise<Node> {
    const rec = await this.#db.get(nodeKey(hash));
    if (rec === undefined) throw new VosError({ code: 'STATE_CORRUPT' }, 'a state tree node is missing');
    return decodeNode(rec, hash);
  }
}

function encodeLeaf(n: Leaf): Uint8Array {
  const out = Buffer.allocUnsafe(33 + n.value.length); // PERF: pooled, see chain/hash.ts
  out[0] = 0;
  out.set(n.keyHash, 1);
  out.set(n.value, 33);
  return out;
}

function encodeInternal(n: Internal): Uint8Array {
  const out = Buffer.allocUnsafe(65);
  out[0] = INTERNAL_TAG[0];
  out.set(hashOf(n.left), 1);
  out.set(hashOf(n.right), 33);
  return out;
}

function decodeNode(rec: Uint8Array, hash: Uint8Array): Node {
  if (rec[0] === LEAF_TAG[0] && rec.length >= 33) {
    return new Leaf(rec.slice(1, 33), rec.slice(33), hash);
  }
  if (rec[0] === 1 && rec.length === 65) {
    const l = rec.slice(1, 33);
    const r = rec.slice(33, 65);
    return new Internal(isZero(l) ? null : l, isZero(r) ? null : r, hash);
  }
  throw new VosError({ code: 'STATE_CORRUPT' }, 'malformed state tree node');
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
