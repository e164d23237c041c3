/**
 * The instruction allowlist: WASM MVP integer instructions and sign-extension, by opcode, with the kind
 * of immediate each takes. Everything else is refused with the rule that names its feature.
 */

export type Immediate =
  | 'none'
  | 'block' // block type
  | 'label' // u32 label index
  | 'br_table'
  | 'func' // u32 function index
  | 'call_indirect' // u32 type index, table byte 0x00
  | 'local'
  | 'global'
  | 'memarg' // align u32, offset u32
  | 'memory' // byte 0x00
  | 'i32'
  | 'i64';

const ALLOWED = new Map<number, Immediate>();
const set = (from: number, to: number, imm: Immediate) => {
  for (let op = from; op <= to; op++) ALLOWED.set(op, imm);
};

set(0x00, 0x01, 'none'); // unreachable, nop
set(0x02, 0x04, 'block'); // block, loop, if
ALLOWED.set(0x05, 'none'); // else
ALLOWED.set(0x0b, 'none'); // end
set(0x0c, 0x0d, 'label'); // br, br_if
ALLOWED.set(0x0e, 'br_table');
ALLOWED.set(0x0f, 'none'); // return
ALLOWED.set(0x10, 'func'); // call
ALLOWED.set(0x11, 'call_indirect');
set(0x1a, 0x1b, 'none'); // drop, select
set(0x20, 0x22, 'local'); // local.get/set/tee
set(0x23, 0x24, 'global'); // global.get/set
set(0x28, 0x29, 'memarg'); // i32.load, i64.load
set(0x2c, 0x35, 'memarg'); // integer narrow loads
set(0x36, 0x37, 'memarg'); // i32.store, i64.store
set(0x3a, 0x3e, 'memarg'); // integer narrow stores
set(0x3f, 0x40, 'memory'); // memory.size, memory.grow
ALLOWED.set(0x41, 'i32');
ALLOWED.set(0x42, 'i64');
set(0x45, 0x5a, 'none'); // i32 and i64 tests and comparisons
set(0x67, 0x8a, 'none'); // i32 and i64 arithmetic
ALLOWED.set(0xa7, 'none'); // i32.wrap_i64
set(0xac, 0xad, 'none'); // i64.extend_i32_s/u
set(0xc0, 0xc4, 'none'); // sign-extension

export const immediateOf = (op: number): Immediate | undefined => ALLOWED.get(op);

/** The feature of a refused opcode (the rule a refusal names). */
export function forbiddenRule(op: number): string {
  if (op === 0x43 || op === 0x44) return 'float';
  if (op === 0x2a || op === 0x2b || op === 0x38 || op === 0x39) return 'float';
  if ((op >= 0x5b && op <= 0x66) || (op >= 0x8b && op <= 0xa6)) return 'float';
  if ((op >= 0xa8 && op <= 0xab) || (op >= 0xae && op <= 0xbf)) return 'float';
  if (op === 0xfd) return 'simd';
  if (op === 0xfe) return 'threads';
  if (op === 0xfc) return 'bulk-memory';
  if ((op >= 0x06 && op <= 0x0a) || op === 0x18 || op === 0x19 || op === 0x1f) return 'exceptions';
  if (op === 0x12 || op === 0x13 || op === 0x15) return 'tail-calls';
  if (op === 0x1c || op === 0x25 || op === 0x26 || op === 0x14 || (op >= 0xd0 && op <= 0xd6))
    return 'reference-types';
  if (op === 0xfb) return 'gc';
  return 'unknown-opcode';
}

/** Value types: i32, i64 only (floats refused: one policy, no NaN canonicalisation). */
export const I32 = 0x7f;
export const I64 = 0x7e;

export function valueTypeRule(t: number): string {
  if (t === 0x7d || t === 0x7c) return 'float';
  if (t === 0x7b) return 'simd';
  if (t === 0x70 || t === 0x6f || t === 0x64 || t === 0x63) return 'reference-types';
  return 'malformed';
}
