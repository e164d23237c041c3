/**
 * Receipt of one executed tx: rlp([status, gasUsed, error, events]); event = [type, [attribute...]],
 * attribute = [key, tag, value bytes]. Values are hashed as binary (an address as its 20 bytes, an
 * integer minimal big-endian), never as display strings: bech32 and decimal appear only in toJSON().
 * A failed tx (status 0) still pays its fee and bumps the nonce; `error` is a stable code.
 */
import { toHex } from '../util/bytes.js';
import { ADDRESS_LENGTH, Address } from './address.js';
import {
  asBigint,
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
  U64_MAX,
} from './codec.js';
import { sha256 } from './hash.js';

export enum ReceiptStatus {
  Failed = 0,
  Ok = 1,
}

/** An attribute value: an address, an unsigned integer, raw bytes or UTF-8 text. */
export type AttributeValue = Address | bigint | Uint8Array | string;

export interface TxEvent {
  type: string;
  attributes: [key: string, value: AttributeValue][];
}

enum Tag {
  Bytes = 0,
  Uint = 1,
  Address = 2,
  Text = 3,
}

function encodeAttribute([k, v]: [string, AttributeValue]): RlpInput {
  if (v instanceof Address) return [k, Tag.Address, v.bytes];
  if (typeof v === 'bigint') return [k, Tag.Uint, v];
  if (typeof v === 'string') return [k, Tag.Text, v];
  return [k, Tag.Bytes, v];
}

function attributeToJSON(v: AttributeValue): string {
  if (v instanceof Address) return v.toString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  return toHex(v);
}

export class Receipt {
  #serialized: Uint8Array | undefined;
  #hash: Uint8Array | undefined;

  constructor(
    readonly status: ReceiptStatus,
    readonly gasUsed: bigint,
    readonly error: string,
    readonly events: readonly TxEvent[],
  ) {}

  raw(): RlpInput[] {
    return [
      this.status,
      this.gasUsed,
      this.error,
      this.events.map((e) => [e.type, e.attributes.map(encodeAttribute)]),
    ];
  }

  /** Memoised: a receipt is immutable, and it is hashed (receipts root) and then stored. */
  serialize(): Uint8Array {
    if (this.#serialized === undefined) this.#serialized = encodeRlp(this.raw());
    return this.#serialized;
  }

  hash(): Uint8Array {
    if (this.#hash === undefined) this.#hash = sha256(this.serialize());
    return this.#hash;
  }

  toJSON() {
    return {
      status: this.status === ReceiptStatus.Ok ? 'ok' : 'failed',
      gasUsed: this.gasUsed.toString(),
      error: this.error === '' ? null : this.error,
      events: this.events.map((e) => ({
        type: e.type,
        attributes: Object.fromEntries(e.attributes.map(([k, v]) => [k, attributeToJSON(v)])),
      })),
    };
  }
}

const MAX_EVENTS = 64;
const MAX_ATTRS = 32;
const MAX_STR = 1024;

export function createReceiptFromRlp(bytes: Uint8Array): Receipt {
  const f = asList(decodeRlp(bytes, 'receipt'), 'receipt', 4);
  const status = asNumber(f[0], 'receipt.status', 1) as ReceiptStatus;
  const events = asList(f[3], 'receipt.events');
  if (events.length > MAX_EVENTS) throw new CodecError('INVALID_FIELD', 'receipt.events', 'too many events');
  return new Receipt(
    status,
    asBigint(f[1], 'receipt.gasUsed', U64_MAX),
    asString(f[2], 'receipt.error', MAX_STR),
    events.map((item, i) => {
      const e = asList(item, `receipt.events[${i}]`, 2);
      const attrs = asList(e[1], `receipt.events[${i}].attributes`);
      if (attrs.length > MAX_ATTRS)
        throw new CodecError('INVALID_FIELD', 'receipt.events', 'too many attributes');
      return {
        type: asString(e[0], 'event.type', MAX_STR),
        attributes: attrs.map((a): [string, AttributeValue] => {
          const kv = asList(a, 'event.attribute', 3);
          return [asString(kv[0], 'event.key', MAX_STR), decodeAttribute(kv[1], kv[2])];
        }),
      };
    }),
  );
}

function decodeAttribute(tag: RlpItem, value: RlpItem): AttributeValue {
  switch (asNumber(tag, 'event.tag', 255)) {
    case Tag.Bytes:
      return asBoundedBytes(value, 'event.value', MAX_STR);
    case Tag.Uint:
      return asBigint(value, 'event.value');
    case Tag.Address:
      return new Address(asBytes(value, 'event.value', ADDRESS_LENGTH));
    case Tag.Text:
      return asString(value, 'event.value', MAX_STR);
    default:
      throw new CodecError('INVALID_FIELD', 'event.tag', 'unknown attribute type');
  }
}

export function receiptHashHex(r: Receipt): string {
  return toHex(r.hash());
}
