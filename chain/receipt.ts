/**
 * Receipt of one executed tx: rlp([status, gasUsed, error, events]); event = [type, [[key, value]...]].
 * A failed tx (status 0) still pays its fee and bumps the nonce; `error` is a stable code.
 */
import { toHex } from '../util/bytes.js';
import {
  asBigint,
  asList,
  asNumber,
  asString,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpInput,
  U64_MAX,
} from './codec.js';
import { sha256 } from './hash.js';

export enum ReceiptStatus {
  Failed = 0,
  Ok = 1,
}

export interface TxEvent {
  type: string;
  attributes: [key: string, value: string][];
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
      this.events.map((e) => [e.type, e.attributes.map(([k, v]) => [k, v])]),
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
      events: this.events.map((e) => ({ type: e.type, attributes: Object.fromEntries(e.attributes) })),
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
        attributes: attrs.map((a) => {
          const kv = asList(a, 'event.attribute', 2);
          return [asString(kv[0], 'event.key', MAX_STR), asString(kv[1], 'event.value', MAX_STR)] as [
            string,
            string,
          ];
        }),
      };
    }),
  );
}

export function receiptHashHex(r: Receipt): string {
  return toHex(r.hash());
}
