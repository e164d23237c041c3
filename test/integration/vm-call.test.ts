/**
 * One app call (vm/call.ts runCall) over the host API, with the probes of test/helpers/wasm.ts: a
 * call that stops for a chain read pays for every run (the budget covers them all); an empty key and
 * a state grown past MAX_APP_STATE_BYTES halt the call; the state's load and write are charged per
 * byte, and a call that changes nothing writes nothing.
 */
import { describe, expect, it } from '@jest/globals';
import '../../node/app-lookups.js';
import { MAX_APP_STATE_BYTES, STATE_GAS_PER_BYTE } from '../../vm/app-state.js';
import { type CallRequest, runCall } from '../../vm/call.js';
import { type CompiledApp, compileApp } from '../../vm/runtime.js';
import { testCallEnv as env, probeModule } from '../helpers/wasm.js';

let app: CompiledApp;
let reads = 0;
const call = async (method: string, gas: bigint, o: Partial<CallRequest> = {}) => {
  app ??= await compileApp(probeModule());
  return runCall({
    app,
    state: new Map(),
    stateBytes: 0,
    method,
    args: method.startsWith('burn') ? [20_000] : [],
    gas,
    env,
    read: async () => {
      reads++;
      return undefined;
    },
    ...o,
  });
};

describe('app calls', () => {
  it('a call that stops for a chain read pays for both runs; a budget for one run is out of gas', async () => {
    const one = await call('burn', 10_000_000n);
    expect(one.halt).toBe('ok');
    reads = 0;
    const two = await call('burnRead', 10_000_000n);
    expect(two.halt).toBe('ok');
    expect(reads).toBe(1);
    // The first run stopped at the read, after the whole loop: its gas counts too.
    expect(two.gasUsed).toBeGreaterThan(2n * one.gasUsed);
    const short = await call('burnRead', (one.gasUsed * 3n) / 2n);
    expect(short).toMatchObject({ halt: 'out_of_gas', gasUsed: (one.gasUsed * 3n) / 2n });
  });

  it('an empty key and a state past its limit halt the call with a message', async () => {
    expect(await call('emptyKey', 1_000_000n)).toMatchObject({ halt: 'trap', message: 'an empty key' });
    const grown = await call('grow', 100_000_000n);
    expect(grown.halt).toBe('trap');
    expect(grown.message).toContain(`would pass ${MAX_APP_STATE_BYTES} bytes`);
  });

  it("the state's load and write are charged per byte; an unchanged state is not written", async () => {
    const same = await call('same', 1_000_000n);
    expect(same.halt).toBe('ok');
    expect(same.encoded).toBeUndefined();
    const loaded = await call('same', 1_000_000n, { stateBytes: 1000 });
    expect(loaded.gasUsed - same.gasUsed).toBe(1000n * STATE_GAS_PER_BYTE);
    expect(await call('same', 1_000_000n, { stateBytes: 1_000_000 })).toMatchObject({
      halt: 'out_of_gas',
      gasUsed: 1_000_000n,
    });
    const touched = await call('touch', 1_000_000n);
    expect(touched).toMatchObject({ halt: 'ok' });
    expect(touched.encoded).toBeDefined();
    expect([...touched.state.keys()]).toEqual(['\u0000']);
    // The write's charge is in gasUsed: more than a run that sets nothing, by the encoding's bytes.
    expect(touched.gasUsed).toBeGreaterThan(
      same.gasUsed + BigInt(touched.encoded!.length) * STATE_GAS_PER_BYTE,
    );
  });

  it('transfer off a chain read the balance (a read); a query reports it, nothing applies it', async () => {
    const r = await call('pay', 1_000_000n);
    // Balance 0 (the account read is absent): not enough, transfer returns 1.
    expect(r).toMatchObject({ halt: 'ok', value: 1 });
    expect(r.effects.transfers).toEqual([]);
  });
});
