/**
 * AppHost (node/app-host.ts) with a stand-in runner (no worker): the quota is reserved when a call is
 * admitted and settled to its gas used (parallel calls cannot overdraw; a refused call is refunded);
 * calls in flight per caller and queued per app are capped (APP_BUSY); calls of one app run one at a
 * time from the state the last one left (no lost update); the over-1-MiB trap answers like any call;
 * two serve() at once make one runner; a peer sees no internal error message; a reply fits MAX_REPLY.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Stream } from '@libp2p/interface';
import { Address } from '../../../chain/address.js';
import { encodeRlp } from '../../../chain/codec.js';
import {
  AppHost,
  type AppHostDeps,
  type AppRunner,
  encodeHostedCall,
  MAX_IN_FLIGHT,
  MAX_QUEUE,
  MAX_REPLY,
  replyBytes,
} from '../../../node/app-host.js';
import { frame } from '../../../p2p/framing.js';
import type { CommService } from '../../../services/comm/service.js';
import { toHex } from '../../../util/bytes.js';
import { silentLogger } from '../../../util/logger.js';
import { newEffects } from '../../../vm/host.js';
import type { HostedOutcome } from '../../../vm/hosted/runner.js';
import { codeKey, decodeAppState, encodeAppState, instanceKey } from '../../../vm/state.js';
import { I32, wasmModule } from '../../helpers/wasm.js';

type RunnerCall = Parameters<AppRunner['call']>[0];

const APP = new Uint8Array(32).fill(7);
const CODE = wasmModule({
  types: [{ params: [], results: [I32] }],
  funcs: [{ type: 0, body: [0x41, 0] }],
  exports: [{ name: 'f', kind: 0, index: 0 }],
});
const chain = new Map<string, Uint8Array>([
  [toHex(codeKey(createHash('sha256').update(CODE).digest())), CODE],
  [
    toHex(instanceKey(APP)),
    encodeRlp([createHash('sha256').update(CODE).digest(), new Uint8Array(20).fill(1), 1, 1]),
  ],
]);
const caller = (i: number) => new Address(new Uint8Array(20).fill(i + 1)).toString();

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A runner that waits for `release()` before each call ends; `body` makes the outcome. */
function gatedRunner(body: (c: RunnerCall) => Partial<HostedOutcome> = () => ({})) {
  const waiting: (() => void)[] = [];
  let running = 0;
  const r = {
    made: 0,
    calls: 0,
    most: 0,
    gated: true,
    release() {
      for (const w of waiting.splice(0)) w();
    },
    runner: {
      async call(c: RunnerCall): Promise<HostedOutcome> {
        r.calls++;
        r.most = Math.max(r.most, ++running);
        if (r.gated) await new Promise<void>((res) => waiting.push(res));
        else await new Promise((res) => setTimeout(res, 5));
        running--;
        const out = {
          halt: 'ok' as const,
          gasUsed: 1000n,
          state: c.state,
          effects: newEffects(),
          ...body(c),
        };
        // A call that set a state returns its encoding, as runCall does for a changed state.
        return out.state === c.state ? out : { ...out, encoded: encodeAppState(out.state) };
      },
      async close() {},
    } satisfies AppRunner,
  };
  return r;
}

async function host(run: ReturnType<typeof gatedRunner>, o: Partial<AppHostDeps> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'vos-app-host-'));
  dirs.push(dataDir);
  const h = new AppHost({
    comm: {} as CommService,
    getState: async (k) => chain.get(toHex(k)),
    head: () => ({ height: 5, time: 1_700_000_000_000 }),
    appGasQuota: async () => 1_000_000,
    epoch: () => 1,
    dataDir,
    timeoutMs: 1000,
    hosted: async () => null,
    logger: silentLogger(),
    runner: () => {
      run.made++;
      return run.runner;
    },
    ...o,
  });
  await h.serve(toHex(APP));
  return { h, dataDir };
}

const call = (gas: bigint, method = 'f') => ({ app: APP, method, args: [], gas, input: new Uint8Array(0) });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('AppHost quota', () => {
  it('reserves each budget at admission: parallel calls cannot pass the quota together', async () => {
    const run = gatedRunner();
    const { h } = await host(run);
    const a = caller(0);
    const calls = [h.run(a, call(400_000n)), h.run(a, call(400_000n)), h.run(a, call(400_000n))];
    const codes = calls.map(codeOf);
    await tick();
    expect(run.calls).toBe(1); // the second waits its turn, the third was refused
    run.gated = false;
    run.release();
    expect(await Promise.all(codes)).toEqual(['ok', 'ok', 'APP_QUOTA']);
    // Settled to the gas used (1000 each): 998,000 left.
    expect(await codeOf(h.run(a, call(998_001n)))).toBe('APP_QUOTA');
    const r = await h.run(a, call(998_000n));
    expect(r).toMatchObject({ halt: 'ok', quotaUsed: '3000', quota: '1000000' });
    await h.close();
  });

  it('refunds the whole budget of a call refused before it runs', async () => {
    const run = gatedRunner();
    run.gated = false;
    const { h } = await host(run);
    const a = caller(0);
    expect(await codeOf(h.run(a, call(1_000_000n, 'nope')))).toBe('APP_UNKNOWN_METHOD');
    expect(await h.run(a, call(1_000_000n))).toMatchObject({ halt: 'ok', quotaUsed: '1000' });
    await h.close();
  });

  it(`refuses a caller's call past ${MAX_IN_FLIGHT} in flight, and past ${MAX_QUEUE} queued for an app`, async () => {
    const run = gatedRunner();
    const { h } = await host(run);
    const mine = Array.from({ length: MAX_IN_FLIGHT + 1 }, () => codeOf(h.run(caller(0), call(1000n))));
    await tick();
    expect(await mine[MAX_IN_FLIGHT]).toBe('APP_BUSY');
    const others: Promise<string | undefined>[] = [];
    for (let i = 1; others.length < MAX_QUEUE - MAX_IN_FLIGHT; i++)
      for (let j = 0; j < MAX_IN_FLIGHT; j++) others.push(codeOf(h.run(caller(i), call(1000n))));
    await tick();
    expect(await codeOf(h.run(caller(100), call(1000n)))).toBe('APP_BUSY');
    run.gated = false;
    run.release();
    expect(new Set(await Promise.all([...mine.slice(0, MAX_IN_FLIGHT), ...others]))).toEqual(new Set(['ok']));
    expect(run.most).toBe(1);
    // Free again.
    expect(await codeOf(h.run(caller(0), call(1000n)))).toBe('ok');
    await h.close();
  });
});

describe('AppHost state', () => {
  it('two concurrent calls: the second starts from the first one’s state (no lost update)', async () => {
    const run = gatedRunner((c) => {
      const n = (c.state.get('n')?.[0] ?? 0) + 1;
      return { value: n, state: new Map([['n', Uint8Array.of(n)]]) };
    });
    run.gated = false;
    const { h, dataDir } = await host(run);
    const [x, y] = await Promise.all([h.run(caller(0), call(10_000n)), h.run(caller(1), call(10_000n))]);
    expect([x.value, y.value].sort()).toEqual(['1', '2']);
    expect(run.most).toBe(1);
    const files = await readdir(dataDir);
    expect(files).toEqual([`${toHex(APP).slice(2)}.state`]); // no tmp file left
    expect(decodeAppState(await readFile(join(dataDir, files[0]))).get('n')).toEqual(Uint8Array.of(2));
    expect(await h.serve(toHex(APP))).toEqual({ app: toHex(APP), stateBytes: expect.any(Number) });
    await h.close();
  });

  it('a state over 1 MiB traps and answers the same shape (quotaUsed, quota); nothing kept', async () => {
    const run = gatedRunner(() => ({ state: new Map([['big', new Uint8Array(1024 * 1024 + 1)]]) }));
    run.gated = false;
    const { h, dataDir } = await host(run);
    const r = await h.run(caller(0), call(10_000n));
    expect(r).toMatchObject({ halt: 'trap', message: 'the app state is over 1 MiB', quotaUsed: '1000' });
    expect(r.quota).toBe('1000000');
    expect(r).not.toHaveProperty('charged');
    expect(await readdir(dataDir)).toEqual([]);
    await h.close();
  });

  it('two serve() at once make one runner', async () => {
    const run = gatedRunner();
    const { h } = await host(run);
    await Promise.all([h.serve(toHex(APP)), h.serve(toHex(APP))]);
    const h2 = new AppHost({ ...h.d });
    run.made = 0;
    await Promise.all([h2.serve(toHex(APP)), h2.serve(toHex(APP)), h2.serve(toHex(APP))]);
    expect(run.made).toBe(1);
    expect(h2.served).toEqual([toHex(APP)]);
    await h.close();
    await h2.close();
  });
});

describe('AppHost answers', () => {
  /** A stream that carries one request frame and keeps what is sent back. */
  function stream(req: Uint8Array) {
    const t = new EventTarget();
    const sent: Uint8Array[] = [];
    const s = Object.assign(t, {
      send: (b: Uint8Array) => {
        sent.push(b);
        return true;
      },
      close: async () => undefined,
      abort: () => undefined,
      unshift: () => undefined,
      onDrain: async () => undefined,
    });
    return {
      s: s as unknown as Stream,
      push: () => t.dispatchEvent(Object.assign(new Event('message'), { data: frame(req) })),
      reply: async () => {
        for (let i = 0; i < 100 && sent.length === 0; i++) await tick();
        return JSON.parse(Buffer.from(sent[0].subarray(4)).toString('utf8'));
      },
    };
  }

  it('an internal error reaches the peer as APP_ERROR "internal error"; the node logs it', async () => {
    let handler: ((s: Stream, from: { address: string }) => void) | undefined;
    const warned: unknown[] = [];
    let broken = false;
    const run = gatedRunner();
    run.gated = false;
    const log = {
      error() {},
      warn: (o: unknown, msg?: string) => warned.push(o, msg),
      info() {},
      debug() {},
      child: () => log,
    };
    const { h } = await host(run, {
      comm: { handleStream: (_t: string, f: typeof handler) => (handler = f) } as unknown as CommService,
      getState: async (k) => {
        if (broken) throw new Error('EIO: /home/secret/data/chain.db');
        return chain.get(toHex(k));
      },
      logger: log,
    });
    h.start();
    broken = true;
    const st = stream(encodeHostedCall(call(1000n)));
    handler?.(st.s, { address: caller(0) });
    st.push();
    expect(await st.reply()).toEqual({ error: { code: 'APP_ERROR', message: 'internal error' } });
    expect(JSON.stringify(warned)).toContain('hosted app call failed');
    // A domain error keeps its code and message.
    broken = false;
    const again = stream(encodeHostedCall(call(1000n, 'nope')));
    handler?.(again.s, { address: caller(0) });
    again.push();
    expect((await again.reply()).error.code).toBe('APP_UNKNOWN_METHOD');
    await h.close();
  });

  it('a reply over MAX_REPLY drops log lines from the end', () => {
    const logs = Array.from({ length: 2000 }, (_, i) => `${i}`.padEnd(1000, '\u0001'));
    const out = replyBytes({ halt: 'ok', logs });
    expect(out.length).toBeLessThanOrEqual(MAX_REPLY);
    const v = JSON.parse(Buffer.from(out).toString('utf8'));
    expect(v.logsTruncated).toBe(true);
    expect(v.logs.length).toBeGreaterThan(100);
    expect(v.logs).toEqual(logs.slice(0, v.logs.length));
    const small = { halt: 'ok', logs: ['a'] };
    expect(JSON.parse(Buffer.from(replyBytes(small)).toString('utf8'))).toEqual(small);
    const huge = replyBytes({ halt: 'ok', output: 'x'.repeat(MAX_REPLY), logs: [] });
    expect(JSON.parse(Buffer.from(huge).toString('utf8')).error.code).toBe('APP_REPLY_TOO_LARGE');
  });
});
