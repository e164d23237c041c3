/**
 * The sample apps as the build compiles them (AssemblyScript -> apps/build/<app>.wasm): each passes our
 * decoder's allowlist (no start function, no floats, no bulk memory...), and runs metered through the
 * runtime with the host API over an in-memory app state. The counter's `increment` adds one to its
 * stored count and `get` reads it; a budget too small for a host call halts with out_of_gas and
 * changes nothing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { detachedContext, MapState } from '../../vm/call.js';
import { AppInstance, compileApp } from '../../vm/runtime.js';
import { decodeModule } from '../../vm/wasm/decoder.js';

const BUILD = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'apps', 'build');

describe('sample apps', () => {
  it('the counter: built, allowed, increments and reads its stored count, metered', async () => {
    const file = join(BUILD, 'counter.wasm');
    expect(existsSync(file)).toBe(true); // `npm test` builds the apps first
    const bytes = new Uint8Array(await readFile(file));
    const m = decodeModule(bytes);
    expect(m.exports.map((e) => e.name)).toEqual(expect.arrayContaining(['increment', 'get', '_initialize']));
    expect(m.imports.every((i) => i.module === 'env')).toBe(true);
    const state = new MapState();
    const { instance, init } = await AppInstance.create(await compileApp(bytes), detachedContext(state));
    expect(init?.halt).toBe('ok');
    const one = instance.call('increment', [], 1_000_000n);
    expect(one).toMatchObject({ halt: 'ok', value: 1n });
    expect(instance.call('increment', [], 1_000_000n)).toMatchObject({ halt: 'ok', value: 2n });
    expect(instance.call('get', [], 1_000_000n)).toMatchObject({ halt: 'ok', value: 2n });
    expect([...state.map.keys()]).toEqual(['count']);
    // Deterministic gas: the same call on the same state costs the same.
    const again = await AppInstance.create(await compileApp(bytes), detachedContext());
    expect(again.instance.call('increment', [], 1_000_000n).gasUsed).toBe(one.gasUsed);
    // Too little gas for the storage write: out_of_gas, the count stays.
    const poor = instance.call('increment', [], 1_000n);
    expect(poor.halt).toBe('out_of_gas');
    expect(instance.call('get', [], 1_000_000n)).toMatchObject({ halt: 'ok', value: 2n });
  });
});
