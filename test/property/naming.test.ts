/**
 * Naming properties (fast-check, printed seeds): normalization is idempotent and refuses mixed-script
 * and ASCII-confusable labels; the price by length never increases with the length; records over the
 * caps are refused with the field named; record encodings round-trip canonically.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeRlp, encodeRlp } from '../../chain/codec.js';
import { DEFAULT_NAMING_PARAMS, namePrice } from '../../chain/ledger/params.js';
import { parseGenesis } from '../../genesis/genesis.js';
import { NameError, normalizeName, tryNormalizeName } from '../../services/naming/name.js';
import {
  EMPTY_RECORDS,
  MAX_RECORD_BYTES,
  MAX_RECORDS_BYTES,
  type NameRecords,
  recordsFromItem,
  recordsRaw,
} from '../../services/naming/records.js';
import { propertyParams } from '../fc-params.js';

const LATIN = [...'abcdefghijklmnopqrstuvwxyzäöüéèàçñß'];
const CYRILLIC = [...'абвгдежзийклмнопрстуфхцчшщыэюя'];
const GREEK = [...'αβγδεζηθικλμνξοπρστυφχψω'];
const CONFUSABLE_CYRILLIC = [...'аеорсух'];
const ANY = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...LATIN, ...CYRILLIC, ...GREEK, '-', '1', 'A', '.', '東', 'ひ'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }),
  ),
  maxLength: 20,
});

describe('name normalization (property)', () => {
  it('is idempotent: a normalized name normalizes to itself', () => {
    fc.assert(
      fc.property(ANY, (s) => {
        const n = tryNormalizeName(s);
        if (n !== null) expect(normalizeName(n)).toBe(n);
      }),
      propertyParams('name normalization idempotent', 2000),
    );
  });

  it('accepts only [a-z0-9-] labels of 3-63 without edge hyphens', () => {
    fc.assert(
      fc.property(ANY, (s) => {
        const n = tryNormalizeName(s);
        if (n === null) return;
        expect(n).toMatch(/^[a-z0-9-]{3,63}$/);
        expect(n.startsWith('-') || n.endsWith('-')).toBe(false);
      }),
      propertyParams('name normalization charset', 2000),
    );
  });

  it('refuses labels that mix Latin with Cyrillic or Greek letters', () => {
    const mixed = fc
      .tuple(
        fc.array(fc.constantFrom(...LATIN.slice(0, 26)), { minLength: 2, maxLength: 6 }),
        fc.constantFrom(...CYRILLIC, ...GREEK),
        fc.nat(6),
      )
      .map(([latin, other, at]) => {
        const chars = [...latin];
        chars.splice(at % (chars.length + 1), 0, other);
        return chars.join('');
      });
    fc.assert(
      fc.property(mixed, (s) => {
        expect(() => normalizeName(s)).toThrow(NameError);
        try {
          normalizeName(s);
        } catch (err) {
          expect(['NAME_MIXED_SCRIPT', 'NAME_CONFUSABLE']).toContain((err as NameError).code);
        }
      }),
      propertyParams('name mixed script refused', 500),
    );
  });

  it('refuses whole-script labels made only of letters that look like ASCII', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...CONFUSABLE_CYRILLIC), { minLength: 3, maxLength: 10 }),
        (chars) => {
          expect(() => normalizeName(chars.join(''))).toThrow(/mistaken for an ASCII name/);
        },
      ),
      propertyParams('name confusables refused', 300),
    );
  });

  it('keeps real single-script names: münchen, москва, 東京, ひらがな', () => {
    expect(normalizeName('München.vos')).toBe('xn--mnchen-3ya');
    expect(tryNormalizeName('москва')).toMatch(/^xn--/);
    expect(tryNormalizeName('東京')).toMatch(/^xn--/);
    expect(tryNormalizeName('ひらがな')).toMatch(/^xn--/);
    expect(tryNormalizeName('xn--mnchen-3ya')).toBe('xn--mnchen-3ya');
    expect(tryNormalizeName('xn--zzzz')).toBeNull();
  });
});

describe('name price (property)', () => {
  it('is non-increasing in the length for any genesis price table', () => {
    const table = fc
      .array(fc.bigInt({ min: 0n, max: 10n ** 24n }), { minLength: 1, maxLength: 10 })
      .map((xs) => [...xs].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    fc.assert(
      fc.property(table, (prices) => {
        const params = { pricesByLength: prices };
        for (let len = 3; len < 63; len++)
          expect(namePrice(params, len + 1) <= namePrice(params, len)).toBe(true);
      }),
      propertyParams('name price monotone', 300),
    );
    expect(namePrice(DEFAULT_NAMING_PARAMS, 3) > namePrice(DEFAULT_NAMING_PARAMS, 10)).toBe(true);
  });

  it('a genesis whose prices increase with the length is refused', () => {
    const g = (prices: string[]) => ({
      chainId: 'vos-test',
      genesisTime: 1_700_000_000_000,
      params: { naming: { pricesByLength: prices } },
      accounts: [],
      validators: [{ publicKey: `0x${'11'.repeat(32)}`, stake: '100000000' }],
    });
    expect(() => parseGenesis(g(['10', '20']))).toThrow(/must not increase/);
    expect(parseGenesis(g(['20', '10'])).params.naming.pricesByLength).toEqual([20n, 10n]);
  });
});

describe('record caps (property)', () => {
  it('records over a cap are refused naming the field; the others round-trip canonically', () => {
    const rec = fc.record({
      txt: fc.array(fc.string({ maxLength: 700 }), { maxLength: 12 }),
      content: fc.string({ maxLength: 600 }),
      ttl: fc.nat(100_000),
    });
    fc.assert(
      fc.property(rec, ({ txt, content, ttl }) => {
        const r: NameRecords = { ...EMPTY_RECORDS, txt, content, ttl };
        const sizes = [...txt.map((t) => encodeRlp(t).length), encodeRlp(content).length];
        const overOne = sizes.some((n) => n > MAX_RECORD_BYTES);
        let raw: ReturnType<typeof recordsRaw> | undefined;
        let error: string | undefined;
        try {
          raw = recordsRaw(r);
        } catch (err) {
          error = (err as Error).message;
        }
        if (overOne) expect(error).toMatch(/exceeds 512/);
        else if (ttl > 86_400) expect(error).toMatch(/records.ttl/);
        else if (error !== undefined) expect(error).toMatch(new RegExp(`cap of ${MAX_RECORDS_BYTES}`));
        else {
          const bytes = encodeRlp(raw!);
          expect(bytes.length).toBeLessThanOrEqual(MAX_RECORDS_BYTES);
          expect(encodeRlp(recordsRaw(recordsFromItem(decodeRlp(bytes, 'r'))))).toEqual(bytes);
        }
      }),
      propertyParams('name record caps', 300),
    );
  });
});
