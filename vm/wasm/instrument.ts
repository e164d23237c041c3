/**
 * Gas metering and a stack-height limit by instrumentation (consensus-critical; INSTRUMENTER_VERSION is
 * part of the rules and of the module-cache key). A mutable i64 global, exported as GAS_EXPORT, holds the gas left; it is
 * charged at each function entry and each loop header with the static instruction count of that
 * function or loop body (nested loops excluded: they charge their own), and the code traps when it goes
 * below zero. The host sets the budget before a call and reads what is left after it; a trap with the
 * global below zero is "out of gas". Charging a whole body up front over-charges branches not taken,
 * never under-charges a loop iteration, so every run terminates within its budget.
 *
 *
 * Stack height: a mutable i32 global (STACK_EXPORT) counts the frames' cost: around each call site
 * the caller adds the callee's frame cost (1 + params + locals + its instruction count capped at
 * MAX_OPERANDS: an upper bound of its operand stack), traps when the total passes STACK_LIMIT, and
 * subtracts it after the call. call_indirect adds the largest frame cost of the module. The limit is
 * far below what V8 needs on any tier (Liftoff, TurboFan) or stack size, so the halt is the same on
 * every node, where V8's own stack overflow would depend on the machine.
 *
 * memory.grow is charged GAS_COSTS.memoryPage per page asked, before it runs (its operand goes
 * through a temporary local the instrumenter adds to that function).
 *
 * WASM control flow is structured (no byte offsets in branches), so inserting instructions needs no
 * other rewrite: the code section is re-encoded, the global and export sections get one entry each,
 * every other section is copied as it is.
 */
import { type Code, decodeModule, type WasmModule, walkInstructions } from './decoder.js';
import { sleb64, uleb } from './leb.js';
import { GAS_COSTS } from './limits.js';
import { Reader } from './reader.js';

export const INSTRUMENTER_VERSION = 1;
export const GAS_EXPORT = '__vos_gas';
export const STACK_EXPORT = '__vos_stack';
/** Frame cost units (about 8 bytes each): 32,768 x 8 = 256 KiB of the ~1 MiB V8 stack. */
export const STACK_LIMIT = 32_768;
const MAX_OPERANDS = 256;

/** gas -= cost; if (gas < 0) unreachable */
function charge(global: number[], cost: number): number[] {
  return [
    0x23,
    ...global,
    0x42,
    ...sleb64(BigInt(cost)),
    0x7d,
    0x24,
    ...global,
    0x23,
    ...global,
    0x42,
    0x00,
    0x53,
    0x04,
    0x40,
    0x00,
    0x0b,
  ];
}

/** Where each charge goes in a body and what it charges: the function entry, then each loop header. */
function meteringPoints(bytes: Uint8Array, code: Code): { at: number; cost: number }[] {
  const points = [{ at: code.start, cost: 0 }];
  const open: number[] = [0]; // index into points of the innermost metering frame
  const blocks: boolean[] = []; // per open block: is it a loop
  walkInstructions(bytes, code, (op, _at, after) => {
    points[open[open.length - 1]].cost++;
    if (op === 0x02 || op === 0x04) blocks.push(false);
    else if (op === 0x03) {
      blocks.push(true);
      points.push({ at: after, cost: 0 });
      open.push(points.length - 1);
    } else if (op === 0x0b && blocks.length > 0 && blocks.pop()) open.pop();
  });
  return points;
}

function section(id: number, body: number[] | Uint8Array): number[] {
  return [id, ...uleb(body.length)].concat(Array.from(body));
}

/** The entries of a vector section after its count. */
function entries(bytes: Uint8Array, s: { start: number; end: number }): { n: number; raw: Uint8Array } {
  const r = new Reader(bytes, s.start, s.end);
  const n = r.u32();
  return { n, raw: bytes.subarray(r.pos, s.end) };
}

/** The frame cost of each function index (imports: 0, the host's frames are not counted). */
function frameCosts(bytes: Uint8Array, m: WasmModule): number[] {
  const costs = m.imports.map(() => 0);
  for (const [i, code] of m.codes.entries()) {
    let n = 0;
    walkInstructions(bytes, code, () => {
      n++;
    });
    const locals = code.locals.reduce((a, l) => a + l.count, 0);
    costs.push(1 + m.types[m.functions[i]].params.length + locals + Math.min(n, MAX_OPERANDS));
  }
  return costs;
}

/** sh += cost; if (sh > STACK_LIMIT) unreachable */
function enter(sh: number[], cost: number): number[] {
  return [
    0x23,
    ...sh,
    0x41,
    ...sleb64(BigInt(cost)),
    0x6a,
    0x24,
    ...sh,
    0x23,
    ...sh,
    0x41,
    ...sleb64(BigInt(STACK_LIMIT)),
    0x4b,
    0x04,
    0x40,
    0x00,
    0x0b,
  ];
}

/** sh -= cost */
function leave(sh: number[], cost: number): number[] {
  return [0x23, ...sh, 0x41, ...sleb64(BigInt(cost)), 0x6b, 0x24, ...sh];
}

/** pages -> t; gas -= t x memoryPage; if (gas < 0) unreachable; t -> pages */
function growCharge(gas: number[], t: number[]): number[] {
  return [
    0x21,
    ...t,
    0x23,
    ...gas,
    0x20,
    ...t,
    0xad,
    0x42,
    ...sleb64(BigInt(GAS_COSTS.memoryPage)),
    0x7e,
    0x7d,
    0x24,
    ...gas,
    0x23,
    ...gas,
    0x42,
    0x00,
    0x53,
    0x04,
    0x40,
    0x00,
    0x0b,
    0x20,
    ...t,
  ];
}

/** Reads the u32 callee index of a `call` whose opcode is at `at`. */
function calleeAt(bytes: Uint8Array, at: number): number {
  return new Reader(bytes, at + 1).u32();
}

export function instrument(bytes: Uint8Array, m: WasmModule = decodeModule(bytes)): Uint8Array {
  const g = m.globals.length; // no imported globals: the new ones come last
  const gIdx = uleb(g);
  const shIdx = uleb(g + 1);
  const costs = frameCosts(bytes, m);
  const maxCost = Math.max(1, ...costs);
  const parts: number[][] = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
  // The gas global (i64) and the stack-height global (i32), both exported for the host.
  const newGlobal = [0x7e, 0x01, 0x42, 0x00, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b];
  const exportOf = (n: string, idx: number[]) => {
    const b = [...Buffer.from(n, 'utf8')];
    return [...uleb(b.length), ...b, 0x03, ...idx];
  };
  const newExport = [...exportOf(GAS_EXPORT, gIdx), ...exportOf(STACK_EXPORT, shIdx)];
  const has = (id: number) => m.sections.some((s) => s.id === id);
  // Sections in order; the global (6) and export (7) sections are created when missing.
  const ORDER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  let inserted = { 6: has(6), 7: has(7) };
  const emitMissing = (before: number) => {
    if (!inserted[6] && before > 6) {
      parts.push(section(6, [...uleb(2), ...newGlobal]));
      inserted = { ...inserted, 6: true };
    }
    if (!inserted[7] && before > 7) {
      parts.push(section(7, [...uleb(2), ...newExport]));
      inserted = { ...inserted, 7: true };
    }
  };
  for (const s of m.sections) {
    if (s.id !== 0) emitMissing(ORDER.indexOf(s.id) + 1);
    const content = bytes.subarray(s.start, s.end);
    if (s.id === 6 || s.id === 7) {
      const { n, raw } = entries(bytes, s);
      const extra = s.id === 6 ? newGlobal : newExport;
      parts.push(section(s.id, [...uleb(n + 2), ...raw, ...extra]));
    } else if (s.id === 10) {
      const bodies: number[] = uleb(m.codes.length);
      for (const [ci, code] of m.codes.entries()) {
        // Insertions by position: gas charges before the instruction at `at`, calls wrapped.
        const edits: { at: number; before: number[]; after?: { end: number; bytes: number[] } }[] = [];
        for (const p of meteringPoints(bytes, code)) edits.push({ at: p.at, before: charge(gIdx, p.cost) });
        // A temporary i32 local for memory.grow's charge, after the declared ones.
        const declared = code.locals.reduce((a, l) => a + l.count, 0);
        const tmp = uleb(m.types[m.functions[ci]].params.length + declared);
        let grows = false;
        walkInstructions(bytes, code, (op, at, after) => {
          if (op === 0x40) {
            grows = true;
            edits.push({ at, before: growCharge(gIdx, tmp) });
            return;
          }
          if (op !== 0x10 && op !== 0x11) return;
          const cost = op === 0x10 ? (costs[calleeAt(bytes, at)] ?? maxCost) : maxCost;
          if (cost === 0) return; // a host function
          edits.push({ at, before: enter(shIdx, cost), after: { end: after, bytes: leave(shIdx, cost) } });
        });
        // A loop header (or the entry) and a call may share a position: the charge goes first, then
        // the call's enter, the call, its leave.
        edits.sort((a, b) => a.at - b.at || (a.after === undefined ? -1 : 1));
        let out: number[];
        if (grows) {
          const r = new Reader(bytes, code.declStart, code.start);
          const groups = r.u32();
          out = [...uleb(groups + 1), ...bytes.subarray(r.pos, code.start), 0x01, 0x7f];
        } else out = [...bytes.subarray(code.declStart, code.start)];
        let pos = code.start;
        for (const e of edits) {
          for (let i = pos; i < e.at; i++) out.push(bytes[i]); // PERF: a byte loop, no spread of a body
          pos = e.at;
          for (const b of e.before) out.push(b);
          if (e.after !== undefined) {
            for (let i = pos; i < e.after.end; i++) out.push(bytes[i]);
            pos = e.after.end;
            for (const b of e.after.bytes) out.push(b);
          }
        }
        for (let i = pos; i < code.end; i++) out.push(bytes[i]);
        // PERF: one push per byte into one array (a concat per body copied all bodies so far: quadratic).
        for (const b of uleb(out.length)) bodies.push(b);
        for (const b of out) bodies.push(b);
      }
      parts.push(section(10, bodies));
    } else parts.push(section(s.id, content));
  }
  emitMissing(12);
  return Uint8Array.from(parts.flat());
}
