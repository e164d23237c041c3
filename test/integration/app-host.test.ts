/**
 * AppHost (node/app-host.ts) over the real hosted runner (its worker is the build's
 * dist/vm/hosted/worker.js; `npm test` builds first): the counter app served off chain, two calls at
 * once each count once (the second runs from the state the first left), and the count is on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Address } from '../../chain/address.js';
import { encodeRlp } from '../../chain/codec.js';
import { AppHost } from '../../node/app-host.js';
import type { CommService } from '../../services/comm/service.js';
import { toHex } from '../../util/bytes.js';
import { silentLogger } from '../../util/logger.js';
import { HostedRunner } from '../../vm/hosted/runner.js';
import { codeKey, decodeAppState, instanceKey } from '../../vm/state.js';

const BUILD = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'apps', 'build');
const LOOKUPS = new URL('../../dist/node/app-lookups.js', import.meta.url).href;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('AppHost over the hosted runner', () => {
  it('two concurrent increments of the counter count twice; the count is kept on disk', async () => {
    const code = new Uint8Array(await readFile(join(BUILD, 'counter.wasm')));
    const hash = createHash('sha256').update(code).digest();
    const app = new Uint8Array(32).fill(9);
    const chain = new Map([
      [toHex(codeKey(hash)), code],
      [toHex(instanceKey(app)), encodeRlp([hash, new Uint8Array(20).fill(1), 1, 1])],
    ]);
    const dataDir = await mkdtemp(join(tmpdir(), 'vos-app-host-'));
    dirs.push(dataDir);
    const h = new AppHost({
      comm: {} as CommService,
      getState: async (k) => chain.get(toHex(k)),
      head: () => ({ height: 5, time: 1_700_000_000_000 }),
      appGasQuota: async () => 100_000_000,
      epoch: () => 1,
      dataDir,
      timeoutMs: 5000,
      hosted: async () => null,
      logger: silentLogger(),
      runner: (s, t) => new HostedRunner(s, t, [LOOKUPS]),
    });
    try {
      await h.serve(toHex(app));
      const c = { app, method: 'increment', args: [], gas: 10_000_000n, input: new Uint8Array(0) };
      const from = (i: number) => new Address(new Uint8Array(20).fill(i)).toString();
      const [a, b] = await Promise.all([h.run(from(1), c), h.run(from(2), c)]);
      expect([a.halt, b.halt]).toEqual(['ok', 'ok']);
      expect([a.value, b.value].sort()).toEqual(['1', '2']);
      const kept = decodeAppState(await readFile(join(dataDir, `${toHex(app).slice(2)}.state`)));
      expect(Buffer.from(kept.get('count')!).readBigUInt64LE(0)).toBe(2n);
    } finally {
      await h.close();
    }
  }, 60_000);
});
