/** Committed state entries for the search index tests: published items (any owner, any text). */
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import type { PrivateKey } from '../../../../chain/keys.js';
import { publishId, recordKey } from '../../../../services/publish/layout.js';
import { encodeRecord, type PublishRecord } from '../../../../services/publish/record.js';
import { idOf } from '../../../../services/search/doc.js';

export type Entry = [Uint8Array, Uint8Array];

/** The entry of owner's item with content `text` (its CID, so its id) and record fields r. */
export async function entry(owner: PrivateKey, text: string, r: Partial<PublishRecord>): Promise<Entry> {
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

/** The search id of an entry. */
export const idOfEntry = (e: Entry): string => idOf(e[0]) as string;

export async function* all(list: Entry[]) {
  yield* list;
}
