/**
 * Gas metering by instrumentation (consensus-critical; INSTRUMENTER_VERSION is part of the rules and
 * of the module-cache key). A mutable i64 global, exported as GAS_EXPORT, holds the gas left; it is
 * charged at each function entry and each loop header with the static instruction count of that
 * function or loop body (nested loops excluded: they charge their own), and the code traps when it goes
 * below zero. The host sets the budget before a call and reads what is left after it; a trap with the
 * global below zero is "out of gas". Charging a whole body up front over-charges branches not taken,
 * never under-charges a loop iteration, so every run terminates within its budget.
 *
 * WASM control flow is structured (no byte offsets in branches), so inserting instructions needs no
 * other rewrite: the code section is re-encoded, the global and export sections get one entry each,
 * every other section is copied as it is.
 */
import { type Code, decodeModule, type WasmModule, walkInstructions } from './decoder.js';
import { Reader } from './reader.js';

export const INSTRUMENTER_VERSION = 1;
export const GAS_EXPORT = '__vos_gas';

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb64(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

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

export function instrument(bytes: Uint8Array, m: WasmModule = decodeModule(bytes)): Uint8Array {
  const g = m.globals.length; // no imported globals: the new one comes last
  const gIdx = uleb(g);
  const parts: number[][] = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
  const newGlobal = [0x7e, 0x01, 0x42, 0x00, 0x0b];
  const name = [...Buffer.from(GAS_EXPORT, 'utf8')];
  const newExport = [...uleb(name.length), ...name, 0x03, ...gIdx];
  const has = (id: number) => m.sections.some((s) => s.id === id);
  // Sections in order; the global (6) and export (7) sections are created when missing.
  const ORDER = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  let inserted = { 6: has(6), 7: has(7) };
  const emitMissing = (before: number) => {
    if (!inserted[6] && before > 6) {
      parts.push(section(6, [...uleb(1), ...newGlobal]));
      inserted = { ...inserted, 6: true };
    }
    if (!inserted[7] && before > 7) {
      parts.push(section(7, [...uleb(1), ...newExport]));
      inserted = { ...inserted, 7: true };
    }
  };
  for (const s of m.sections) {
    if (s.id !== 0) emitMissing(ORDER.indexOf(s.id) + 1);
    const content = bytes.subarray(s.start, s.end);
    if (s.id === 6 || s.id === 7) {
      const { n, raw } = entries(bytes, s);
      const extra = s.id === 6 ? newGlobal : newExport;
      parts.push(section(s.id, [...uleb(n + 1), ...raw, ...extra]));
    } else if (s.id === 10) {
      let bodies: number[] = uleb(m.codes.length);
      for (const code of m.codes) {
        const points = meteringPoints(bytes, code);
        const out: number[] = [...bytes.subarray(code.declStart, code.start)];
        let pos = code.start;
        for (const p of points) {
          for (let i = pos; i < p.at; i++) out.push(bytes[i]); // PERF: a byte loop, no spread of a body
          pos = p.at;
          out.push(...charge(gIdx, p.cost));
        }
        for (let i = pos; i < code.end; i++) out.push(bytes[i]);
        bodies = bodies.concat(uleb(out.length), out); // PERF: concat, not push(...): bodies reach 256 KiB
      }
      parts.push(section(10, bodies));
    } else parts.push(section(s.id, content));
  }
  emitMissing(12);
  return Uint8Array.from(parts.flat());
}
