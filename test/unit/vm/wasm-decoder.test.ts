/**
 * The consensus-path WASM decoder (vm/wasm/decoder.ts): a valid module decodes (and V8 accepts it);
 * each feature outside the allowlist and each static limit is refused with its rule named; malformed
 * bytes are WASM_MALFORMED. Hand-assembled modules (test/helpers/wasm.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { decodeModule } from '../../../vm/wasm/decoder.js';
import { WasmError } from '../../../vm/wasm/errors.js';
import { WASM_LIMITS } from '../../../vm/wasm/limits.js';
import { counterModule, I32, I64, section, uleb, wasmModule } from '../../helpers/wasm.js';

function refusal(bytes: Uint8Array): { code: string; rule: string } {
  try {
    decodeModule(bytes);
  } catch (err) {
    if (err instanceof WasmError) return { code: err.code, rule: err.rule };
    throw err;
  }
  throw new Error('the module was accepted');
}

const fn = (body: number[], type = 0) => ({ funcs: [{ type, body }] });

describe('WASM decoder', () => {
  it('decodes a valid module that V8 also accepts, with its loops and nesting', async () => {
    const bytes = counterModule();
    const m = decodeModule(bytes);
    expect(m.types).toHaveLength(2);
    expect(m.functions).toEqual([0, 1]);
    expect(m.memory).toEqual({ min: 1, max: 1 });
    expect(m.exports.map((e) => e.name)).toEqual(['get', 'increment', 'memory']);
    expect(m.codes[1].loops).toHaveLength(1);
    expect(m.codes[1].depth).toBe(2);
    const wasm = (
      globalThis as unknown as {
        WebAssembly: { instantiate(b: Uint8Array): Promise<{ instance: { exports: unknown } }> };
      }
    ).WebAssembly;
    const { instance } = await wasm.instantiate(bytes);
    const ex = instance.exports as { get(): number; increment(n: number): void };
    ex.increment(3);
    expect(ex.get()).toBe(3);
  });

  it.each([
    ['float', 'a float value type', wasmModule({ types: [{ params: [0x7d], results: [] }], ...fn([], 0) })],
    ['float', 'an f64.const', wasmModule(fn([0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, 0x41, 0x00]))],
    ['float', 'an f32 add', wasmModule(fn([0x41, 0x00, 0x92]))],
    ['simd', 'a SIMD instruction', wasmModule(fn([0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x41, 0]))],
    ['threads', 'an atomic instruction', wasmModule(fn([0xfe, 0x03, 0x00, 0x41, 0]))],
    [
      'bulk-memory',
      'memory.fill',
      wasmModule({ memory: [1, 0, 1], ...fn([0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0b, 0x00, 0x41, 0]) }),
    ],
    ['reference-types', 'ref.null', wasmModule(fn([0xd0, 0x70, 0x1a, 0x41, 0]))],
    ['exceptions', 'a try block', wasmModule(fn([0x06, 0x40, 0x0b, 0x41, 0]))],
    ['tail-calls', 'return_call', wasmModule(fn([0x12, 0x00]))],
    [
      'multi-value',
      'two results',
      wasmModule({ types: [{ params: [], results: [I32, I32] }], ...fn([0x41, 0, 0x41, 0]) }),
    ],
    [
      'start',
      'a start function',
      wasmModule({ ...fn([0x41, 0]), types: [{ params: [], results: [] }], start: 0 }),
    ],
    [
      'import-module',
      'an import from another module',
      wasmModule({ imports: [{ module: 'wasi', name: 'x', type: 0 }] }),
    ],
    [
      'import-kind',
      'an imported memory',
      wasmModule({ imports: [{ module: 'env', name: 'm', type: 0, kind: 2 }] }),
    ],
    ['multi-memory', 'two memories', wasmModule({ memory: [2, 0, 1, 0, 1] })],
    ['memory64', 'a 64-bit memory', wasmModule({ memory: [1, 0x04, 1] })],
    ['threads', 'a shared memory', wasmModule({ memory: [1, 0x03, 1, 1] })],
  ])('refuses %s: %s', (rule, _what, bytes) => {
    expect(refusal(bytes)).toEqual({ code: 'WASM_FORBIDDEN', rule });
  });

  it('refuses what is over a static limit, naming the limit', () => {
    const pages = WASM_LIMITS.memoryPages + 1;
    expect(refusal(wasmModule({ memory: [1, 0, ...uleb(pages)] }))).toEqual({
      code: 'WASM_LIMIT',
      rule: 'memory-pages',
    });
    const deep = WASM_LIMITS.nesting + 5;
    const nested = [...Array(deep).fill([0x02, 0x40]).flat(), ...Array(deep).fill(0x0b), 0x41, 0];
    expect(refusal(wasmModule(fn(nested)))).toEqual({ code: 'WASM_LIMIT', rule: 'nesting' });
    const targets = WASM_LIMITS.brTable + 1;
    const table = [0x02, 0x40, 0x41, 0, 0x0e, ...uleb(targets), ...Array(targets + 1).fill(0), 0x0b, 0x41, 0];
    expect(refusal(wasmModule(fn(table)))).toEqual({ code: 'WASM_LIMIT', rule: 'br-table-size' });
    const locals = {
      funcs: [{ type: 0, locals: [[WASM_LIMITS.locals + 1, I64] as [number, number]], body: [0x41, 0] }],
    };
    expect(refusal(wasmModule(locals))).toEqual({ code: 'WASM_LIMIT', rule: 'locals' });
    const huge = new Uint8Array(WASM_LIMITS.moduleBytes + 1);
    expect(refusal(huge)).toEqual({ code: 'WASM_LIMIT', rule: 'module-size' });
    const nops = new Array(WASM_LIMITS.bodyBytes).fill(0x01).concat([0x41, 0]);
    const big = wasmModule({ funcs: [{ type: 0, body: nops }] });
    expect(refusal(big)).toEqual({ code: 'WASM_LIMIT', rule: 'body-size' });
  });

  it('malformed bytes are WASM_MALFORMED, never another error', () => {
    const good = counterModule();
    expect(refusal(new Uint8Array([1, 2, 3])).code).toBe('WASM_MALFORMED');
    expect(refusal(good.subarray(0, good.length - 3)).code).toBe('WASM_MALFORMED');
    const badMagic = Uint8Array.from(good);
    badMagic[1] = 0x62;
    expect(refusal(badMagic).code).toBe('WASM_MALFORMED');
    // Sections out of order: the memory section after the code section.
    expect(refusal(Uint8Array.from([...good, ...section(5, [1, 0, 1])])).code).toBe('WASM_MALFORMED');
    // An unknown opcode.
    expect(refusal(wasmModule(fn([0xc5]))).rule).toBe('unknown-opcode');
  });
});
