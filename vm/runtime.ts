/**
 * Running an instrumented module: a budget in, a deterministic result out. Every halt is a result
 * code, never an exception that escapes: `ok`, `out_of_gas` (the gas global went below zero),
 * `stack_limit` (the injected stack height passed STACK_LIMIT), `abort` (the guest called env.abort),
 * `trap` (any other WASM trap: unreachable, division by zero, out-of-bounds access...).
 */
import { type HostContext, HostHalt, hostFunctions } from './host.js';
import { decodeModule, type ValType } from './wasm/decoder.js';
import {
  GAS_EXPORT,
  INSTRUMENTER_VERSION,
  instrument,
  STACK_EXPORT,
  STACK_LIMIT,
} from './wasm/instrument.js';
import { I64 } from './wasm/opcodes.js';

export type Halt = 'ok' | 'out_of_gas' | 'stack_limit' | 'abort' | 'trap';

export interface RunResult {
  halt: Halt;
  /** The export's return value (ok only). */
  value?: number | bigint;
  /** Gas used, the whole budget when it ran out. */
  gasUsed: bigint;
  message?: string;
}

interface WasmGlobal<T> {
  value: T;
}
interface WA {
  compile(bytes: Uint8Array): Promise<unknown>;
  instantiate(module: unknown, imports: object): Promise<{ exports: Record<string, unknown> }>;
  RuntimeError: new (...args: unknown[]) => Error;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WA }).WebAssembly;

export interface CompiledApp {
  /** What it was compiled with (part of a module cache's key). */
  instrumenter: number;
  module: unknown;
  /** Param types of each exported function (args are converted by them: i32 numbers, i64 bigints). */
  exports: Map<string, ValType[]>;
}

/** Decode (allowlist, limits), instrument and compile. Throws WasmError for a refused module. */
export async function compileApp(bytes: Uint8Array): Promise<CompiledApp> {
  const m = decodeModule(bytes);
  const metered = instrument(bytes, m);
  const exports = new Map<string, ValType[]>();
  for (const e of m.exports) {
    if (e.kind !== 'func' || e.index < m.imports.length) continue;
    exports.set(e.name, m.types[m.functions[e.index - m.imports.length]].params);
  }
  return { instrumenter: INSTRUMENTER_VERSION, module: await WebAssemblyApi.compile(metered), exports };
}

/** Call args from u64 words by the export's param types, or null when the count does not match. */
export function argsFor(params: readonly ValType[], words: readonly bigint[]): (number | bigint)[] | null {
  if (params.length !== words.length) return null;
  return words.map((w, i) => (params[i] === I64 ? BigInt.asIntN(64, w) : Number(BigInt.asIntN(32, w))));
}

class GuestAbort extends Error {}

/**
 * AssemblyScript's abort message: a UTF-16LE string whose byte length is the u32 before it. Anything
 * else (another language, a bad pointer) gives ''; at most 200 characters.
 */
function abortMessage(mem: Uint8Array, ptr: number): string {
  if (!Number.isInteger(ptr) || ptr < 4 || ptr > mem.length) return '';
  const len = new DataView(mem.buffer, mem.byteOffset).getUint32(ptr - 4, true);
  if (len % 2 !== 0 || ptr + len > mem.length) return '';
  return Buffer.from(mem.subarray(ptr, ptr + Math.min(len, 400))).toString('utf16le');
}

export type HostFunctions = Record<string, (...args: never[]) => unknown>;

export class AppInstance {
  readonly #gas: WasmGlobal<bigint>;
  readonly #stack: WasmGlobal<number>;
  readonly exports: Record<string, unknown>;

  private constructor(exports: Record<string, unknown>) {
    this.exports = exports;
    this.#gas = exports[GAS_EXPORT] as WasmGlobal<bigint>;
    this.#stack = exports[STACK_EXPORT] as WasmGlobal<number>;
  }

  /**
   * Instantiate with the host API over `ctx` (and extra host functions, for tests). The module's
   * exported `_initialize` (AssemblyScript's static init, compiled with --exportStart instead of a
   * start function) runs once, metered by `initGas`.
   */
  static async create(
    app: CompiledApp,
    ctx: Omit<HostContext, 'memory' | 'charge'>,
    o: { extra?: HostFunctions; initGas?: bigint } = {},
  ): Promise<{ instance: AppInstance; init: RunResult | null }> {
    let self: AppInstance | undefined;
    const host = hostFunctions({
      ...ctx,
      memory: () => {
        // A module without an exported memory has none a host call can read.
        const mem = self?.exports.memory as { buffer: ArrayBuffer } | undefined;
        return mem === undefined ? new Uint8Array(0) : new Uint8Array(mem.buffer);
      },
      charge: (gas) => self?.charge(gas),
    });
    const env = {
      abort: (msg: number) => {
        const mem = self?.exports.memory as { buffer: ArrayBuffer } | undefined;
        throw new GuestAbort(mem === undefined ? '' : abortMessage(new Uint8Array(mem.buffer), msg));
      },
      ...host,
      ...o.extra,
    };
    self = new AppInstance((await WebAssemblyApi.instantiate(app.module, { env })).exports);
    const init =
      typeof self.exports._initialize === 'function'
        ? self.call('_initialize', [], o.initGas ?? 1_000_000n)
        : null;
    return { instance: self, init };
  }

  /** A host call's charge, before its work. */
  charge(gas: bigint): void {
    this.#gas.value -= gas;
    if (this.#gas.value < 0n) throw new HostHalt({ code: 'OUT_OF_GAS' }, 'out of gas in a host call');
  }

  /** Call an export with a gas budget. */
  call(name: string, args: (number | bigint)[], gasLimit: bigint): RunResult {
    const fn = this.exports[name];
    if (typeof fn !== 'function') return { halt: 'trap', gasUsed: 0n, message: `no export ${name}` };
    this.#gas.value = gasLimit;
    this.#stack.value = 0;
    try {
      const value = (fn as (...a: unknown[]) => number | bigint)(...args);
      return { halt: 'ok', value, gasUsed: gasLimit - this.#gas.value };
    } catch (err) {
      const left = this.#gas.value;
      if (left < 0n) return { halt: 'out_of_gas', gasUsed: gasLimit };
      const used = gasLimit - left;
      if (this.#stack.value > STACK_LIMIT) return { halt: 'stack_limit', gasUsed: used };
      if (err instanceof GuestAbort) return { halt: 'abort', gasUsed: used, message: err.message };
      if (err instanceof HostHalt) return { halt: 'trap', gasUsed: used, message: err.message };
      if (err instanceof WebAssemblyApi.RuntimeError)
        return { halt: 'trap', gasUsed: used, message: (err as Error).message };
      // V8's own stack overflow (the injected limit should come first) or a host function's error.
      if (err instanceof RangeError) return { halt: 'stack_limit', gasUsed: used, message: err.message };
      return { halt: 'trap', gasUsed: used, message: String((err as Error)?.message ?? err) };
    }
  }
}
