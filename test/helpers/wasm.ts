/** A tiny WASM binary builder for tests (hand-assembled modules: no external tool needed). */

import { sleb64, uleb } from '../../vm/wasm/leb.js';

export { uleb };
export const sleb = (n: number): number[] => sleb64(BigInt(n));

export const vec = (items: number[][]): number[] => uleb(items.length).concat(...items);
export const name = (s: string): number[] => {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
};
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length)].concat(body);

export const I32 = 0x7f;
export const I64 = 0x7e;

export interface ModuleSpec {
  types?: { params: number[]; results: number[] }[];
  imports?: { module: string; name: string; type: number; kind?: number }[];
  funcs?: { type: number; locals?: [number, number][]; body: number[] }[];
  memory?: number[] | null;
  globals?: number[][];
  exports?: { name: string; kind: number; index: number }[];
  start?: number;
  extra?: number[][];
}

/** A module from a spec; bodies are instruction bytes without the final `end`. */
export function wasmModule(s: ModuleSpec): Uint8Array {
  let out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const add = (x: number[]) => {
    out = out.concat(x);
  };
  const types = s.types ?? [{ params: [], results: [I32] }];
  out.push(
    ...section(
      1,
      vec(types.map((t) => [0x60, ...vec(t.params.map((p) => [p])), ...vec(t.results.map((p) => [p]))])),
    ),
  );
  if (s.imports)
    out.push(
      ...section(
        2,
        vec(s.imports.map((i) => [...name(i.module), ...name(i.name), i.kind ?? 0, ...uleb(i.type)])),
      ),
    );
  const funcs = s.funcs ?? [];
  add(section(3, vec(funcs.map((f) => uleb(f.type)))));
  if (s.memory) add(section(5, s.memory));
  if (s.globals) add(section(6, vec(s.globals)));
  if (s.exports) add(section(7, vec(s.exports.map((e) => [...name(e.name), e.kind, ...uleb(e.index)]))));
  if (s.start !== undefined) add(section(8, uleb(s.start)));
  add(
    section(
      10,
      vec(
        funcs.map((f) => {
          const b = vec((f.locals ?? []).map(([n, t]) => [...uleb(n), t])).concat(f.body, [0x0b]);
          return uleb(b.length).concat(b);
        }),
      ),
    ),
  );
  for (const e of s.extra ?? []) add(e);
  return Uint8Array.from(out);
}

/** A counter-like module: a mutable global, `increment` (with a loop) and `get`, one memory page. */
export function counterModule(): Uint8Array {
  return wasmModule({
    types: [
      { params: [], results: [I32] },
      { params: [I32], results: [] },
    ],
    memory: [0x01, 0x01, 0x01, 0x01], // one memory, min 1 max 1
    globals: [[I32, 0x01, 0x41, 0x00, 0x0b]],
    funcs: [
      // get: global.get 0
      { type: 0, body: [0x23, 0x00] },
      // increment(n): loop { global += 1; n -= 1; br_if n } ; i64/sign-ext use
      {
        type: 1,
        locals: [[1, I64]],
        body: [
          0x03,
          0x40, // loop
          0x23,
          0x00,
          0x41,
          0x01,
          0x6a,
          0x24,
          0x00, // global = global + 1
          0x20,
          0x00,
          0x41,
          0x01,
          0x6b,
          0x22,
          0x00, // n = n - 1 (tee)
          0x0d,
          0x00, // br_if 0
          0x0b, // end loop
          0x42,
          ...sleb(-5),
          0xc4,
          0x21,
          0x01, // local1 = i64.extend32_s(-5)
        ],
      },
    ],
    exports: [
      { name: 'get', kind: 0, index: 0 },
      { name: 'increment', kind: 0, index: 1 },
      { name: 'memory', kind: 2, index: 0 },
    ],
  });
}

/** f(n) = n == 0 ? 0 : 1 + f(n - 1): a recursion bomb for large n. */
export function recursionModule(): Uint8Array {
  return wasmModule({
    types: [{ params: [I32], results: [I32] }],
    funcs: [
      {
        type: 0,
        body: [
          0x20,
          0x00,
          0x45,
          0x04,
          0x7f,
          0x41,
          0x00,
          0x05, // if (n == 0) 0 else
          0x41,
          0x01,
          0x20,
          0x00,
          0x41,
          0x01,
          0x6b,
          0x10,
          0x00,
          0x6a,
          0x0b, // 1 + f(n - 1)
        ],
      },
    ],
    exports: [{ name: 'f', kind: 0, index: 0 }],
  });
}

/** spin(): an infinite loop; div(a, b): a / b (traps on 0); bail(): calls env.abort. */
export function haltsModule(): Uint8Array {
  return wasmModule({
    types: [
      { params: [], results: [I32] },
      { params: [I32, I32], results: [I32] },
      { params: [], results: [] },
    ],
    imports: [{ module: 'env', name: 'abort', type: 2 }],
    funcs: [
      { type: 0, body: [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x41, 0x00] },
      { type: 1, body: [0x20, 0x00, 0x20, 0x01, 0x6d] },
      { type: 0, body: [0x10, 0x00, 0x41, 0x00] },
    ],
    exports: [
      { name: 'spin', kind: 0, index: 1 },
      { name: 'div', kind: 0, index: 2 },
      { name: 'bail', kind: 0, index: 3 },
    ],
  });
}

/** bomb(): memory.grow(1) in an endless loop (each page charged before it runs: out of gas). */
export function memoryBombModule(): Uint8Array {
  return wasmModule({
    types: [{ params: [], results: [I32] }],
    memory: [0x01, 0x01, 0x01, ...uleb(256)],
    funcs: [{ type: 0, body: [0x03, 0x40, 0x41, 0x01, 0x40, 0x00, 0x1a, 0x0c, 0x00, 0x0b, 0x41, 0x00] }],
    exports: [{ name: 'bomb', kind: 0, index: 0 }],
  });
}

/**
 * Host-call probes, "abc" at address 0 and one memory of 2 pages:
 *   burn(n): a loop of n turns          burnRead(n): the same loop, then name_owner("abc") (a chain read)
 *   emptyKey(): storage_set of an empty key    grow(): 20 storage_sets of 64 KiB values (past 1 MiB)
 *   pay(): transfer(0x00.., 1)          same(): changes nothing      touch(): sets one key
 *   sendRead(): comm_send("abc", "abc"), then name_owner("abc")
 * Imports storage_set, name_owner, transfer and comm_send (so it is for hosted instances or runCall).
 */
export function probeModule(): Uint8Array {
  const loop = [0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b];
  const nameOwner = [0x41, 0, 0x41, 3, 0x41, ...sleb(64), 0x10, 1, 0x1a];
  const big = sleb(65536);
  return wasmModule({
    types: [
      { params: [I32, I32, I32, I32], results: [] },
      { params: [I32, I32, I32], results: [I32] },
      { params: [I32, I64], results: [I32] },
      { params: [I32], results: [I32] },
      { params: [], results: [I32] },
      { params: [I32, I32, I32, I32], results: [I32] },
    ],
    imports: [
      { module: 'env', name: 'storage_set', type: 0 },
      { module: 'env', name: 'name_owner', type: 1 },
      { module: 'env', name: 'transfer', type: 2 },
      { module: 'env', name: 'comm_send', type: 5 },
    ],
    memory: [0x01, 0x00, 0x02],
    exports: [
      { name: 'memory', kind: 2, index: 0 },
      ...['burn', 'burnRead', 'emptyKey', 'grow', 'pay', 'same', 'touch', 'sendRead'].map((n, i) => ({
        name: n,
        kind: 0,
        index: 4 + i,
      })),
    ],
    funcs: [
      { type: 3, body: [...loop, 0x41, 0] },
      { type: 3, body: [...loop, ...nameOwner, 0x41, 0] },
      { type: 4, body: [0x41, 0, 0x41, 0, 0x41, 0, 0x41, 0, 0x10, 0, 0x41, 0] },
      {
        type: 4,
        locals: [[1, I32]],
        body: [
          ...[0x03, 0x40],
          ...[0x41, ...big, 0x20, 0, 0x36, 0x02, 0x00], // mem[65536] = i
          ...[0x41, ...big, 0x41, 4, 0x41, 0, 0x41, ...big, 0x10, 0], // storage_set(65536, 4, 0, 65536)
          ...[0x20, 0, 0x41, 1, 0x6a, 0x22, 0, 0x41, 20, 0x49, 0x0d, 0], // while (++i < 20)
          ...[0x0b, 0x41, 0],
        ],
      },
      { type: 4, body: [0x41, 0, 0x42, 1, 0x10, 2] },
      { type: 4, body: [0x41, 0] },
      { type: 4, body: [0x41, ...sleb(100), 0x41, 1, 0x41, ...sleb(101), 0x41, 1, 0x10, 0, 0x41, 0] },
      { type: 4, body: [0x41, 0, 0x41, 3, 0x41, 0, 0x41, 3, 0x10, 3, 0x1a, ...nameOwner, 0x41, 0] },
    ],
    extra: [section(11, [1, 0x00, 0x41, 0x00, 0x0b, 3, ...Buffer.from('abc')])],
  });
}

/** A call's environment for tests that run calls without a chain (fixed caller, app, height, time). */
export const testCallEnv = {
  caller: new Uint8Array(20).fill(1),
  self: new Uint8Array(32).fill(2),
  account: new Uint8Array(20).fill(3),
  height: 7,
  time: 1_700_000_000_000,
  input: new Uint8Array(0),
};
