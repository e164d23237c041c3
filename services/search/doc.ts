/** What the search index keeps of a committed state entry: published items and names. */
import { hasPrefix, toHex } from '../../util/bytes.js';
import { NAME_REC_PREFIX } from '../naming/layout.js';
import { decodeEntry } from '../naming/records.js';
import { idOfKey, PUB_REC_PREFIX } from '../publish/layout.js';
import { decodeRecord } from '../publish/record.js';

export interface SearchDoc {
  id: string;
  /** 'name' for a name, else the publish kind. */
  kind: string;
  title: string;
  description: string;
  tags: string;
  owner: string;
  cid: string;
  mime: string;
  /** The height it was last published/updated (an item) or registered (a name): the browse order. */
  at: number;
}

/** The document a committed state entry makes, or null when the key is not indexed. */
export function docOf(key: Uint8Array, value: Uint8Array): SearchDoc | null {
  if (hasPrefix(key, PUB_REC_PREFIX)) {
    const id = idOfKey(key);
    if (id === null) return null;
    const r = decodeRecord(value);
    return {
      id: flat(toHex(id)),
      kind: r.kind,
      title: r.title,
      description: r.description,
      tags: r.tags.join(' '),
      owner: flat(r.owner.toString()),
      cid: flat(r.cid.toString()),
      mime: r.mime,
      at: r.updatedAt,
    };
  }
  if (hasPrefix(key, NAME_REC_PREFIX)) {
    const name = nameOf(key);
    const e = decodeEntry(name, value);
    return {
      id: `name:${name}`,
      kind: 'name',
      title: `${name}.vos`,
      description: e.records.txt.join(' '),
      tags: '',
      owner: flat(e.owner.toString()),
      cid: e.records.content,
      mime: '',
      at: e.registeredAt,
    };
  }
  return null;
}

/** The document id a state key would index under, or null when the key is not indexed. */
export function idOf(key: Uint8Array): string | null {
  if (hasPrefix(key, PUB_REC_PREFIX)) {
    const id = idOfKey(key);
    return id === null ? null : toHex(id);
  }
  if (hasPrefix(key, NAME_REC_PREFIX)) return `name:${nameOf(key)}`;
  return null;
}

/**
 * PERF: a CID's or an address's text is built a character at a time, a tree of V8 cons strings
 * (1.5 KB for a CID); reading a character flattens it in place, and the tree is garbage.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

const nameOf = (key: Uint8Array) => Buffer.from(key.subarray(NAME_REC_PREFIX.length)).toString('latin1');
