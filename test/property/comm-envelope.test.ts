/**
 * Comm envelopes: seal then open round-trips every field; decoding is canonical (re-encoding gives the
 * same bytes); any changed byte of an envelope is refused (malformed, or it does not open); a wrong
 * signature, another recipient key or another chain is refused with its code.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { addressFromPublicKey } from '../../chain/address.js';
import { PrivateKey } from '../../chain/keys.js';
import {
  CommError,
  decodeEnvelope,
  decodeMessageBody,
  encodeEnvelope,
  encodeMessageBody,
  Kind,
  openEnvelope,
  sealEnvelope,
  x25519PublicOf,
} from '../../services/comm/envelope.js';
import { x25519KeysOf } from '../../services/storage/seal.js';
import { propertyParams } from '../fc-params.js';

const sender = PrivateKey.generate();
const recipient = PrivateKey.generate();
const CHAIN = 'vos-test';

function seal(text: string, seq: number, name = '', chainId = CHAIN) {
  const now = Date.now();
  return sealEnvelope({
    chainId,
    sender,
    senderName: name,
    recipient: recipient.address,
    recipientX25519: x25519PublicOf(recipient.publicKey),
    kind: Kind.Message,
    seq,
    sentAt: now,
    expiresAt: now + 60_000,
    body: encodeMessageBody({ text, attachments: [] }),
  });
}

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(CommError);
    return (err as CommError).code;
  }
};

describe('comm envelopes', () => {
  it('round-trip and canonical decoding', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 2000 }),
        fc.nat(),
        fc.stringMatching(/^[a-z0-9]{0,20}$/),
        (text, seq, name) => {
          const { bytes } = seal(text, seq, name);
          const e = decodeEnvelope(bytes);
          expect(Buffer.from(encodeEnvelope(e)).equals(Buffer.from(bytes))).toBe(true);
          const inner = openEnvelope(CHAIN, e, x25519KeysOf(recipient.exportSeed()));
          expect(decodeMessageBody(inner.body).text).toBe(text);
          expect(inner.seq).toBe(seq);
          expect(inner.senderName).toBe(name);
          expect(addressFromPublicKey(inner.senderKey).equals(sender.address)).toBe(true);
        },
      ),
      propertyParams('comm envelope round-trip', 100),
    );
  });

  it('any changed byte is refused', () => {
    const { bytes } = seal('a message worth protecting', 7);
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = Uint8Array.from(bytes);
        b[at] ^= x;
        const code = codeOf(() =>
          openEnvelope(CHAIN, decodeEnvelope(b), x25519KeysOf(recipient.exportSeed())),
        );
        expect(['COMM_MALFORMED', 'COMM_DECRYPT_FAILED']).toContain(code);
      }),
      propertyParams('comm envelope tamper', 300),
    );
  });

  it('another key, another chain, oversize: refused with their codes', () => {
    const { bytes } = seal('x', 1);
    const other = PrivateKey.generate();
    expect(codeOf(() => openEnvelope(CHAIN, decodeEnvelope(bytes), x25519KeysOf(other.exportSeed())))).toBe(
      'COMM_DECRYPT_FAILED',
    );
    expect(
      codeOf(() => openEnvelope('other-chain', decodeEnvelope(bytes), x25519KeysOf(recipient.exportSeed()))),
    ).toBe('COMM_DECRYPT_FAILED');
    expect(codeOf(() => decodeEnvelope(new Uint8Array(70 * 1024)))).toBe('COMM_TOO_LARGE');
    expect(codeOf(() => seal('y'.repeat(70 * 1024), 1))).toBe('COMM_TOO_LARGE');
  });

  it('a signature by another key than the one named inside: COMM_BAD_SIGNATURE', () => {
    // The sender names its key inside the sealed part; a forger that seals to the recipient with its own
    // signature but another sender key: the signature does not verify with the key it carries.
    const forger = PrivateKey.generate();
    const realKey = sender.publicKey;
    const spoof = { publicKey: realKey, sign: (m: Uint8Array) => forger.sign(m) } as unknown as PrivateKey;
    const now = Date.now();
    const { bytes } = sealEnvelope({
      chainId: CHAIN,
      sender: spoof,
      senderName: '',
      recipient: recipient.address,
      recipientX25519: x25519PublicOf(recipient.publicKey),
      kind: Kind.Message,
      seq: 1,
      sentAt: now,
      expiresAt: now + 60_000,
      body: encodeMessageBody({ text: 'from "sender"', attachments: [] }),
    });
    expect(
      codeOf(() => openEnvelope(CHAIN, decodeEnvelope(bytes), x25519KeysOf(recipient.exportSeed()))),
    ).toBe('COMM_BAD_SIGNATURE');
  });
});
