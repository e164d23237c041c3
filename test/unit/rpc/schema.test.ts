import { describe, expect, it } from '@jest/globals';
import { defineApi, method, optionalParam, param } from '../../../rpc/api.js';
import { BlockJSON, HeaderWithHash, vosApi } from '../../../rpc/methods.js';
import { type Infer, SchemaError, s } from '../../../rpc/schema.js';

function expected(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof SchemaError) return err.message;
    throw err;
  }
  return 'no error';
}

describe('RPC schemas', () => {
  const Obj = s.object({
    a: s.int(),
    b: s.optional(s.nullable(s.hex({ bytes: 2 }))),
    c: s.array(s.literal(['x', 'y'])),
  });

  it('check objects: required and optional properties, unknown ones refused, paths in errors', () => {
    const v: Infer<typeof Obj> = Obj.parse({ a: 1, c: ['x'] });
    expect(v).toEqual({ a: 1, c: ['x'] });
    expect(Obj.parse({ a: 1, b: null, c: [] })).toEqual({ a: 1, b: null, c: [] });
    expect(expected(() => Obj.parse({ c: [] }))).toBe('a: expected a value (required)');
    expect(expected(() => Obj.parse({ a: 1, c: [], d: 1 }))).toBe('d: expected no such property');
    expect(expected(() => Obj.parse({ a: 1, c: ['z'] }))).toBe('c[0]: expected one of x, y');
    expect(expected(() => Obj.parse({ a: 1, b: '0x00', c: [] }))).toBe(
      'b: expected 0x-prefixed hex of 2 bytes or null',
    );
  });

  it('integers: safe, >= min, decimal strings only where allowed; hex and decimal strings', () => {
    expect(s.int().parse(5)).toBe(5);
    expect(expected(() => s.int().parse('5'))).toBe('expected a non-negative integer');
    expect(s.int({ fromString: true }).parse('5')).toBe(5);
    expect(expected(() => s.int({ fromString: true }).parse('05'))).toBe('expected a non-negative integer');
    expect(expected(() => s.int().parse(2 ** 53))).toBe('expected a non-negative integer');
    expect(s.int({ min: -1 }).parse(-1)).toBe(-1);
    expect(expected(() => s.hex({ maxBytes: 1 }).parse('0x0000'))).toBe('expected at most 1 bytes');
    expect(expected(() => s.hex().parse('0x0'))).toBe('expected 0x-prefixed hex bytes');
    expect(expected(() => s.decimal().parse('1e5'))).toBe('expected a decimal string');
  });

  it('produce JSON Schema for rpc.discover', () => {
    expect(Obj.json).toEqual({
      type: 'object',
      properties: {
        a: { type: 'integer', minimum: 0 },
        b: { oneOf: [{ type: 'string', pattern: '^0x[0-9a-fA-F]{4}$' }, { type: 'null' }] },
        c: { type: 'array', items: { type: 'string', enum: ['x', 'y'] } },
      },
      required: ['a', 'c'],
      additionalProperties: false,
    });
    expect((HeaderWithHash.json as { required: string[] }).required).toContain('stateRoot');
    expect(BlockJSON.json).toMatchObject({ type: 'object', properties: { txs: { type: 'array' } } });
  });

  it('the table reserves the server-owned names and refuses a required param after an optional one', () => {
    expect(() =>
      defineApi({
        methods: { 'rpc.discover': method({ summary: '', params: [], result: s.any() }) },
        topics: {},
      }),
    ).toThrow('reserved');
    expect(() =>
      defineApi({
        methods: {
          x_y: method({
            summary: '',
            params: [optionalParam('a', s.int()), param('b', s.int())],
            result: s.any(),
          }),
        },
        topics: {},
      }),
    ).toThrow('required param b after an optional one');
    expect(Object.keys(vosApi.methods)).toEqual(
      expect.arrayContaining(['node_status', 'rpc.discover', 'vos_subscribe']),
    );
  });
});
