/**
 * One app call, the same on chain (vm/state.ts), in queries (vm/query.ts) and off chain (vm/hosted):
 * instantiate the compiled module over a copy of the app's state, run `_initialize` then the method
 * with one gas budget, and return the halt, the new state and the effects.
 *
 * Chain reads outside the app (names, publish records, the app's balance) are synchronous for the
 * guest: a run that asks for a key not read yet stops (NeedRead), the key is read, and the call runs
 * again from the start with every value read so far. The result is the run that needed nothing new,
 * so it is what a synchronous read would have given, on every node alike. The gas of the runs that
 * stopped is spent: the budget covers every run, so the work a call does is bounded by what it paid.
 * A hosted call reads synchronously instead (readSync: its worker blocks on the node), with no re-run.
 * PERF: a call reading k new keys runs k + 1 times (k <= MAX_CHAIN_READS, each read charged
 * HOST_GAS.chainRead); instantiation is ~20 us and the compiled module is cached.
 */
import { Address } from '../chain/address.js';
import { accountKey, decodeAccount } from '../chain/ledger/accounts.js';
import { toHex } from '../util/bytes.js';
import { encodeAppState, MapState, STATE_GAS_PER_BYTE } from './app-state.js';
import { type AppState, type CallEnv, type Effects, type HostContext, NeedRead, newEffects } from './host.js';
import { AppInstance, type CompiledApp, type Halt } from './runtime.js';

export { MapState } from './app-state.js';

export const MAX_CHAIN_READS = 16;

export interface CallRequest {
  app: CompiledApp;
  /** The app's state before the call (not changed). */
  state: ReadonlyMap<string, Uint8Array>;
  /** Its encoded size: loading it is charged STATE_GAS_PER_BYTE per byte before the call runs. */
  stateBytes: number;
  method: string;
  args: (number | bigint)[];
  gas: bigint;
  env: CallEnv;
  /** Chain state outside the app, as of this call (committed state, or the block's overlay). */
  read(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * A synchronous read instead (a hosted worker blocking on the node): no re-runs, so the off-chain
   * host calls of a run happen once. A read that throws halts the call with `trap`.
   */
  readSync?(key: Uint8Array): Uint8Array | undefined;
  hosted?: HostContext['hosted'];
}

export interface CallOutcome {
  halt: Halt;
  value?: number | bigint;
  /** Every run's gas, the state's load and write included; the whole budget when it ran out. */
  gasUsed: bigint;
  message?: string;
  /** The state after the call (meaningful when ok). */
  state: Map<string, Uint8Array>;
  /** The new state's encoding when the call ended ok and changed it (absent: write nothing). */
  encoded?: Uint8Array;
  effects: Effects;
}

const tooManyReads = `more than ${MAX_CHAIN_READS} chain reads in one call`;

export async function runCall(req: CallRequest): Promise<CallOutcome> {
  const reads = new Map<string, Uint8Array | undefined>();
  const account = accountKey(new Address(req.env.account));
  const halted = (halt: Halt, gasUsed: bigint, message?: string): CallOutcome => ({
    halt,
    gasUsed,
    state: new Map(req.state),
    effects: newEffects(),
    ...(message === undefined ? {} : { message }),
  });
  // Gas of what ran before: the state's load, then each run that stopped for a chain read.
  let spent = STATE_GAS_PER_BYTE * BigInt(req.stateBytes);
  if (spent > req.gas) return halted('out_of_gas', req.gas);
  for (;;) {
    let missing: Uint8Array | undefined;
    const read = (key: Uint8Array): Uint8Array | undefined => {
      const k = toHex(key);
      if (reads.has(k)) return reads.get(k);
      if (req.readSync === undefined) {
        missing = key;
        throw new NeedRead(key);
      }
      if (reads.size >= MAX_CHAIN_READS) throw new Error(tooManyReads);
      const v = req.readSync(key);
      reads.set(k, v);
      return v;
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
    const budget = req.gas - spent;
    let created: Awaited<ReturnType<typeof AppInstance.create>>;
    try {
      created = await AppInstance.create(req.app, ctx, { initGas: budget });
    } catch (err) {
      // Deploy refuses modules that cannot instantiate; anything left is the module's fault.
      return halted('trap', spent, `the app did not instantiate: ${(err as Error).message}`);
    }
    const { instance, init } = created;
    let r = init ?? { halt: 'ok' as Halt, gasUsed: 0n };
    if (r.halt === 'ok' && missing === undefined) {
      const done = instance.call(req.method, req.args, budget - r.gasUsed);
      r = { ...done, gasUsed: done.gasUsed + r.gasUsed };
    }
    if (missing !== undefined) {
      // The stopped run's gas is spent: a call pays for every run it takes.
      spent += r.gasUsed;
      if (reads.size >= MAX_CHAIN_READS) return halted('trap', req.gas, tooManyReads);
      if (spent >= req.gas) return halted('out_of_gas', req.gas);
      reads.set(toHex(missing), await req.read(missing));
      continue;
    }
    const gasUsed = spent + r.gasUsed;
    if (r.halt !== 'ok' || !state.changed) return { ...r, gasUsed, state: state.map, effects };
    const encoded = encodeAppState(state.map);
    const total = gasUsed + STATE_GAS_PER_BYTE * BigInt(encoded.length);
    if (total > req.gas) return halted('out_of_gas', req.gas);
    return { ...r, gasUsed: total, state: state.map, encoded, effects };
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
