import { describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../../chain/keys.js';
import {
  decodeEntry,
  EMPTY_RECORDS,
  encodeEntry,
  ip6Text,
  MAX_RECORDS_BYTES,
  type NameEntry,
  type NameRecords,
} from '../../../../services/naming/records.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(5));
const entry = (records: NameRecords): NameEntry => ({
  name: 'alice',
  owner: key.address,
  ownerKey: key.publicKey,
  registeredAt: 3,
  expires: 1000,
  records,
  transfer: null,
});

describe('name records', () => {
  it('round-trip canonically (IPv6 in RFC 5952 text, IPv4 dotted)', () => {
    const r: NameRecords = {
      encryptionKey: new Uint8Array(32).fill(9),
      endpoints: [
        { kind: 'ip4', value: '10.0.0.1', weight: 3 },
        { kind: 'ip6', value: '2001:DB8:0:0:0:0:0:1', weight: 1 },
        { kind: 'ip6', value: '::ffff:1.2.3.4', weight: 0 },
        { kind: 'multiaddr', value: '/ip4/10.0.0.1/tcp/4001', weight: 1 },
      ],
      txt: ['hello', 'v=vos1'],
      tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32).fill(1) }],
      content: 'bafkqaaa',
      app: 'counter',
      ttl: 30,
    };
    const back = decodeEntry('alice', encodeEntry(entry(r)));
    expect(back.records.endpoints.map((e) => e.value)).toEqual([
      '10.0.0.1',
      '2001:db8::1',
      '::ffff:102:304',
      '/ip4/10.0.0.1/tcp/4001',
    ]);
    expect(encodeEntry(back)).toEqual(encodeEntry(entry(r)));
    expect(ip6Text(new Uint8Array(16))).toBe('::');
  });

  it('refuses records over the caps and malformed values, naming the field', () => {
    const big = (n: number): NameRecords => ({ ...EMPTY_RECORDS, txt: ['x'.repeat(n)] });
    expect(() => encodeEntry(entry(big(600)))).toThrow(/records.txt\[0\].*exceeds 512/);
    const many: NameRecords = { ...EMPTY_RECORDS, txt: Array.from({ length: 10 }, () => 'y'.repeat(500)) };
    expect(() => encodeEntry(entry(many))).toThrow(new RegExp(`cap of ${MAX_RECORDS_BYTES}`));
    const badIp: NameRecords = {
      ...EMPTY_RECORDS,
      endpoints: [{ kind: 'ip4', value: '300.1.1.1', weight: 1 }],
    };
    expect(() => encodeEntry(entry(badIp))).toThrow(/not an IPv4/);
    const badWeight: NameRecords = {
      ...EMPTY_RECORDS,
      endpoints: [{ kind: 'ip4', value: '1.1.1.1', weight: 70000 }],
    };
    expect(() => encodeEntry(entry(badWeight))).toThrow(/weight/);
  });
});
