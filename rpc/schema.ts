/**
 * Schemas for RPC params and results: each is a JSON Schema (for `rpc.discover`), a checker (params are
 * checked, and coerced where said, before a handler runs; tests check results against them) and a
 * TypeScript type (`Infer<S>` what a handler gets or returns, `Input<S>` what a client may send).
 * A small builder instead of a dependency: the method table needs only this subset of JSON Schema.
 */

export type JsonSchema = { [key: string]: unknown };

/** A value does not match a schema; `path` names where (e.g. `header.height`). */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(path === '' ? `expected ${expected}` : `${path}: expected ${expected}`);
    this.name = 'SchemaError';
  }
}

export interface Schema<Out = unknown, In = Out> {
  readonly json: JsonSchema;
  /** Check `v` (coercing where the schema allows, e.g. a decimal string for a height); throws SchemaError. */
  parse(v: unknown, path?: string): Out;
  /** Type carrier only (never set). */
  readonly __types?: { out: Out; in: In };
}

// biome-ignore lint/suspicious/noExplicitAny: the widest schema (Schema<unknown> would not accept narrower ones' parse).
export type AnySchema = Schema<any, any>;
/** The checked value: what a handler receives as a param or must return as a result. */
export type Infer<S> = S extends { __types?: { out: infer O } } ? O : never;
/** What a client may send for it. */
export type Input<S> = S extends { __types?: { in: infer I } } ? I : never;

/** An object property that may be absent. */
export interface Optional<S extends AnySchema> {
  readonly optional: S;
}

type Shape = Record<string, AnySchema | Optional<AnySchema>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends Optional<AnySchema> ? never : K;
}[keyof S];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
type Unwrap<X> = X extends Optional<infer S> ? S : X;
type ObjectOut<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<Unwrap<S[K]>> }
>;
type ObjectIn<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Input<S[K]> } & { [K in OptionalKeys<S>]?: Input<Unwrap<S[K]>> }
>;

function make<Out, In = Out>(json: JsonSchema, parse: (v: unknown, path: string) => Out): Schema<Out, In> {
  return { json, parse: (v, path = '') => parse(v, path) };
}

function describe(json: JsonSchema, description: string | undefined): JsonSchema {
  return description === undefined ? json : { ...json, description };
}

const at = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

export interface StringOptions {
  description?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** Documented values (the type stays `string`; use `literal` for a typed union). */
  enum?: readonly string[];
  /** What the error says is expected (default: "a string"). */
  expected?: string;
}

function string(o: StringOptions = {}): Schema<string> {
  const json: JsonSchema = { type: 'string' };
  if (o.minLength !== undefined) json.minLength = o.minLength;
  if (o.maxLength !== undefined) json.maxLength = o.maxLength;
  if (o.pattern !== undefined) json.pattern = o.pattern.source;
  if (o.enum !== undefined) json.enum = [...o.enum];
  const expected = o.expected ?? 'a string';
  return make(describe(json, o.description), (v, path) => {
    if (typeof v !== 'string') throw new SchemaError(path, expected);
    if (o.maxLength !== undefined && v.length > o.maxLength)
      throw new SchemaError(path, `at most ${o.maxLength} characters`);
    if (o.minLength !== undefined && v.length < o.minLength)
      throw new SchemaError(path, `at least ${o.minLength} characters`);
    if (o.pattern !== undefined && !o.pattern.test(v)) throw new SchemaError(path, expected);
    if (o.enum !== undefined && !o.enum.includes(v))
      throw new SchemaError(path, `one of ${o.enum.join(', ')}`);
    return v;
  });
}

function literal<const T extends readonly string[]>(
  values: T,
  o: { description?: string } = {},
): Schema<T[number]> {
  return make(describe({ type: 'string', enum: [...values] }, o.description), (v, path) => {
    if (typeof v !== 'string' || !values.includes(v))
      throw new SchemaError(path, `one of ${values.join(', ')}`);
    return v as T[number];
  });
}

const HEX_RE = /^0x([0-9a-fA-F]{2})*$/;

/** 0x-prefixed hex bytes: exactly `bytes` long, or at most `maxBytes`. */
function hex(o: { bytes?: number; maxBytes?: number; description?: string } = {}): Schema<string> {
  const pattern = o.bytes !== undefined ? `^0x[0-9a-fA-F]{${2 * o.bytes}}$` : HEX_RE.source;
  const json: JsonSchema = { type: 'string', pattern };
  if (o.maxBytes !== undefined) json.maxLength = 2 + 2 * o.maxBytes;
  const what = o.bytes !== undefined ? `0x-prefixed hex of ${o.bytes} bytes` : '0x-prefixed hex bytes';
  return make(describe(json, o.description), (v, path) => {
    if (typeof v !== 'string' || !HEX_RE.test(v)) throw new SchemaError(path, what);
    if (o.bytes !== undefined && v.length !== 2 + 2 * o.bytes) throw new SchemaError(path, what);
    if (o.maxBytes !== undefined && v.length > 2 + 2 * o.maxBytes)
      throw new SchemaError(path, `at most ${o.maxBytes} bytes`);
    return v;
  });
}

/**
 * A safe integer >= `min` (default 0). `fromString` (params only): also accept it as a decimal string,
 * as clients that keep heights in strings send them.
 */
function int(
  o: { min?: number; max?: number; fromString?: boolean; description?: string } = {},
): Schema<number, number> {
  const min = o.min ?? 0;
  const json: JsonSchema = { type: 'integer', minimum: min };
  if (o.max !== undefined) json.maximum = o.max;
  const what = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  return make(describe(json, o.description), (v, path) => {
    let n = v;
    if (o.fromString && typeof v === 'string' && /^(0|[1-9][0-9]{0,14})$/.test(v)) n = Number(v);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new SchemaError(path, what);
    if (o.max !== undefined && n > o.max) throw new SchemaError(path, `at most ${o.max}`);
    return n;
  });
}

/** A finite number (factors, ratios). */
function number(o: { min?: number; description?: string } = {}): Schema<number, number> {
  const json: JsonSchema = { type: 'number' };
  if (o.min !== undefined) json.minimum = o.min;
  return make(describe(json, o.description), (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (o.min !== undefined && v < o.min))
      throw new SchemaError(path, o.min === undefined ? 'a finite number' : `a number >= ${o.min}`);
    return v;
  });
}

const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;

/** An amount or other big integer as a decimal string. */
function decimal(o: { description?: string } = {}): Schema<string> {
  return string({
    pattern: DECIMAL_RE,
    expected: 'a decimal string',
    description: o.description ?? 'decimal integer (amounts are strings: they exceed 2^53)',
  });
}

function bool(o: { description?: string } = {}): Schema<boolean> {
  return make(describe({ type: 'boolean' }, o.description), (v, path) => {
    if (typeof v !== 'boolean') throw new SchemaError(path, 'a boolean');
    return v;
  });
}

function nullable<S extends AnySchema>(inner: S): Schema<Infer<S> | null, Input<S> | null> {
  return make({ oneOf: [inner.json, { type: 'null' }] }, (v, path) => {
    if (v === null) return null;
    try {
      return inner.parse(v, path) as Infer<S>;
    } catch (err) {
      if (err instanceof SchemaError && err.path === path)
        throw new SchemaError(path, `${err.expected} or null`);
      throw err;
    }
  });
}

function array<S extends AnySchema>(
  items: S,
  o: { maxItems?: number; description?: string } = {},
): Schema<Infer<S>[], Input<S>[]> {
  const json: JsonSchema = { type: 'array', items: items.json };
  if (o.maxItems !== undefined) json.maxItems = o.maxItems;
  return make(describe(json, o.description), (v, path) => {
    if (!Array.isArray(v)) throw new SchemaError(path, 'an array');
    if (o.maxItems !== undefined && v.length > o.maxItems)
      throw new SchemaError(path, `at most ${o.maxItems} items`);
    return v.map((x, i) => items.parse(x, at(path, i)) as Infer<S>);
  });
}

function optional<S extends AnySchema>(inner: S): Optional<S> {
  return { optional: inner };
}

/** An object with exactly these properties (unknown ones are refused). */
function object<S extends Shape>(
  shape: S,
  o: { description?: string } = {},
): Schema<ObjectOut<S>, ObjectIn<S>> {
  const entries = Object.entries(shape).map(([k, d]) => {
    const opt = 'optional' in d;
    return { key: k, schema: (opt ? d.optional : d) as AnySchema, optional: opt };
  });
  const json: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(entries.map((e) => [e.key, e.schema.json])),
    required: entries.filter((e) => !e.optional).map((e) => e.key),
    additionalProperties: false,
  };
  return make(describe(json, o.description), (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, 'an object');
    const obj = v as Record<string, unknown>;
    for (const k of Object.keys(obj))
      if (!(k in shape)) throw new SchemaError(at(path, k), 'no such property');
    const out: Record<string, unknown> = {};
    for (const e of entries) {
      const x = obj[e.key];
      if (x === undefined) {
        if (!e.optional) throw new SchemaError(at(path, e.key), 'a value (required)');
        continue;
      }
      out[e.key] = e.schema.parse(x, at(path, e.key));
    }
    return out as ObjectOut<S>;
  });
}

/** An object with any keys, each value matching `values`. */
function dict<S extends AnySchema>(
  values: S,
  o: { description?: string } = {},
): Schema<Record<string, Infer<S>>, Record<string, Input<S>>> {
  return make(describe({ type: 'object', additionalProperties: values.json }, o.description), (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, 'an object');
    const out: Record<string, Infer<S>> = {};
    for (const [k, x] of Object.entries(v)) out[k] = values.parse(x, at(path, k)) as Infer<S>;
    return out;
  });
}

/** The first alternative that matches. */
function oneOf<const S extends readonly AnySchema[]>(
  alternatives: S,
  o: { description?: string; expected?: string } = {},
): Schema<Infer<S[number]>, Input<S[number]>> {
  return make(describe({ oneOf: alternatives.map((a) => a.json) }, o.description), (v, path) => {
    const errors: string[] = [];
    for (const a of alternatives) {
      try {
        return a.parse(v, path) as Infer<S[number]>;
      } catch (err) {
        if (!(err instanceof SchemaError)) throw err;
        errors.push(err.expected);
      }
    }
    throw new SchemaError(path, o.expected ?? errors.join(' or '));
  });
}

/** Anything (documented by `description`). */
function any(o: { description?: string } = {}): Schema<unknown> {
  return make(describe({}, o.description), (v) => v);
}

export const s = {
  string,
  literal,
  hex,
  int,
  number,
  decimal,
  bool,
  nullable,
  array,
  optional,
  object,
  dict,
  oneOf,
  any,
};
