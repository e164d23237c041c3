import { describe, expect, it } from '@jest/globals';
import { Address } from '../../../chain/address.js';
import { encodeRlp } from '../../../chain/codec.js';
import { createReceiptFromRlp, Receipt, ReceiptStatus } from '../../../chain/receipt.js';
import { equalBytes } from '../../../util/bytes.js';

const to = new Address(new Uint8Array(20).fill(7));

describe('receipts', () => {
  it('hash binary attribute values (address bytes, minimal integers), not their display strings', () => {
    const r = new Receipt(ReceiptStatus.Ok, 21_000n, '', [
      {
        type: 'transfer',
        attributes: [
          ['to', to],
          ['amount', 1000n],
          ['note', 'hi'],
          ['raw', new Uint8Array([1, 2])],
        ],
      },
    ]);
    const bytes = Buffer.from(r.serialize());
    expect(bytes.includes(Buffer.from(to.bytes))).toBe(true);
    expect(bytes.includes(Buffer.from(to.toString()))).toBe(false);
    expect(bytes.includes(Buffer.from('1000'))).toBe(false);
    expect(r.toJSON().events[0].attributes).toEqual({
      to: to.toString(),
      amount: '1000',
      note: 'hi',
      raw: '0x0102',
    });
    const back = createReceiptFromRlp(r.serialize());
    expect(equalBytes(back.hash(), r.hash())).toBe(true);
    expect(back.events[0].attributes[0][1]).toBeInstanceOf(Address);
  });

  it('rejects unknown attribute tags, short addresses and non-canonical integers', () => {
    const withAttr = (attr: unknown[]) => encodeRlp([1, 1, '', [['e', [attr as never]]]]);
    expect(() => createReceiptFromRlp(withAttr(['k', 9, new Uint8Array(1)]))).toThrow(
      /unknown attribute type/,
    );
    expect(() => createReceiptFromRlp(withAttr(['k', 2, new Uint8Array(19)]))).toThrow(/20 bytes/);
    expect(() => createReceiptFromRlp(withAttr(['k', 1, new Uint8Array([0, 1])]))).toThrow(/leading zeros/);
  });
});
