/**
 * Comm envelopes: what travels between nodes, through relays and mailbox holders. Canonical RLP.
 *
 *   envelope = [version 1, id 16, recipient address 20, expiresAt ms, ephemeral X25519 public 32,
 *               nonce 12, sealed]
 *   sealed   = AES-256-GCM(inner), key = HKDF-SHA256(X25519(ephemeral, recipient key), salt = eph | rcpt),
 *              additional data = sha256(chainId | the header fields above): a changed header, another
 *              chain or another recipient fails to open
 *   inner    = [kind, sender Ed25519 public 32, claimed sender name ('' = none), seq, sentAt ms, body,
 *              signature 64]
 *   signed   = rlp(['vos/comm/1', chainId, id, recipient, expiresAt, kind, name, seq, sentAt, body])
 *
 * What a relay or holder sees is the header: an id, a recipient address and an expiry. The sender, its
 * name, the order and the text are inside the sealed part, so a holder learns nothing but the
 * recipient. The signature is inside too: only the recipient can check who sent it (sign, then seal).
 * Bodies: a message is [text, [[cid, key 32, name, mime, size]...]] (attachments: storage objects
 * encrypted with their own key); a receipt is [[message id...]].
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Address } from '../../chain/address.js';
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
import type { PrivateKey } from '../../chain/keys.js';
import { verifySignature } from '../../chain/keys.js';
import { utf8 } from '../../util/bytes.js';
import { PeerAction, VosError } from '../../util/errors.js';
import { openBox, sealBox, type X25519Keys } from '../storage/seal.js';
import {
  MAX_ATTACHMENTS,
  MAX_ENVELOPE_BYTES,
  MAX_NAME_BYTES,
  MAX_RECEIPT_IDS,
  MAX_TEXT_BYTES,
} from './limits.js';

export const ENVELOPE_VERSION = 1;
const INFO = Buffer.from('vos/comm/seal/1');
const DOMAIN = 'vos/comm/1';
const TAG = 16;

export enum Kind {
  Message = 1,
  Receipt = 2,
}

export type CommErrorCode =
  | 'COMM_MALFORMED'
  | 'COMM_TOO_LARGE'
  | 'COMM_DECRYPT_FAILED'
  | 'COMM_BAD_SIGNATURE'
  | 'COMM_NOT_NAME_OWNER'
  | 'COMM_REPLAY'
  | 'COMM_EXPIRED'
  | 'COMM_BAD_TTL'
  | 'COMM_NOT_FOR_ME'
  | 'COMM_QUOTA'
  | 'COMM_UNKNOWN_RECIPIENT'
  | 'COMM_UNREACHABLE'
  | 'COMM_NO_NETWORK'
  | 'COMM_NO_HANDLER'
  | 'COMM_ATTACHMENT';

export class CommError extends VosError<{ code: CommErrorCode }> {}

const fail = (code: CommErrorCode, message: string) =>
  new CommError({ code }, message, { peerAction: PeerAction.Reject });

/** The header every hop sees, and the sealed inner part. */
export interface Envelope {
  id: Uint8Array;
  recipient: Address;
  expiresAt: number;
  ephemeral: Uint8Array;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

export interface Attachment {
  /** CID of the encrypted object (bytes of the CID). */
  cid: Uint8Array;
  key: Uint8Array;
  name: string;
  mime: string;
  size: number;
}

export interface MessageBody {
  text: string;
  attachments: Attachment[];
}

/** What the recipient reads once the envelope is opened and the signature checked. */
export interface Inner {
  kind: Kind;
  senderKey: Uint8Array;
  /** The name the sender claims ('' = none); the receiver checks its on-chain owner key. */
  senderName: string;
  seq: number;
  sentAt: number;
  body: Uint8Array;
  signature: Uint8Array;
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  return encodeRlp([ENVELOPE_VERSION, e.id, e.recipient.bytes, e.expiresAt, e.ephemeral, e.nonce, e.sealed]);
}

/** Cheap checks only (size, shape): no crypto. Throws CommError COMM_TOO_LARGE / COMM_MALFORMED. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw fail('COMM_TOO_LARGE', `an envelope is at most ${MAX_ENVELOPE_BYTES} bytes, got ${bytes.length}`);
  try {
    const f = asList(decodeRlp(bytes, 'comm envelope'), 'comm envelope', 7);
    const version = asNumber(f[0], 'version');
    if (version !== ENVELOPE_VERSION) throw new Error(`unknown envelope version ${version}`);
    const sealed = asBytes(f[6], 'sealed');
    if (sealed.length < TAG) throw new Error('sealed part shorter than its tag');
    return {
      id: asBytes(f[1], 'id', 16),
      recipient: new Address(asBytes(f[2], 'recipient', 20)),
      expiresAt: asNumber(f[3], 'expiresAt'),
      ephemeral: asBytes(f[4], 'ephemeral key', 32),
      nonce: asBytes(f[5], 'nonce', 12),
      sealed,
    };
  } catch (err) {
    throw fail('COMM_MALFORMED', `malformed envelope: ${(err as Error).message}`);
  }
}

function headerAad(chainId: string, e: Omit<Envelope, 'sealed' | 'nonce'>): Buffer {
  return createHash('sha256')
    .update(encodeRlp([chainId, ENVELOPE_VERSION, e.id, e.recipient.bytes, e.expiresAt, e.ephemeral]))
    .digest();
}

function signedBytes(chainId: string, id: Uint8Array, recipient: Address, expiresAt: number, i: Inner) {
  return encodeRlp([
    DOMAIN,
    chainId,
    id,
    recipient.bytes,
    expiresAt,
    i.kind,
    i.senderName,
    i.seq,
    i.sentAt,
    i.body,
  ]);
}

/** The X25519 key a node opens envelopes with: the Montgomery form of its Ed25519 key. */
export function x25519PublicOf(ed25519Public: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomery(ed25519Public);
}

export interface SealInput {
  chainId: string;
  sender: PrivateKey;
  senderName: string;
  recipient: Address;
  /** X25519 public key of the recipient (its name's encryption key, or its Ed25519 key's Montgomery form). */
  recipientX25519: Uint8Array;
  kind: Kind;
  seq: number;
  sentAt: number;
  expiresAt: number;
  body: Uint8Array;
  /** Fixed id (tests); default random. */
  id?: Uint8Array;
}

/** Sign, then seal: an envelope only the recipient can open and only the sender could have signed. */
export function sealEnvelope(s: SealInput): { envelope: Envelope; bytes: Uint8Array } {
  if (utf8(s.senderName).length > MAX_NAME_BYTES) throw fail('COMM_MALFORMED', 'sender name too long');
  const id = s.id ?? new Uint8Array(randomBytes(16));
  const inner: Inner = {
    kind: s.kind,
    senderKey: s.sender.publicKey,
    senderName: s.senderName,
    seq: s.seq,
    sentAt: s.sentAt,
    body: s.body,
    signature: new Uint8Array(0),
  };
  inner.signature = s.sender.sign(signedBytes(s.chainId, id, s.recipient, s.expiresAt, inner));
  const plain = encodeRlp([
    inner.kind,
    inner.senderKey,
    inner.senderName,
    inner.seq,
    inner.sentAt,
    inner.body,
    inner.signature,
  ]);
  const box = sealBox(plain, s.recipientX25519, INFO, (ephemeral) =>
    headerAad(s.chainId, { id, recipient: s.recipient, expiresAt: s.expiresAt, ephemeral }),
  );
  const envelope: Envelope = { ...box, id, recipient: s.recipient, expiresAt: s.expiresAt };
  const bytes = encodeEnvelope(envelope);
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw new CommError(
      { code: 'COMM_TOO_LARGE' },
      `the message is ${bytes.length} bytes sealed, at most ${MAX_ENVELOPE_BYTES}`,
    );
  return { envelope, bytes };
}

/**
 * Open with the recipient's X25519 keys (the Montgomery form of its Ed25519 key: x25519KeysOf) and
 * check the signature. COMM_DECRYPT_FAILED: altered bytes or sealed to another key; COMM_BAD_SIGNATURE: the
 * inner part is not signed by the key it names.
 */
export function openEnvelope(chainId: string, e: Envelope, recipient: X25519Keys): Inner {
  let plain: Buffer;
  try {
    plain = openBox(e, recipient, INFO, headerAad(chainId, e));
  } catch {
    throw fail(
      'COMM_DECRYPT_FAILED',
      'the message does not open with this node key: altered in transit, or sealed to another key',
    );
  }
  let inner: Inner;
  try {
    inner = decodeInner(plain);
  } catch (err) {
    throw fail('COMM_MALFORMED', `malformed sealed part: ${(err as Error).message}`);
  }
  if (
    !verifySignature(
      inner.senderKey,
      signedBytes(chainId, e.id, e.recipient, e.expiresAt, inner),
      inner.signature,
    )
  )
    throw fail('COMM_BAD_SIGNATURE', 'the signature does not verify with the sender key it carries');
  return inner;
}

function decodeInner(plain: Uint8Array): Inner {
  const f = asList(decodeRlp(plain, 'comm inner'), 'comm inner', 7);
  const kind = asNumber(f[0], 'kind');
  if (kind !== Kind.Message && kind !== Kind.Receipt)
    throw new CodecError('INVALID_FIELD', 'kind', `unknown kind ${kind}`);
  return {
    kind,
    senderKey: asBytes(f[1], 'sender key', 32),
    senderName: asString(f[2], 'sender name', MAX_NAME_BYTES),
    seq: asNumber(f[3], 'seq'),
    sentAt: asNumber(f[4], 'sentAt'),
    body: asBytes(f[5], 'body'),
    signature: asBytes(f[6], 'signature', 64),
  };
}

export function encodeMessageBody(b: MessageBody): Uint8Array {
  return encodeRlp([b.text, b.attachments.map((a) => [a.cid, a.key, a.name, a.mime, a.size])]);
}

export function decodeMessageBody(bytes: Uint8Array): MessageBody {
  const f = asList(decodeRlp(bytes, 'message body'), 'message body', 2);
  const list = asList(f[1], 'attachments');
  if (list.length > MAX_ATTACHMENTS)
    throw new CodecError('INVALID_FIELD', 'attachments', `more than ${MAX_ATTACHMENTS}`);
  return {
    text: asString(f[0], 'text', MAX_TEXT_BYTES),
    attachments: list.map((item: RlpItem) => {
      const a = asList(item, 'attachment', 5);
      return {
        cid: asBoundedBytes(a[0], 'attachment cid', 128),
        key: asBytes(a[1], 'attachment key', 32),
        name: asString(a[2], 'attachment name', 255),
        mime: asString(a[3], 'attachment mime', 127),
        size: asNumber(a[4], 'attachment size'),
      };
    }),
  };
}

export function encodeReceiptBody(ids: Uint8Array[]): Uint8Array {
  return encodeRlp([ids]);
}

export function decodeReceiptBody(bytes: Uint8Array): Uint8Array[] {
  const f = asList(decodeRlp(bytes, 'receipt body'), 'receipt body', 1);
  const ids = asList(f[0], 'receipt ids');
  if (ids.length === 0 || ids.length > MAX_RECEIPT_IDS)
    throw new CodecError('INVALID_FIELD', 'receipt ids', `1..${MAX_RECEIPT_IDS} ids`);
  return ids.map((i) => asBytes(i, 'receipt id', 16));
}
