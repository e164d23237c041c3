/**
 * Local storage on a real LevelDB: CIDs as `ipfs add --cid-version 1` makes them (raw leaf for one
 * chunk, dag-pb root of 256 KiB raw leaves above), streaming get with ranges, pins and GC, the quota,
 * failed puts leaving nothing behind, and blocks that do not match their CID refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagPb from '@ipld/dag-pb';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { CHUNK_SIZE, LocalStore } from '../../../../services/storage/local.js';

let dir = '';
let store: LocalStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vos-storage-'));
  store = await LocalStore.open(join(dir, 'storage'));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function* chunks(bytes: Uint8Array, size = 100_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}
async function blockCount(): Promise<number> {
  let n = 0;
  for await (const _ of store.blocks.all()) n++;
  return n;
}

describe('local storage', () => {
  it('one chunk is a raw leaf: the CID is CIDv1 raw of its sha2-256, as ipfs add --cid-version 1 gives', async () => {
    const bytes = Buffer.from('hello world');
    const r = await store.put(chunks(bytes));
    expect(r.cid.toString()).toBe(CID.create(1, raw.code, await sha256.digest(bytes)).toString());
    // The well-known CID of "hello world" with CIDv1 and raw leaves.
    expect(r.cid.toString()).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e');
    expect(r.size).toBe(11);
    expect(await collect(store.get(r.cid))).toEqual(bytes);
  });

  it('more than one chunk: a dag-pb root over 256 KiB raw leaves; get streams it back, ranges too', async () => {
    const bytes = randomBytes(3 * CHUNK_SIZE + 1000);
    const r = await store.put(chunks(bytes, 77_777));
    expect(r.cid.code).toBe(dagPb.code);
    expect(r.cid.version).toBe(1);
    const root = dagPb.decode((await store.blocks.getBytes(r.cid)) as Uint8Array);
    expect(root.Links).toHaveLength(4);
    for (const l of root.Links) expect(l.Hash.code).toBe(raw.code);
    expect(root.Links.map((l) => l.Tsize)).toEqual([CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE, 1000]);
    expect(await collect(store.get(r.cid))).toEqual(bytes);
    expect(await collect(store.get(r.cid, { offset: CHUNK_SIZE - 10, length: 30 }))).toEqual(
      bytes.subarray(CHUNK_SIZE - 10, CHUNK_SIZE + 20),
    );
    expect(await store.stat(r.cid)).toMatchObject({ size: bytes.length, pinned: true });
  });

  it('same bytes, same CID however the stream is cut', async () => {
    const bytes = randomBytes(CHUNK_SIZE * 2 + 5);
    const a = await store.put(chunks(bytes, 1000));
    const b = await store.put(chunks(bytes, 300_000));
    expect(a.cid.equals(b.cid)).toBe(true);
  });

  it('GC removes what no pin reaches and keeps what one does', async () => {
    const keep = await store.put(chunks(randomBytes(CHUNK_SIZE + 1)));
    const drop = await store.put(chunks(randomBytes(CHUNK_SIZE * 2)));
    expect(await blockCount()).toBe(3 + 3);
    await store.unpin(drop.cid);
    expect(await store.gc()).toEqual({ removedBlocks: 3, removedBytes: expect.any(Number) });
    expect(await blockCount()).toBe(3);
    expect((await collect(store.get(keep.cid))).length).toBe(CHUNK_SIZE + 1);
    await expect(collect(store.get(drop.cid))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('over the quota: QUOTA_EXCEEDED and no block left behind', async () => {
    await expect(
      store.put(chunks(randomBytes(CHUNK_SIZE * 3)), { maxBytes: CHUNK_SIZE * 2 }),
    ).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(await blockCount()).toBe(0);
  });

  it('a source that fails midway leaves nothing; shared blocks of a pinned object stay', async () => {
    const shared = randomBytes(CHUNK_SIZE);
    const kept = await store.put(chunks(shared));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield shared;
      yield randomBytes(CHUNK_SIZE);
      throw new Error('connection reset');
    }
    await expect(store.put(failing())).rejects.toThrow('connection reset');
    expect(await blockCount()).toBe(1);
    expect(await collect(store.get(kept.cid))).toEqual(shared);
  });

  it('a block whose bytes do not match its CID is refused', async () => {
    const cid = CID.create(1, raw.code, await sha256.digest(Buffer.from('a')));
    await expect(store.blocks.put(cid, Buffer.from('b'))).rejects.toMatchObject({ code: 'BLOCK_MISMATCH' });
    expect(await store.blocks.has(cid)).toBe(false);
    await store.blocks.put(cid, Buffer.from('a'));
    expect(await store.blocks.has(cid)).toBe(true);
  });
});
