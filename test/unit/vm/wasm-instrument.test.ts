/**
 * Gas metering by instrumentation (vm/wasm/instrument.ts): the instrumented module is valid for our
 * decoder and for V8, computes what the original computes, charges the same gas for the same call every
 * time (deterministic), charges more for more loop iterations, and an infinite loop halts when the gas
 * runs out (a trap with the gas global below zero) instead of running forever.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeModule } from '../../../vm/wasm/decoder.js';
import { GAS_EXPORT, instrument, STACK_EXPORT, STACK_LIMIT } from '../../../vm/wasm/instrument.js';
import { GAS_COSTS } from '../../../vm/wasm/limits.js';
import { counterModule, I32, recursionModule, wasmModule } from '../../helpers/wasm.js';

interface Gas {
  value: bigint;
}
type WA = {
  instantiate(b: Uint8Array, imports?: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
};
const wasm = (globalThis as unknown as { WebAssembly: WA }).WebAssembly;

async function load(bytes: Uint8Array) {
  const { instance } = await wasm.instantiate(bytes);
  return instance.exports;
}

describe('gas instrumentation', () => {
  it('keeps the results, charges deterministically and more for more iterations', async () => {
    const original = counterModule();
    const metered = instrument(original);
    expect(() => decodeModule(metered)).not.toThrow();
    const plain = (await load(original)) as { increment(n: number): void; get(): number };
    const ex = (await load(metered)) as { increment(n: number): void; get(): number } & Record<string, Gas>;
    const gas = ex[GAS_EXPORT];
    const used = (n: number) => {
      gas.value = 1_000_000n;
      ex.increment(n);
      return 1_000_000n - gas.value;
    };
    const u10 = used(10);
    expect(used(10)).toBe(u10);
    expect(used(20)).toBeGreaterThan(u10);
    plain.increment(40);
    expect(ex.get()).toBe(plain.get());
  });

  it('an infinite loop halts when the gas runs out', async () => {
    const spin = wasmModule({
      types: [{ params: [], results: [I32] }],
      funcs: [{ type: 0, body: [0x03, 0x40, 0x0c, 0x00, 0x0b, 0x41, 0x00] }], // loop { br 0 }
      exports: [{ name: 'spin', kind: 0, index: 0 }],
    });
    const ex = (await load(instrument(spin))) as { spin(): number } & Record<string, Gas>;
    ex[GAS_EXPORT].value = 100_000n;
    expect(() => ex.spin()).toThrow(/unreachable/);
    expect(ex[GAS_EXPORT].value < 0n).toBe(true);
  });
});

describe('stack-height limit', () => {
  it('a recursion bomb halts at the injected limit (unreachable, not V8 stack overflow); costs are given back', async () => {
    const rec = recursionModule(); // f(n) = n == 0 ? 0 : 1 + f(n - 1)
    const ex = (await load(instrument(rec))) as { f(n: number): number } & Record<
      string,
      Gas | { value: number }
    >;
    const gas = ex[GAS_EXPORT] as Gas;
    const sh = ex[STACK_EXPORT] as { value: number };
    gas.value = 10n ** 12n;
    sh.value = 0;
    expect(ex.f(100)).toBe(100);
    expect(sh.value).toBe(0); // every call's cost given back
    gas.value = 10n ** 12n;
    expect(() => ex.f(10_000_000)).toThrow(/unreachable/);
    expect(sh.value).toBeGreaterThan(STACK_LIMIT);
    expect(gas.value > 0n).toBe(true); // a stack halt, not out of gas
  });
});

describe('memory.grow', () => {
  it('is charged per page asked before it runs', async () => {
    const grow = wasmModule({
      types: [{ params: [I32], results: [I32] }],
      memory: [0x01, 0x01, 0x01, 0x08],
      funcs: [{ type: 0, body: [0x20, 0x00, 0x40, 0x00] }], // memory.grow(n)
      exports: [{ name: 'grow', kind: 0, index: 0 }],
    });
    const metered = instrument(grow);
    expect(() => decodeModule(metered)).not.toThrow();
    const ex = (await load(metered)) as { grow(n: number): number } & Record<string, Gas>;
    const gas = ex[GAS_EXPORT];
    const used = (n: number) => {
      gas.value = 10n ** 9n;
      const r = ex.grow(n);
      return { r, used: 10n ** 9n - gas.value };
    };
    const zero = used(0);
    const two = used(2);
    expect(two.r).toBe(1); // the old size in pages
    expect(two.used - zero.used).toBe(2n * BigInt(GAS_COSTS.memoryPage));
    gas.value = BigInt(GAS_COSTS.memoryPage); // not enough for 3 pages
    expect(() => ex.grow(3)).toThrow(/unreachable/);
    expect(gas.value < 0n).toBe(true);
  });
});
