/**
 * The browser versions of what the shared verification code takes from Node (web/platform/, swapped in
 * by the web build) give Node's answers: sha256, node:net's IP checks, node:url's IDNA, and the plain-JS
 * paths of util/bytes.ts (used where there is no Buffer).
 */
import { isIPv4 as nodeIsIPv4, isIPv6 as nodeIsIPv6 } from 'node:net';
import { domainToASCII as nodeToASCII, domainToUnicode as nodeToUnicode } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import * as nodeHash from '../../../chain/hash.js';
import { bytesOfHexPortable, compareBytesPortable, hexOfBytesPortable } from '../../../util/bytes.js';
import * as webHash from '../../../web/platform/chain-hash.js';
import { isIP, isIPv4, isIPv6 } from '../../../web/platform/node-net.js';
import { domainToASCII, domainToUnicode, punycodeDecode } from '../../../web/platform/node-url.js';
import { propertyParams } from '../../fc-params.js';

describe('web/platform/chain-hash.ts', () => {
  it('has the exports of chain/hash.ts and the same digests', () => {
    expect(Object.keys(webHash).sort()).toEqual(Object.keys(nodeHash).sort());
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), (parts) => {
        expect(Array.from(webHash.sha256(...parts))).toEqual(Array.from(nodeHash.sha256(...parts)));
        const one = parts[0] ?? new Uint8Array(0);
        expect(Array.from(webHash.sha256One(one))).toEqual(Array.from(nodeHash.sha256One(one)));
      }),
      propertyParams('web sha256 = node sha256', 200),
    );
    expect(Array.from(webHash.ZERO_HASH)).toEqual(Array.from(nodeHash.ZERO_HASH));
  });
});

describe('web/platform/node-net.ts', () => {
  const cases = [
    '1.2.3.4',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '',
    '::',
    '::1',
    '::ffff:1.2.3.4',
    '1::2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    '2001:db8::',
    '2001:db8:::1',
    '[::1]',
    'g::1',
    '1.2.3.4 ',
    '12345::',
  ];
  it("answers node:net's isIPv4/isIPv6 on known cases and generated strings", () => {
    for (const s of cases) {
      expect([s, isIPv4(s), isIPv6(s)]).toEqual([s, nodeIsIPv4(s), nodeIsIPv6(s)]);
      expect(isIP(s)).toBe(nodeIsIPv4(s) ? 4 : nodeIsIPv6(s) ? 6 : 0);
    }
    const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.%g'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (cs) => {
        const s = cs.join('');
        expect([s, isIPv4(s), isIPv6(s)]).toEqual([s, nodeIsIPv4(s), nodeIsIPv6(s)]);
      }),
      propertyParams('web isIP = node:net isIP', 2000),
    );
  });
});

describe('web/platform/node-url.ts', () => {
  const words = [
    'alice',
    'ALICE',
    'münchen',
    'MÜNCHEN',
    'xn--mnchen-3ya',
    'xn--MNCHEN-3ya',
    '日本',
    '中国',
    'аррӏе',
    'βόλος',
    'ß',
    '💩',
    'a b',
    'a/b',
    'a:1',
    'a@b',
    'xn--',
    'xn--a',
    'xn--abc-',
    'xn---',
    'xn--zz',
    'xn--a-ecp.ru',
    'xn--mnchen-3ya.de',
    '１２３',
    'ｖｏｓ',
    'café',
    'ευρώπη',
    'россия',
    'עברית',
    'العربية',
    'हिन्दी',
    'ไทย',
    '한국어',
    'ひらがな',
    'カタカナ',
    'e\u0301',
    '\u200d',
    '',
  ];
  it("gives node:url's domainToASCII and domainToUnicode", () => {
    for (const w of words) {
      expect([w, domainToASCII(w)]).toEqual([w, nodeToASCII(w)]);
      expect([w, domainToUnicode(w)]).toEqual([w, nodeToUnicode(w)]);
      const ascii = nodeToASCII(w);
      expect([ascii, domainToUnicode(ascii)]).toEqual([ascii, nodeToUnicode(ascii)]);
    }
    const letters = fc.constantFrom(
      ...'abcxyzäöüßéèçñøåłżčřšžабвгдежзийαβγδεζηθ日本中国한국あいうアイウ0-'.split(''),
    );
    fc.assert(
      fc.property(fc.array(letters, { minLength: 1, maxLength: 12 }), (cs) => {
        const w = cs.join('');
        const ascii = nodeToASCII(w);
        expect([w, domainToASCII(w)]).toEqual([w, ascii]);
        expect([ascii, domainToUnicode(ascii)]).toEqual([ascii, nodeToUnicode(ascii)]);
      }),
      propertyParams('web IDNA = node:url IDNA', 500),
    );
  });

  it('decodes RFC 3492 samples and refuses malformed punycode', () => {
    expect(punycodeDecode('mnchen-3ya')).toBe('münchen');
    expect(punycodeDecode('ihqwcrb4cv8a8dqg056pqjye')).toBe('他们为什么不说中文');
    expect(punycodeDecode('abc-')).toBe('abc');
    expect(punycodeDecode('zz')).toBeNull();
    expect(punycodeDecode('a!')).toBeNull();
  });
});

describe('util/bytes.ts without Buffer', () => {
  it('the plain-JS hex and compare give what Buffer gives', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const hex = Buffer.from(a).toString('hex');
        expect(hexOfBytesPortable(a)).toBe(hex);
        expect(Array.from(bytesOfHexPortable(hex))).toEqual(Array.from(a));
        expect(compareBytesPortable(a, b)).toBe(Buffer.compare(a, b));
        expect(compareBytesPortable(a, a)).toBe(0);
      }),
      propertyParams('portable bytes = Buffer', 500),
    );
  });
});
