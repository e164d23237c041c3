/**
 * Tx = {chainId, nonce, signer, kind, payload, gasLimit, gasPrice, sig}.
 * Wire/hash encoding: rlp([chainId, nonce, signer, kind, payload, gasLimit, gasPrice, sig]), at most
 * MAX_TX_BYTES. Sign bytes: signBytes(Tx, chainId, rlp(first seven fields)). Hash = sha256(wire bytes).
 */
import { concatBytes, toHex } from '../../util/bytes.js';
import { type Address, addressFromPublicKey } from '../address.js';
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
  U64_MAX,
  U256_MAX,
} from '../codec.js';
import { sha256 } from '../hash.js';
import { type PrivateKey, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, verifySignature } from '../keys.js';
import { CHAIN_ID_RE, SignTag, signBytes } from '../signing.js';
import {
  decodePayload,
  encodePayload,
  isTxKind,
  payloadKind,
  payloadToJSON,
  type TxPayload,
  txKindName,
} from './kinds.js';

/** Max serialized tx size; content lives in storage, not in txs. */
export const MAX_TX_BYTES = 64 * 1024;

export interface TxFields {
  chainId: string;
  nonce: bigint;
  signer: Uint8Array;
  kind: number;
  payload: Uint8Array;
  gasLimit: bigint;
  gasPrice: bigint;
}

export class Tx implements TxFields {
  readonly chainId: string;
  readonly nonce: bigint;
  readonly signer: Uint8Array;
  readonly kind: number;
  readonly payload: Uint8Array;
  readonly gasLimit: bigint;
  readonly gasPrice: bigint;
  readonly signature: Uint8Array;
  #serialized: Uint8Array | undefined;
  #hash: Uint8Array | undefined;
  #sender: Address | undefined;
  #decoded: TxPayload | undefined;
  #signBytes: Uint8Array | undefined;

  constructor(fields: TxFields, signature: Uint8Array, serialized?: Uint8Array) {
    this.chainId = fields.chainId;
    this.nonce = fields.nonce;
    this.signer = fields.signer;
    this.kind = fields.kind;
    this.payload = fields.payload;
    this.gasLimit = fields.gasLimit;
    this.gasPrice = fields.gasPrice;
    this.signature = signature;
    this.#serialized = serialized;
  }

  /** Sign a tx; `kind` may be left out (it is the payload's). */
  static sign(
    fields: Omit<TxFields, 'signer' | 'payload' | 'kind'> & { kind?: number; payload: TxPayload },
    key: PrivateKey,
  ): Tx {
    const kind = payloadKind(fields.payload);
    if (fields.kind !== undefined && fields.kind !== kind)
      throw new Error(`tx kind ${fields.kind} does not match its payload (${kind})`);
    const full: TxFields = { ...fields, kind, signer: key.publicKey, payload: encodePayload(fields.payload) };
    return new Tx(full, key.sign(txSignBytes(full)));
  }

  get sender(): Address {
    if (this.#sender === undefined) this.#sender = addressFromPublicKey(this.signer);
    return this.#sender;
  }

  /** The decoded payload (validated when the tx was decoded from bytes). */
  get body(): TxPayload {
    if (this.#decoded === undefined) this.#decoded = decodePayload(this.kind, this.payload);
    return this.#decoded;
  }

  get size(): number {
    return this.serialize().length;
  }

  /** Max fee the signer can be charged. */
  get maxFee(): bigint {
    return this.gasLimit * this.gasPrice;
  }

  /** Memoised. PERF: for a decoded tx, cut from its wire bytes instead of re-encoding the body. */
  signBytes(): Uint8Array {
    if (this.#signBytes === undefined) {
      const body = this.#serialized === undefined ? null : bodyFromSerialized(this.#serialized);
      this.#signBytes = body === null ? txSignBytes(this) : signBytes(SignTag.Tx, this.chainId, body);
    }
    return this.#signBytes;
  }

  verifySignature(): boolean {
    return verifySignature(this.signer, this.signBytes(), this.signature);
  }

  raw(): RlpInput[] {
    return [...txBody(this), this.signature];
  }

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
      hash: toHex(this.hash()),
      chainId: this.chainId,
      nonce: this.nonce.toString(),
      from: this.sender.toString(),
      signer: toHex(this.signer),
      kind: txKindName(this.kind),
      payload: payloadToJSON(this.body),
      gasLimit: this.gasLimit.toString(),
      gasPrice: this.gasPrice.toString(),
      signature: toHex(this.signature),
    };
  }
}

function txBody(t: TxFields): RlpInput[] {
  return [t.chainId, t.nonce, t.signer, t.kind, t.payload, t.gasLimit, t.gasPrice];
}

/**
 * rlp(body) from a canonical serialized tx rlp([...body, signature]): the list's items without the
 * trailing signature item (0xb8 0x40 + 64 bytes) under a new list header. Null if the bytes do not end
 * with such an item (then the caller re-encodes).
 */
function bodyFromSerialized(tx: Uint8Array): Uint8Array | null {
  const first = tx[0];
  let headerLength: number;
  if (first >= 0xc0 && first <= 0xf7) headerLength = 1;
  else if (first > 0xf7) headerLength = 1 + (first - 0xf7);
  else return null;
  const SIG_ITEM = 2 + SIGNATURE_LENGTH;
  const sigAt = tx.length - SIG_ITEM;
  if (sigAt < headerLength || tx[sigAt] !== 0xb8 || tx[sigAt + 1] !== SIGNATURE_LENGTH) return null;
  const items = tx.subarray(headerLength, sigAt);
  return concatBytes(rlpListHeader(items.length), items);
}

function rlpListHeader(length: number): Uint8Array {
  if (length <= 55) return Uint8Array.of(0xc0 + length);
  const be: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) be.unshift(n % 256);
  return Uint8Array.of(0xf7 + be.length, ...be);
}

export function txSignBytes(t: TxFields): Uint8Array {
  return signBytes(SignTag.Tx, t.chainId, encodeRlp(txBody(t)));
}

/** Decode a tx from its wire bytes: size, canonical RLP, field types, known kind, valid payload. */
export function createTxFromRlp(bytes: Uint8Array): Tx {
  if (bytes.length > MAX_TX_BYTES) {
    throw new CodecError('INVALID_FIELD', 'tx', `tx is ${bytes.length} bytes, max ${MAX_TX_BYTES}`);
  }
  const f = asList(decodeRlp(bytes, 'tx'), 'tx', 8);
  const chainId = asString(f[0], 'tx.chainId', 50);
  if (!CHAIN_ID_RE.test(chainId)) throw new CodecError('INVALID_FIELD', 'tx.chainId', 'invalid chain id');
  const kind = asNumber(f[3], 'tx.kind', 0xffff);
  if (!isTxKind(kind)) throw new CodecError('INVALID_FIELD', 'tx.kind', `unknown tx kind ${kind}`);
  const tx = new Tx(
    {
      chainId,
      nonce: asBigint(f[1], 'tx.nonce', U64_MAX),
      signer: asBytes(f[2], 'tx.signer', PUBLIC_KEY_LENGTH),
      kind,
      payload: asBoundedBytes(f[4], 'tx.payload', MAX_TX_BYTES),
      gasLimit: asBigint(f[5], 'tx.gasLimit', U64_MAX),
      gasPrice: asBigint(f[6], 'tx.gasPrice', U256_MAX),
    },
    asBytes(f[7], 'tx.signature', SIGNATURE_LENGTH),
    bytes,
  );
  void tx.body; // validates the payload now
  return tx;
}
