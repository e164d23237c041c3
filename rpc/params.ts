/** Declarative parameter specs for RPC methods: validation with clear -32602 messages, and OpenRPC schemas. */
import { invalidParams } from './errors.js';

export type ParamType =
  | 'string'
  | 'hex'
  | 'integer'
  | 'amount'
  | 'boolean'
  | 'object'
  | 'address'
  | 'heightOrHash'
  | 'any';

export interface ParamSpec {
  name: string;
  type: ParamType;
  optional?: boolean;
  description?: string;
  /** For strings and hex: max length in characters. */
  maxLength?: number;
}

const HEX_RE = /^0x([0-9a-fA-F]{2})*$/;
const DEC_RE = /^(0|[1-9][0-9]{0,77})$/;
const ADDR_RE = /^vos1[02-9ac-hj-np-z]{6,87}$/;

export function checkParam(spec: ParamSpec, v: unknown): unknown {
  const bad = (what: string) =>
    invalidParams(`invalid param "${spec.name}": expected ${what}`, { param: spec.name });
  switch (spec.type) {
    case 'any':
      return v;
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      if (spec.maxLength !== undefined && v.length > spec.maxLength)
        throw bad(`at most ${spec.maxLength} characters`);
      return v;
    case 'hex':
      if (typeof v !== 'string' || !HEX_RE.test(v)) throw bad('0x-prefixed hex bytes');
      if (spec.maxLength !== undefined && v.length > spec.maxLength)
        throw bad(`at most ${(spec.maxLength - 2) / 2} bytes`);
      return v;
    case 'integer':
      if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad('a non-negative integer');
      return v;
    case 'amount':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
      if (typeof v !== 'string' || !DEC_RE.test(v)) throw bad('a decimal string amount');
      return BigInt(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return v;
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('an object');
      return v;
    case 'address':
      if (typeof v !== 'string' || !ADDR_RE.test(v)) throw bad('a vos1... address');
      return v;
    case 'heightOrHash':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
      if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v);
      if (typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)) return v;
      throw bad('a block height or a 0x-prefixed 32-byte hash');
  }
}

/** Positional (array) or named (object) params -> validated positional values. */
export function checkParams(specs: readonly ParamSpec[], params: unknown): unknown[] {
  let values: unknown[];
  if (params === undefined) values = [];
  else if (Array.isArray(params)) {
    if (params.length > specs.length)
      throw invalidParams(`too many params: expected at most ${specs.length}`);
    values = params;
  } else if (typeof params === 'object' && params !== null) {
    const obj = params as Record<string, unknown>;
    for (const k of Object.keys(obj))
      if (!specs.some((s) => s.name === k)) throw invalidParams(`unknown param "${k}"`);
    values = specs.map((s) => obj[s.name]);
  } else {
    throw invalidParams('params must be an array or an object');
  }
  return specs.map((spec, i) => {
    const v = values[i];
    if (v === undefined || v === null) {
      if (spec.optional) return undefined;
      throw invalidParams(`missing param "${spec.name}"`, { param: spec.name });
    }
    return checkParam(spec, v);
  });
}

export function paramSchema(t: ParamType): Record<string, unknown> {
  switch (t) {
    case 'string':
      return { type: 'string' };
    case 'hex':
      return { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$' };
    case 'integer':
      return { type: 'integer', minimum: 0 };
    case 'amount':
      return { type: 'string', pattern: '^(0|[1-9][0-9]*)$', description: 'decimal amount' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object':
      return { type: 'object' };
    case 'address':
      return { type: 'string', pattern: '^vos1', description: 'bech32m address' };
    case 'heightOrHash':
      return {
        oneOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' },
        ],
      };
    case 'any':
      return {};
  }
}
