/**
 * Our own WASM decoder and allowlist validator (consensus path: no external WASM tool here). It
 * decodes the module structure and every instruction of every body, and refuses, with the rule named:
 * anything outside MVP + sign-extension (floats, SIMD, threads, bulk memory, reference types,
 * exceptions, tail calls, memory64, multi-memory, multi-value), a start function, imports from another
 * module than `env` or of anything but functions, and everything over WASM_LIMITS. Type checking of the
 * operand stack is left to V8's compiler (a module it refuses is a deploy error, the same on every
 * node); what is checked here is what determinism and the instrumenter need.
 *
 * Cheap checks first: size, header, section order, counts, then the bodies.
 */
import { WasmError } from './errors.js';
import { WASM_LIMITS as L, RESERVED_LOCALS } from './limits.js';
import { forbiddenRule, I32, I64, immediateOf, valueTypeRule } from './opcodes.js';
import { Reader } from './reader.js';

export type ValType = typeof I32 | typeof I64;

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface Import {
  module: string;
  name: string;
  type: number;
}

export interface Export {
  name: string;
  kind: 'func' | 'table' | 'memory' | 'global';
  index: number;
}

export interface Global {
  type: ValType;
  mutable: boolean;
  /** Offset of the init expression in the module bytes. */
  init: { start: number; end: number };
}

export interface Code {
  /** Where the body's local declarations begin (after its size). */
  declStart: number;
  locals: { count: number; type: ValType }[];
  /** The body's instructions: [start, end) in the module bytes. */
  start: number;
  end: number;
  /** Offsets just after each `loop`'s block type (where a loop header's metering goes). */
  loops: number[];
  /** Deepest block nesting in the body. */
  depth: number;
}

export interface WasmModule {
  types: FuncType[];
  imports: Import[];
  /** Type index of each function defined by the module (after the imported ones). */
  functions: number[];
  table: { min: number; max?: number } | null;
  memory: { min: number; max?: number } | null;
  globals: Global[];
  exports: Export[];
  elements: { offset: { start: number; end: number }; funcs: number[] }[];
  codes: Code[];
  data: { offset: { start: number; end: number }; start: number; end: number }[];
  /** Custom sections by name (kept as byte ranges; they do not affect execution). */
  customs: { name: string; start: number; end: number }[];
  /** Every section in order: id and the byte range of its contents. */
  sections: { id: number; start: number; end: number }[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const VERSION = [0x01, 0x00, 0x00, 0x00];

const forbidden = (rule: string, at: number, message: string): never => {
  throw new WasmError('WASM_FORBIDDEN', rule, at, message);
};
const limit = (rule: string, at: number, message: string): never => {
  throw new WasmError('WASM_LIMIT', rule, at, message);
};

function count(r: Reader, max: number, rule: string, what: string): number {
  const at = r.pos;
  const n = r.u32();
  if (n > max) limit(rule, at, `${n} ${what} (at most ${max})`);
  return n;
}

function valType(r: Reader): ValType {
  const at = r.pos;
  const t = r.u8();
  if (t === I32 || t === I64) return t;
  const rule = valueTypeRule(t);
  if (rule === 'malformed') r.fail(`value type 0x${t.toString(16)}`);
  return forbidden(rule, at, `value type 0x${t.toString(16)}`);
}

function limits(r: Reader, what: 'memory' | 'table', maxAllowed: number): { min: number; max?: number } {
  const at = r.pos;
  const flags = r.u8();
  if (what === 'memory' && (flags & 0x02) !== 0) forbidden('threads', at, 'a shared memory');
  if (what === 'memory' && (flags & 0x04) !== 0) forbidden('memory64', at, 'a 64-bit memory');
  if (flags > 1) r.fail(`limits flags 0x${flags.toString(16)}`);
  const min = r.u32();
  const max = flags === 1 ? r.u32() : undefined;
  if (max !== undefined && max < min) r.fail(`${what} maximum below its minimum`);
  const rule = what === 'memory' ? 'memory-pages' : 'table-size';
  if (min > maxAllowed || (max !== undefined && max > maxAllowed))
    limit(rule, at, `a ${what} of ${max ?? min} (at most ${maxAllowed})`);
  return max === undefined ? { min } : { min, max };
}

/** A constant expression: one i32.const / i64.const / global.get, then end. */
function constExpr(r: Reader): { start: number; end: number } {
  const start = r.pos;
  const at = r.pos;
  const op = r.u8();
  if (op === 0x41) r.sleb(32);
  else if (op === 0x42) r.sleb(64);
  else if (op === 0x23) r.u32();
  else if (op === 0x43 || op === 0x44) forbidden('float', at, 'a float constant');
  else r.fail(`opcode 0x${op.toString(16)} in a constant expression`);
  if (r.u8() !== 0x0b) r.fail('a constant expression of more than one instruction');
  return { start, end: r.pos };
}

function blockType(r: Reader): void {
  const at = r.pos;
  const b = r.bytes[r.pos];
  if (b === 0x40 || b === I32 || b === I64) {
    r.pos++;
    return;
  }
  if (b === 0x7d || b === 0x7c || b === 0x7b || b === 0x70 || b === 0x6f) {
    valType(r);
    return;
  }
  // A type index (s33): multi-value blocks.
  r.sleb(64);
  forbidden('multi-value', at, 'a block with a type index');
}

/** Called for each instruction: its opcode, where it starts and where its immediates end. */
export type OnInstruction = (op: number, at: number, after: number) => void;

/**
 * Decode and check one function body's instructions; returns loop offsets and the deepest nesting.
 * PERF: one pass, no allocation per instruction (the visitor is optional).
 */
function body(r: Reader, end: number, onOp?: OnInstruction): { loops: number[]; depth: number } {
  const loops: number[] = [];
  let depth = 1; // the function's own block
  let deepest = 1;
  while (r.pos < end) {
    const at = r.pos;
    const op = r.u8();
    const imm = immediateOf(op);
    if (imm === undefined) {
      const rule = forbiddenRule(op);
      if (rule === 'unknown-opcode') r.fail(`opcode 0x${op.toString(16)}`, 'unknown-opcode');
      forbidden(rule, at, `opcode 0x${op.toString(16)}`);
    }
    switch (imm) {
      case 'none':
        if (op === 0x0b) {
          depth--;
          if (depth === 0) {
            if (r.pos !== end) r.fail('instructions after the function end');
            onOp?.(op, at, r.pos);
            return { loops, depth: deepest };
          }
        } else if (op === 0x05 && depth < 2) r.fail('else outside if');
        break;
      case 'block':
        blockType(r);
        depth++;
        if (depth > L.nesting) limit('nesting', at, `blocks nested ${depth} deep (at most ${L.nesting})`);
        if (depth > deepest) deepest = depth;
        if (op === 0x03) loops.push(r.pos);
        break;
      case 'label':
      case 'func':
      case 'local':
      case 'global':
        r.u32();
        break;
      case 'br_table': {
        const n = count(r, L.brTable, 'br-table-size', 'br_table targets');
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case 'call_indirect':
        r.u32();
        if (r.u8() !== 0x00) forbidden('reference-types', at, 'call_indirect on a table other than 0');
        break;
      case 'memarg': {
        const align = r.u32();
        if (align & 0x40) forbidden('multi-memory', at, 'a memory index in a memarg');
        if (align > 3) r.fail(`alignment 2^${align}`);
        r.u32();
        break;
      }
      case 'memory':
        if (r.u8() !== 0x00) forbidden('multi-memory', at, 'a memory other than 0');
        break;
      case 'i32':
        r.sleb(32);
        break;
      case 'i64':
        r.sleb(64);
        break;
    }
    onOp?.(op, at, r.pos);
  }
  return r.fail('a function body without its end');
}

/** Walk the instructions of a decoded module's function body (code.start .. code.end). */
export function walkInstructions(bytes: Uint8Array, code: Code, onOp: OnInstruction): void {
  body(new Reader(bytes, code.start, code.end), code.end, onOp);
}

const SECTION_ORDER: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 7,
  8: 8,
  9: 9,
  10: 11,
  11: 12,
};

export function decodeModule(bytes: Uint8Array): WasmModule {
  if (bytes.length > L.moduleBytes)
    limit('module-size', 0, `${bytes.length} bytes (at most ${L.moduleBytes})`);
  const r = new Reader(bytes);
  const head = r.take(8);
  if (!MAGIC.every((b, i) => head[i] === b)) r.fail('not a WASM module (magic)');
  if (!VERSION.every((b, i) => head[4 + i] === b)) r.fail('not WASM version 1');
  const m: WasmModule = {
    types: [],
    imports: [],
    functions: [],
    table: null,
    memory: null,
    globals: [],
    exports: [],
    elements: [],
    codes: [],
    data: [],
    customs: [],
    sections: [],
  };
  let last = 0;
  while (!r.done) {
    const at = r.pos;
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail('a section past the end');
    m.sections.push({ id, start: r.pos, end });
    if (id === 0) {
      const name = r.name(L.nameBytes);
      m.customs.push({ name, start: r.pos, end });
      r.pos = end;
      continue;
    }
    if (id === 12) forbidden('bulk-memory', at, 'a data count section');
    if (id === 13) forbidden('exceptions', at, 'a tag section');
    const order = SECTION_ORDER[id];
    if (order === undefined) r.fail(`section id ${id}`);
    if (order <= last) r.fail(`section ${id} out of order or repeated`);
    last = order;
    const s = new Reader(bytes, r.pos, end);
    section(s, id, m);
    if (s.pos !== end) s.fail(`section ${id} has trailing bytes`);
    r.pos = end;
  }
  if (m.functions.length !== m.codes.length)
    r.fail(`${m.functions.length} functions declared, ${m.codes.length} bodies`);
  segmentsFit(bytes, m);
  return m;
}

/** A segment's offset: an i32.const (as u32), the only form a module without imported globals has. */
function segmentOffset(bytes: Uint8Array, e: { start: number; end: number }): number {
  const r = new Reader(bytes, e.start, e.end);
  if (r.u8() !== 0x41) forbidden('segment-offset', e.start, 'a segment offset that is not i32.const');
  return Number(BigInt.asUintN(32, r.sleb(32)));
}

/**
 * Active data and element segments must fit the memory and table they start with: instantiating a
 * module whose segment does not fit fails, so it is refused here, at deploy, with a rule to name.
 */
function segmentsFit(bytes: Uint8Array, m: WasmModule): void {
  const memBytes = (m.memory?.min ?? 0) * 65536;
  for (const d of m.data) {
    const at = segmentOffset(bytes, d.offset);
    if (m.memory === null || at + (d.end - d.start) > memBytes)
      limit(
        'segment-bounds',
        d.offset.start,
        `a data segment at ${at} past the initial memory (${memBytes} bytes)`,
      );
  }
  const funcs = m.imports.length + m.functions.length;
  for (const e of m.elements) {
    const at = segmentOffset(bytes, e.offset);
    if (m.table === null || at + e.funcs.length > m.table.min)
      limit(
        'segment-bounds',
        e.offset.start,
        `an element segment at ${at} past the initial table (${m.table?.min ?? 0})`,
      );
    const bad = e.funcs.find((f) => f >= funcs);
    if (bad !== undefined)
      throw new WasmError(
        'WASM_MALFORMED',
        'malformed',
        e.offset.start,
        `function index ${bad} in an element segment`,
      );
  }
}

/**
 * Only the type and import sections of a module deployed before (decodeModule checked it whole):
 * what instantiating and migrating need to know, without decoding the code.
 * PERF: skips every other section by its size.
 */
export function decodeImports(bytes: Uint8Array): Pick<WasmModule, 'types' | 'imports'> {
  const m = { types: [], imports: [] } as unknown as WasmModule;
  const r = new Reader(bytes, 8);
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) r.fail('a section past the end');
    if (id === 1 || id === 2) section(new Reader(bytes, r.pos, end), id, m);
    if (id > 2) break;
    r.pos = end;
  }
  return { types: m.types, imports: m.imports };
}

function section(r: Reader, id: number, m: WasmModule): void {
  switch (id) {
    case 1: {
      const n = count(r, L.types, 'types', 'types');
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        if (r.u8() !== 0x60) r.fail('a type that is not a function type', 'malformed');
        const params = Array.from({ length: count(r, L.params, 'params', 'params') }, () => valType(r));
        const nr = r.u32();
        if (nr > 1) forbidden('multi-value', at, `a function with ${nr} results`);
        const results = Array.from({ length: nr }, () => valType(r));
        m.types.push({ params, results });
      }
      return;
    }
    case 2: {
      const n = count(r, L.imports, 'imports', 'imports');
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const module = r.name(L.nameBytes);
        const name = r.name(L.nameBytes);
        if (module !== 'env') forbidden('import-module', at, `an import from "${module}" (only "env")`);
        const kind = r.u8();
        if (kind !== 0x00) forbidden('import-kind', at, 'an import of a table, memory or global');
        const type = r.u32();
        if (type >= m.types.length) r.fail(`type index ${type}`);
        m.imports.push({ module, name, type });
      }
      return;
    }
    case 3: {
      const n = count(r, L.functions, 'functions', 'functions');
      for (let i = 0; i < n; i++) {
        const t = r.u32();
        if (t >= m.types.length) r.fail(`type index ${t}`);
        m.functions.push(t);
      }
      return;
    }
    case 4: {
      const n = count(r, L.tables, 'tables', 'tables');
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const t = r.u8();
        if (t !== 0x70) forbidden('reference-types', at, 'a table of another type than funcref');
        m.table = limits(r, 'table', L.tableElements);
      }
      return;
    }
    case 5: {
      const at = r.pos;
      const n = r.u32();
      if (n > 1) forbidden('multi-memory', at, `${n} memories`);
      if (n === 1) m.memory = limits(r, 'memory', L.memoryPages);
      return;
    }
    case 6: {
      const n = count(r, L.globals, 'globals', 'globals');
      for (let i = 0; i < n; i++) {
        const type = valType(r);
        const mut = r.u8();
        if (mut > 1) r.fail('global mutability');
        m.globals.push({ type, mutable: mut === 1, init: constExpr(r) });
      }
      return;
    }
    case 7: {
      const n = count(r, L.exports, 'exports', 'exports');
      const names = new Set<string>();
      for (let i = 0; i < n; i++) {
        const name = r.name(L.nameBytes);
        if (names.has(name)) r.fail(`export "${name}" twice`);
        names.add(name);
        const k = r.u8();
        const kind = (['func', 'table', 'memory', 'global'] as const)[k];
        if (kind === undefined) r.fail(`export kind ${k}`);
        m.exports.push({ name, kind, index: r.u32() });
      }
      return;
    }
    case 8:
      forbidden('start', r.pos, 'a start function (calls run only through exports, metered)');
      return;
    case 9: {
      const n = count(r, L.elementSegments, 'element-segments', 'element segments');
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const flags = r.u32();
        if (flags !== 0) forbidden('bulk-memory', at, `an element segment of kind ${flags}`);
        const offset = constExpr(r);
        const k = count(r, L.tableElements, 'table-size', 'elements');
        m.elements.push({ offset, funcs: Array.from({ length: k }, () => r.u32()) });
      }
      return;
    }
    case 10: {
      const n = r.u32();
      if (n !== m.functions.length) r.fail(`${n} bodies for ${m.functions.length} functions`);
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const size = r.u32();
        if (size > L.bodyBytes) limit('body-size', at, `a body of ${size} bytes (at most ${L.bodyBytes})`);
        const end = r.pos + size;
        if (end > r.end) r.fail('a body past the section');
        const declStart = r.pos;
        const b = new Reader(r.bytes, r.pos, end);
        const groups = b.u32();
        const locals: Code['locals'] = [];
        let total = 0;
        for (let g = 0; g < groups; g++) {
          const gAt = b.pos;
          const c = b.u32();
          total += c;
          const max = L.locals - RESERVED_LOCALS;
          if (total > max) limit('locals', gAt, `${total} locals (at most ${max})`);
          locals.push({ count: c, type: valType(b) });
        }
        const start = b.pos;
        const { loops, depth } = body(b, end);
        m.codes.push({ declStart, locals, start, end, loops, depth });
        r.pos = end;
      }
      return;
    }
    case 11: {
      const n = count(r, L.dataSegments, 'data-segments', 'data segments');
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const flags = r.u32();
        if (flags !== 0) forbidden('bulk-memory', at, `a data segment of kind ${flags}`);
        const offset = constExpr(r);
        const len = r.u32();
        const start = r.pos;
        r.take(len);
        m.data.push({ offset, start, end: r.pos });
      }
      return;
    }
  }
}
