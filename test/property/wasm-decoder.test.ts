/**
 * Fuzzing the consensus-path WASM decoder (vm/wasm/decoder.ts), fast-check with printed seeds: random
 * bytes, random bytes behind a valid header, and valid modules with bytes flipped, inserted, removed or
 * truncated. The decoder either returns a module or throws a WasmError (a code and a rule): never
 * another exception, never a hang (each case is bounded by the module size). A module it accepts
 * instruments into one it accepts again, and that V8 validates whenever V8 validates the original.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeModule } from '../../vm/wasm/decoder.js';
import { WasmError } from '../../vm/wasm/errors.js';
import { instrument } from '../../vm/wasm/instrument.js';
import { propertyParams } from '../fc-params.js';
import { counterModule, haltsModule, recursionModule } from '../helpers/wasm.js';

const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function outcome(bytes: Uint8Array): 'ok' | string {
  try {
    decodeModule(bytes);
    return 'ok';
  } catch (err) {
    if (err instanceof WasmError) return `${err.code}/${err.rule}`;
    throw err;
  }
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('remove' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(base: Uint8Array, ms: { op: string; at: number; value: number }[]): Uint8Array {
  let b = Array.from(base);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.op === 'flip') b[at] = m.value;
    else if (m.op === 'insert') b.splice(at, 0, m.value);
    else if (m.op === 'remove') b.splice(at, 1);
    else b = b.slice(0, at);
  }
  return Uint8Array.from(b);
}

describe('WASM decoder fuzz', () => {
  it('random bytes: a module or a WasmError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (rest, withHeader) => {
        const bytes = withHeader ? Uint8Array.from([...HEADER, ...rest]) : rest;
        expect(typeof outcome(bytes)).toBe('string');
      }),
      propertyParams('wasm random bytes', 2000),
    );
  });

  it('mutated valid modules: a module or a WasmError', () => {
    const bases = [counterModule(), haltsModule(), recursionModule()];
    for (const b of bases) expect(outcome(b)).toBe('ok');
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.nat(2), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, ms) => {
        const bytes = mutate(bases[which], ms);
        const r = outcome(bytes);
        seen.add(r);
        expect(typeof r).toBe('string');
        if (r === 'ok') {
          const metered = instrument(bytes);
          expect(outcome(metered)).toBe('ok');
          if (wasm.validate(bytes)) expect(wasm.validate(metered)).toBe(true);
        }
      }),
      propertyParams('wasm mutated modules', 3000),
    );
    // The mutations reach more than the header check.
    expect(seen.size).toBeGreaterThan(3);
  });
});
