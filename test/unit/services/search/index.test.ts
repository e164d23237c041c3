/**
 * The search index over committed state entries: an English and a Chinese word find an item (CJK
 * bigrams), filters by kind, mime and owner, cursor pagination, an update changes the result, a
 * retraction removes it, names are found too.
 */
import { describe, expect, it } from '@jest/globals';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { PrivateKey } from '../../../../chain/keys.js';
import { nameKey } from '../../../../services/naming/layout.js';
import { EMPTY_RECORDS, encodeEntry } from '../../../../services/naming/records.js';
import { publishId, recordKey } from '../../../../services/publish/layout.js';
import { encodeRecord, type PublishRecord } from '../../../../services/publish/record.js';
import { SearchIndex } from '../../../../services/search/index.js';
import { tokenize } from '../../../../services/search/tokenize.js';
import { toHex } from '../../../../util/bytes.js';

const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(51));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(52));

async function entry(
  owner: PrivateKey,
  text: string,
  r: Partial<PublishRecord>,
): Promise<[Uint8Array, Uint8Array]> {
  const cid = CID.create(1, raw.code, await sha256.digest(Buffer.from(text)));
  const rec: PublishRecord = {
    owner: owner.address,
    cid,
    size: text.length,
    mime: 'text/plain',
    kind: 'text',
    title: 'untitled',
    description: '',
    tags: [],
    publishedAt: 1,
    updatedAt: 1,
    ...r,
  };
  return [recordKey(publishId(owner.address, cid.bytes)), encodeRecord(rec)];
}

async function* all(list: [Uint8Array, Uint8Array][]) {
  yield* list;
}

describe('search', () => {
  it('tokenizes CJK runs into bigrams and other scripts into lower-case words', () => {
    expect(tokenize('基于区块链技术的操作系统')).toContain('区块');
    expect(tokenize('基于区块链技术的操作系统')).toContain('块链');
    expect(tokenize('Hello, VOS-Node 2.0!')).toEqual(['hello', 'vos', 'node', '2', '0']);
    expect(tokenize('VOS基于区块链')).toEqual(['vos', '基于', '于区', '区块', '块链']);
  });

  it('finds by an English and by a Chinese word; filters; pages; follows updates and retractions', async () => {
    const os = await entry(alice, 'os', {
      title: '基于区块链技术的操作系统',
      description: 'an operating system',
      tags: ['os'],
    });
    const img = await entry(alice, 'img', {
      title: 'A blockchain picture',
      kind: 'image',
      mime: 'image/png',
    });
    const other = await entry(bob, 'bob', { title: 'Another blockchain note', description: '区块链 notes' });
    const index = new SearchIndex();
    await index.load(all([os, img, other]));
    expect(index.size).toBe(3);
    const zh = index.query({ q: '区块链' });
    expect(zh.results.map((r) => r.title).sort()).toEqual([
      'Another blockchain note',
      '基于区块链技术的操作系统',
    ]);
    expect(index.query({ q: 'operating' }).results.map((r) => r.title)).toEqual(['基于区块链技术的操作系统']);
    expect(index.query({ q: 'blockchain', kind: 'image' }).results.map((r) => r.kind)).toEqual(['image']);
    expect(index.query({ q: 'blockchain', mime: 'text/plain' }).results).toHaveLength(1);
    expect(index.query({ q: 'blockchain', owner: bob.address.toString() }).results[0].owner).toBe(
      bob.address.toString(),
    );
    const p1 = index.query({ q: 'blockchain', limit: 1 });
    expect(p1.results).toHaveLength(1);
    const p2 = index.query({ q: 'blockchain', limit: 1, cursor: p1.cursor as string });
    expect(p2.results).toHaveLength(1);
    expect(p2.results[0].id).not.toBe(p1.results[0].id);
    expect(p2.cursor).toBeNull();
    expect(() => index.query({ q: 'x', cursor: 'bogus' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CURSOR' }),
    );
    // An update changes what is found; a retraction (deletion) removes it.
    const renamed = await entry(alice, 'os', { title: 'A plain title', tags: ['os'] });
    index.apply([renamed]);
    expect(index.query({ q: '区块链' }).results.map((r) => r.title)).toEqual(['Another blockchain note']);
    expect(index.query({ q: 'plain' }).results[0].id).toBe(toHex(os[0].subarray(8)));
    index.apply([[other[0], null]]);
    expect(index.query({ q: '区块链' }).results).toEqual([]);
  });

  it('finds names', async () => {
    const index = new SearchIndex();
    const e = {
      name: 'alice',
      owner: alice.address,
      ownerKey: alice.publicKey,
      registeredAt: 1,
      expires: 100,
      records: { ...EMPTY_RECORDS, txt: ['home of alice'] },
      transfer: null,
    };
    index.apply([[nameKey('alice'), encodeEntry(e)]]);
    expect(index.query({ q: 'alice' }).results[0]).toMatchObject({
      id: 'name:alice',
      kind: 'name',
      title: 'alice.vos',
    });
  });
});
