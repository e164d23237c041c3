/**
 * The records a VOS name carries, their canonical encoding (consensus: stored in the state tree under
 * `name/rec/<name>`) and their limits. Shared by the state machine (state.ts), the RPC, the CLI and the
 * DNS gateway (which turns them into DNS answers).
 *
 *   entry   = rlp([owner 20, ownerKey 32, registeredAt, expires, records, transfer])
 *   records = rlp([encKey (32 or empty), [endpoint...], [txt...], [tlsa...], content, app, ttl])
 *   endpoint = [kind 1|2|3, value bytes, weight]   1 ip4 (4 bytes), 2 ip6 (16 bytes), 3 multiaddr (text)
 *   tlsa    = [usage, selector, matchingType, data]
 *   transfer = [] or [to 20, toKey 32, effectiveAt]
 */

import { ADDRESS_LENGTH, Address, addressFromPublicKey } from '../../chain/address.js';
import {
  asBoundedBytes,
  asBytes,
  asList,
  asNumber,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpInput,
  type RlpItem,
} from '../../chain/codec.js';
import { PUBLIC_KEY_LENGTH } from '../../chain/keys.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { ipv4Bytes, ipv6Bytes } from '../../util/ip.js';

/** Each record's encoding is at most this many bytes. */
export const MAX_RECORD_BYTES = 512;
/** All records of a name together. */
export const MAX_RECORDS_BYTES = 4096;
export const MAX_ENDPOINTS = 16;
export const MAX_TXT = 16;
export const MAX_TLSA = 8;
export const MAX_WEIGHT = 65_535;
/** The TTL a name may ask for (seconds); gateways cap it further (dns.maxTtl). */
export const MAX_TTL = 86_400;

export type EndpointKind = 'ip4' | 'ip6' | 'multiaddr';

export interface Endpoint {
  kind: EndpointKind;
  /** Dotted quad, IPv6 text (canonical lower case, compressed) or a multiaddr string. */
  value: string;
  /** Relative capacity (RFC 2782 weight): 0-65535; default 1. */
  weight: number;
}

export interface Tlsa {
  usage: number;
  selector: number;
  matchingType: number;
  data: Uint8Array;
}

export interface NameRecords {
  /** X25519 public key for messages sealed to this name. */
  encryptionKey: Uint8Array | null;
  endpoints: Endpoint[];
  txt: string[];
  tlsa: Tlsa[];
  /** Content pointer (a CID string) or ''. */
  content: string;
  /** App id or ''. */
  app: string;
  /** Seconds a resolver may cache the answers; 0 = the gateway's default. */
  ttl: number;
}

export interface PendingTransfer {
  to: Address;
  toKey: Uint8Array;
  /** The transfer takes effect at the end of this height (the owner can cancel before). */
  effectiveAt: number;
}

export interface NameEntry {
  name: string;
  owner: Address;
  ownerKey: Uint8Array;
  registeredAt: number;
  /** Last height at which the name is registered; then the grace period, then it is free. */
  expires: number;
  records: NameRecords;
  transfer: PendingTransfer | null;
}

export const EMPTY_RECORDS: Readonly<NameRecords> = Object.freeze({
  encryptionKey: null,
  endpoints: [],
  txt: [],
  tlsa: [],
  content: '',
  app: '',
  ttl: 0,
});

const KIND_CODE: Record<EndpointKind, number> = { ip4: 1, ip6: 2, multiaddr: 3 };

export class RecordError extends CodecError {}

function fail(what: string, message: string): never {
  throw new RecordError('INVALID_FIELD', what, message);
}

function ip4Bytes(s: string): Uint8Array {
  return ipv4Bytes(s) ?? fail('endpoint', `not an IPv4 address: ${s}`);
}

function ip6Bytes(s: string): Uint8Array {
  return ipv6Bytes(s) ?? fail('endpoint', `not an IPv6 address: ${s}`);
}

/** Canonical IPv6 text (RFC 5952: lower case, the longest zero run compressed). */
export function ip6Text(b: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function endpointRaw(e: Endpoint): RlpInput {
  if (!Number.isInteger(e.weight) || e.weight < 0 || e.weight > MAX_WEIGHT)
    fail('endpoint.weight', `must be an integer in [0, ${MAX_WEIGHT}]`);
  const value =
    e.kind === 'ip4'
      ? ip4Bytes(e.value)
      : e.kind === 'ip6'
        ? ip6Bytes(e.value)
        : e.kind === 'multiaddr'
          ? utf8(e.value)
          : fail('endpoint.kind', `unknown kind ${e.kind}`);
  return [KIND_CODE[e.kind], value, e.weight];
}

function tlsaRaw(t: Tlsa): RlpInput {
  for (const [k, v] of [
    ['usage', t.usage],
    ['selector', t.selector],
    ['matchingType', t.matchingType],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 255) fail(`tlsa.${k}`, 'must be an integer in [0, 255]');
  }
  return [t.usage, t.selector, t.matchingType, t.data];
}

/** Encode records, refusing anything over the caps (each record <= 512 bytes, all <= 4 KiB). */
export function recordsRaw(r: NameRecords): RlpInput[] {
  if (r.endpoints.length > MAX_ENDPOINTS) fail('records.endpoints', `at most ${MAX_ENDPOINTS}`);
  if (r.txt.length > MAX_TXT) fail('records.txt', `at most ${MAX_TXT}`);
  if (r.tlsa.length > MAX_TLSA) fail('records.tlsa', `at most ${MAX_TLSA}`);
  if (r.encryptionKey !== null && r.encryptionKey.length !== 32)
    fail('records.encryptionKey', 'must be 32 bytes');
  if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > MAX_TTL)
    fail('records.ttl', `must be in [0, ${MAX_TTL}] s`);
  const each = (what: string, item: RlpInput) => {
    const n = encodeRlp(item).length;
    if (n > MAX_RECORD_BYTES) fail(what, `record of ${n} bytes exceeds ${MAX_RECORD_BYTES}`);
    return item;
  };
  const raw: RlpInput[] = [
    r.encryptionKey ?? new Uint8Array(0),
    r.endpoints.map((e, i) => each(`records.endpoints[${i}]`, endpointRaw(e))),
    r.txt.map((t, i) => each(`records.txt[${i}]`, t)),
    r.tlsa.map((t, i) => each(`records.tlsa[${i}]`, tlsaRaw(t))),
    each('records.content', r.content),
    each('records.app', r.app),
    r.ttl,
  ];
  const total = encodeRlp(raw).length;
  if (total > MAX_RECORDS_BYTES)
    fail('records', `${total} bytes exceed the cap of ${MAX_RECORDS_BYTES} per name`);
  return raw;
}

export function recordsFromItem(item: RlpItem): NameRecords {
  const f = asList(item, 'records', 7);
  const key = asBytes(f[0], 'records.encryptionKey');
  if (key.length !== 0 && key.length !== 32) fail('records.encryptionKey', 'must be 32 bytes');
  const endpoints = asList(f[1], 'records.endpoints').map((x, i): Endpoint => {
    const e = asList(x, `records.endpoints[${i}]`, 3);
    const code = asNumber(e[0], 'endpoint.kind', 3);
    const v = asBytes(e[1], 'endpoint.value');
    const weight = asNumber(e[2], 'endpoint.weight', MAX_WEIGHT);
    if (code === 1 && v.length === 4) return { kind: 'ip4', value: Array.from(v).join('.'), weight };
    if (code === 2 && v.length === 16) return { kind: 'ip6', value: ip6Text(v), weight };
    if (code === 3)
      return { kind: 'multiaddr', value: asString(e[1], 'endpoint.value', MAX_RECORD_BYTES), weight };
    return fail('endpoint', 'bad kind or value length');
  });
  const records: NameRecords = {
    encryptionKey: key.length === 0 ? null : key,
    endpoints,
    txt: asList(f[2], 'records.txt').map((t) => asString(t, 'records.txt', MAX_RECORD_BYTES)),
    tlsa: asList(f[3], 'records.tlsa').map((t) => {
      const x = asList(t, 'records.tlsa', 4);
      return {
        usage: asNumber(x[0], 'tlsa.usage', 255),
        selector: asNumber(x[1], 'tlsa.selector', 255),
        matchingType: asNumber(x[2], 'tlsa.matchingType', 255),
        data: asBoundedBytes(x[3], 'tlsa.data', MAX_RECORD_BYTES),
      };
    }),
    content: asString(f[4], 'records.content', MAX_RECORD_BYTES),
    app: asString(f[5], 'records.app', MAX_RECORD_BYTES),
    ttl: asNumber(f[6], 'records.ttl', MAX_TTL),
  };
  // Canonical: re-encoding must give the same bytes (also enforces the caps on decode).
  recordsRaw(records);
  return records;
}

export function encodeEntry(e: NameEntry): Uint8Array {
  return encodeRlp([
    e.owner.bytes,
    e.ownerKey,
    e.registeredAt,
    e.expires,
    recordsRaw(e.records),
    e.transfer === null ? [] : [e.transfer.to.bytes, e.transfer.toKey, e.transfer.effectiveAt],
  ]);
}

export function decodeEntry(name: string, bytes: Uint8Array): NameEntry {
  const f = asList(decodeRlp(bytes, 'name entry'), 'name entry', 6);
  const owner = new Address(asBytes(f[0], 'entry.owner', ADDRESS_LENGTH));
  const ownerKey = asBytes(f[1], 'entry.ownerKey', PUBLIC_KEY_LENGTH);
  if (!addressFromPublicKey(ownerKey).equals(owner)) fail('entry.owner', 'does not match the owner key');
  const t = asList(f[5], 'entry.transfer');
  let transfer: PendingTransfer | null = null;
  if (t.length !== 0) {
    if (t.length !== 3) fail('entry.transfer', 'expected [to, toKey, effectiveAt]');
    transfer = {
      to: new Address(asBytes(t[0], 'transfer.to', ADDRESS_LENGTH)),
      toKey: asBytes(t[1], 'transfer.toKey', PUBLIC_KEY_LENGTH),
      effectiveAt: asNumber(t[2], 'transfer.effectiveAt'),
    };
  }
  return {
    name,
    owner,
    ownerKey,
    registeredAt: asNumber(f[2], 'entry.registeredAt'),
    expires: asNumber(f[3], 'entry.expires'),
    records: recordsFromItem(f[4]),
    transfer,
  };
}

export function recordsToJSON(r: NameRecords) {
  return {
    encryptionKey: r.encryptionKey === null ? null : toHex(r.encryptionKey),
    endpoints: r.endpoints.map((e) => ({ ...e })),
    txt: [...r.txt],
    tlsa: r.tlsa.map((t) => ({ ...t, data: toHex(t.data) })),
    content: r.content === '' ? null : r.content,
    app: r.app === '' ? null : r.app,
    ttl: r.ttl,
  };
}
