/**
 * A publish record: what was published (CID, size, mime type, kind), how it is described (title,
 * description, tags) and by whom, canonically encoded (consensus: stored under pub/rec/<id>).
 *
 *   record = rlp([owner 20, cid bytes, size, mime, kind, title, description, [tag...], publishedAt, updatedAt])
 */
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { ADDRESS_LENGTH, Address } from '../../chain/address.js';
import {
  asBoundedBytes,
  asBytes,
  asList,
  asNumber,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpItem,
} from '../../chain/codec.js';
import { toHex } from '../../util/bytes.js';

export const KINDS = ['text', 'image', 'audio', 'video', 'executable', 'other'] as const;
export type PublishKind = (typeof KINDS)[number];

export const MAX_TITLE_BYTES = 200;
export const MAX_DESCRIPTION_BYTES = 2000;
export const MAX_TAGS = 16;
export const MAX_TAG_LENGTH = 32;
export const MAX_MIME_LENGTH = 127;
const MIME_RE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;
const TAG_RE = /^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}-]*$/u;

/** What the publisher says of the content (publish and update carry it). */
export interface PublishMeta {
  mime: string;
  kind: PublishKind;
  title: string;
  description: string;
  tags: string[];
}

export interface PublishRecord extends PublishMeta {
  owner: Address;
  /** CIDv1, sha2-256 (the CID `vos store put` / `ipfs add --cid-version 1` gives). */
  cid: CID;
  size: number;
  publishedAt: number;
  updatedAt: number;
}

const fail = (field: string, message: string): never => {
  throw new CodecError('INVALID_FIELD', field, message);
};

export function cidField(b: Uint8Array, what = 'cid'): CID {
  let cid: CID;
  try {
    cid = CID.decode(b);
  } catch (err) {
    return fail(what, `not a CID (${(err as Error).message})`);
  }
  if (cid.version !== 1 || cid.multihash.code !== sha256.code) fail(what, 'must be a CIDv1 with sha2-256');
  return cid;
}

/** Checks the described fields; tags must be given in their canonical form (lower case, unique). */
export function checkMeta(m: PublishMeta): PublishMeta {
  if (!MIME_RE.test(m.mime) || m.mime.length > MAX_MIME_LENGTH)
    fail('mime', `not a lower-case type/subtype: ${m.mime.slice(0, 80)}`);
  if (!KINDS.includes(m.kind)) fail('kind', `one of ${KINDS.join(', ')}`);
  const titleBytes = Buffer.byteLength(m.title);
  if (titleBytes === 0 || titleBytes > MAX_TITLE_BYTES || m.title.trim() !== m.title)
    fail('title', `1-${MAX_TITLE_BYTES} bytes without surrounding spaces`);
  if (Buffer.byteLength(m.description) > MAX_DESCRIPTION_BYTES)
    fail('description', `at most ${MAX_DESCRIPTION_BYTES} bytes`);
  if (m.tags.length > MAX_TAGS) fail('tags', `at most ${MAX_TAGS}`);
  const seen = new Set<string>();
  for (const t of m.tags) {
    if (t.length > MAX_TAG_LENGTH || !TAG_RE.test(t) || t.normalize('NFC') !== t)
      fail('tags', `a tag is 1-${MAX_TAG_LENGTH} lower-case letters, digits or '-' (got ${t.slice(0, 40)})`);
    if (seen.has(t)) fail('tags', `duplicate tag ${t}`);
    seen.add(t);
  }
  return m;
}

/** Tags as a user typed them -> canonical (trimmed, lower case, NFC, unique, in order). */
export function normalizeTags(input: string[]): string[] {
  const out: string[] = [];
  for (const raw of input)
    for (const t of raw.split(',')) {
      const n = t.trim().normalize('NFC').toLowerCase();
      if (n !== '' && !out.includes(n)) out.push(n);
    }
  return out;
}

export function metaRaw(m: PublishMeta) {
  return [m.mime, KINDS.indexOf(m.kind), m.title, m.description, m.tags];
}

export function metaFromItems(f: RlpItem[], at: number): PublishMeta {
  const tags = asList(f[at + 4], 'tags').map((t) => asString(t, 'tag', MAX_TAG_LENGTH * 4));
  const kindIndex = asNumber(f[at + 1], 'kind', KINDS.length - 1);
  return checkMeta({
    mime: asString(f[at], 'mime', MAX_MIME_LENGTH),
    kind: KINDS[kindIndex],
    title: asString(f[at + 2], 'title', MAX_TITLE_BYTES),
    description: asString(f[at + 3], 'description', MAX_DESCRIPTION_BYTES),
    tags,
  });
}

export function encodeRecord(r: PublishRecord): Uint8Array {
  return encodeRlp([
    r.owner.bytes,
    r.cid.bytes,
    BigInt(r.size),
    ...metaRaw(r),
    BigInt(r.publishedAt),
    BigInt(r.updatedAt),
  ]);
}

export function decodeRecord(bytes: Uint8Array): PublishRecord {
  const f = asList(decodeRlp(bytes, 'publish record'), 'publish record', 10);
  const meta = metaFromItems(f, 3);
  return {
    owner: new Address(asBytes(f[0], 'owner', ADDRESS_LENGTH)),
    cid: cidField(asBoundedBytes(f[1], 'cid', 128)),
    size: asNumber(f[2], 'size'),
    ...meta,
    publishedAt: asNumber(f[8], 'publishedAt'),
    updatedAt: asNumber(f[9], 'updatedAt'),
  };
}

export function recordToJSON(id: Uint8Array, r: PublishRecord) {
  return {
    id: toHex(id),
    cid: r.cid.toString(),
    size: r.size,
    mime: r.mime,
    kind: r.kind,
    title: r.title,
    description: r.description,
    tags: r.tags,
    owner: r.owner.toString(),
    publishedAt: r.publishedAt,
    updatedAt: r.updatedAt,
  };
}
