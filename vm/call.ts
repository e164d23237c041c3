/**
 * One app call, the same on chain (vm/state.ts), in queries (vm/query.ts) and off chain (vm/hosted):
 * instantiate the compiled module over a copy of the app's state, run `_initialize` then the method
 * with one gas budget, and return the halt, the new state and the effects.
 *
 * Chain reads outside the app (names, publish records, the app's balance) are synchronous for the
 * guest: a run that asks for a key not read yet stops (NeedRead), the key is read, and the call runs
 * again from the start with every value read so far. The result is the run that needed nothing new,
 * so it is what a synchronous read would have given, on every node alike.
 * PERF: a call reading k new keys runs k + 1 times (k <= MAX_CHAIN_READS, each read charged
 * HOST_GAS.chainRead); instantiation is ~20 us and the compiled module is cached.
 */
import { Address } from '../chain/address.js';
import { accountKey, decodeAccount } from '../chain/ledger/accounts.js';
import { toHex } from '../util/bytes.js';
import { type AppState, type CallEnv, type Effects, type HostContext, NeedRead, newEffects } from './host.js';
import { AppInstance, type CompiledApp, type Halt } from './runtime.js';

export const MAX_CHAIN_READS = 16;

/** The app's key-value state: a map with its keys kept sorted for storage_next. */
export class MapState implements AppState {
  readonly map: Map<string, Uint8Array>;
  #sorted: string[] | null = null;

  constructor(from?: Map<string, Uint8Array>) {
    this.map = new Map(from);
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Uint8Array): void {
    if (!this.map.has(key)) this.#sorted = null;
    this.map.set(key, value);
  }

  delete(key: string): void {
    if (this.map.delete(key)) this.#sorted = null;
  }

  next(after: string | null): string | undefined {
    // latin1 strings hold one byte per code unit, so string order is byte order.
    this.#sorted ??= [...this.map.keys()].sort();
    const keys = this.#sorted;
    if (after === null) return keys[0];
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] <= after) lo = mid + 1;
      else hi = mid;
    }
    return keys[lo];
  }
}

export interface CallRequest {
  app: CompiledApp;
  /** The app's state before the call (not changed). */
  state: Map<string, Uint8Array>;
  method: string;
  args: (number | bigint)[];
  gas: bigint;
  env: CallEnv;
  /** Chain state outside the app, as of this call (committed state, or the block's overlay). */
  read(key: Uint8Array): Promise<Uint8Array | undefined>;
  hosted?: HostContext['hosted'];
}

export interface CallOutcome {
  halt: Halt;
  value?: number | bigint;
  gasUsed: bigint;
  message?: string;
  /** The state after the call (meaningful when ok). */
  state: Map<string, Uint8Array>;
  effects: Effects;
}

export async function runCall(req: CallRequest): Promise<CallOutcome> {
  const reads = new Map<string, Uint8Array | undefined>();
  const account = accountKey(new Address(req.env.account));
  for (;;) {
    let missing: Uint8Array | undefined;
    const read = (key: Uint8Array): Uint8Array | undefined => {
      const k = toHex(key);
      if (reads.has(k)) return reads.get(k);
      missing = key;
      throw new NeedRead(key);
    };
    const state = new MapState(req.state);
    const effects = newEffects();
    const ctx = {
      state,
      env: req.env,
      read,
      balance: () => {
        const v = read(account);
        return v === undefined ? 0n : decodeAccount(v).balance;
      },
      effects,
      hosted: req.hosted,
    };
    const { instance, init } = await AppInstance.create(req.app, ctx, { initGas: req.gas });
    let r = init ?? { halt: 'ok' as Halt, gasUsed: 0n };
    if (r.halt === 'ok' && missing === undefined) {
      const done = instance.call(req.method, req.args, req.gas - r.gasUsed);
      r = { ...done, gasUsed: done.gasUsed + r.gasUsed };
    }
    if (missing !== undefined) {
      if (reads.size >= MAX_CHAIN_READS)
        return {
          halt: 'trap',
          gasUsed: req.gas,
          message: `more than ${MAX_CHAIN_READS} chain reads in one call`,
          state: req.state,
          effects: newEffects(),
        };
      reads.set(toHex(missing), await req.read(missing));
      continue;
    }
    return { ...r, state: state.map, effects };
  }
}

/** A host context with no chain around it (tests, benches): zero caller and app, no chain reads. */
export function detachedContext(state: AppState = new MapState(), input = new Uint8Array(0)) {
  return {
    state,
    env: {
      caller: new Uint8Array(20),
      self: new Uint8Array(32),
      account: new Uint8Array(20),
      height: 0,
      time: 0,
      input,
    },
    read: () => undefined,
    balance: () => 0n,
    effects: newEffects(),
  };
}
