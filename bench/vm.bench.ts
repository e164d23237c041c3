/**
 * The VM (issue 16), three sections in one run, each beside a baseline measured in the same run:
 *
 * 1. Metering overhead on CPU-bound apps (apps/bench-sha256: SHA-256 over a 64 KiB buffer;
 *    apps/bench-sort: xorshift32 fill + quicksort): the built .wasm through the runtime (compileApp:
 *    decode + instrument + compile; AppInstance.create/call with a large budget) against the same
 *    bytes compiled and instantiated directly by WebAssembly (unmetered), with the same `env` imports.
 *    The apps import nothing (no host calls, static memory only), so the difference is the injected
 *    gas and stack-height code. Warm-up calls first (V8 tiers hot functions up to TurboFan), then
 *    interleaved repetitions (the order flips each one); the median ms per run. Both outputs are
 *    checked: the sha256 digest against node:crypto, the sort checksum against the same array sorted
 *    in JS. Goal: metered / unmetered <= 1.3.
 * 2. Deploy cost per MB: decodeModule, instrument, and the whole compileApp, over a generated ~1 MiB
 *    valid module (bodies with loops, calls, loads/stores, if/else, i64), beside WebAssembly.compile of
 *    the same raw bytes. Every repetition uses fresh bytes (a different seed): V8 caches the compiled
 *    module by its bytes. V8 compiles WASM function bodies lazily by default (validated at compile,
 *    Liftoff code at the first call), so the baseline is validation + module setup, as the node does it.
 *    Smaller modules (256 and 512 KiB) of the same shape show how instrument() scales.
 * 3. App calls/s through txs on one validator: a real ledger (LevelDB + state tree) as
 *    control.bench.ts drives it (build as the proposer, then execute + commit as the validator, fsync
 *    included, validator's time only; the txs do not come through a mempool, so execute verifies every
 *    signature, for both kinds alike); the built counter is deployed and created by app-deploy /
 *    app-create txs, then blocks of `increment` app-call txs (one per sender per block) are timed,
 *    interleaved with blocks of as many transfers from the same senders on the same ledger (baseline).
 *
 * 4. Queries/s: app_query's queryApp (vm/query.ts: committed state at the head height, the counter's
 *    `get`, its own gas cap) on the same kind of chain after some increments, in process (the RPC
 *    layer is measured by `npm run bench -- rpc`), beside raw reads of the app's state key from the
 *    state tree at that height (baseline).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Block } from '../chain/block.js';
import { Commit, CommitFlag } from '../chain/commit.js';
import { PrivateKey } from '../chain/keys.js';
import { Ledger } from '../chain/ledger/ledger.js';
import type { GenesisState } from '../chain/ledger/params.js';
import { ReceiptStatus } from '../chain/receipt.js';
import { openChainDb } from '../chain/store/chain-db.js';
import { TxKind, type TxPayload } from '../chain/tx/kinds.js';
import { Tx } from '../chain/tx/tx.js';
import { Vote, VoteType } from '../chain/vote.js';
import { createDevGenesis, genesisHash } from '../genesis/genesis.js';
import { detachedContext } from '../vm/call.js';
import { queryApp } from '../vm/query.js';
import { AppInstance, compileApp } from '../vm/runtime.js';
import { appId, appPayload, decodeAppState, stateKey } from '../vm/state.js';
import { decodeModule, type WasmModule, walkInstructions } from '../vm/wasm/decoder.js';
import { instrument } from '../vm/wasm/instrument.js';
import { sleb64, uleb } from '../vm/wasm/leb.js';

const progress = (msg: string) =>
  process.stderr.write(`[vm ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

const BUILD = fileURLToPath(new URL('../../apps/build/', import.meta.url));
const MB = 1024 * 1024;
/** A budget no run here comes near (the gas global is an i64). */
const BIG_GAS = 10n ** 15n;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const round = (x: number, d = 3) => Number(x.toFixed(d));

async function builtApp(name: string): Promise<Uint8Array> {
  const file = join(BUILD, `${name}.wasm`);
  if (!existsSync(file)) throw new Error(`${file} is missing: \`npm run build\` builds the apps`);
  return new Uint8Array(await readFile(file));
}

interface WA {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WA }).WebAssembly;

/** Instrumented sites of a module: charges (function entries + loop headers) and wrapped calls. */
function meteringSites(bytes: Uint8Array, m: WasmModule) {
  let loops = 0;
  let calls = 0;
  let instructions = 0;
  for (const code of m.codes) {
    loops += code.loops.length;
    walkInstructions(bytes, code, (op) => {
      instructions++;
      if (op === 0x10 || op === 0x11) calls++;
    });
  }
  return { functions: m.codes.length, loops, calls, instructions };
}

// ---------------------------------------------------------------------------------------------------
// 1. Metering overhead

interface CpuCase {
  app: string;
  arg: number;
  /** Calls per timed repetition. */
  calls: number;
  /** Throws when a run's value is wrong. */
  check(value: number, word: (i: number) => number): void;
}

function sha256Case(iterations: number): CpuCase {
  const buf = Buffer.alloc(64 * 1024);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
  let digest = Buffer.alloc(32);
  for (let n = 0; n < iterations; n++) {
    digest = createHash('sha256').update(buf).digest();
    digest.copy(buf, 0);
  }
  return {
    app: 'bench-sha256',
    arg: iterations,
    calls: 2,
    check(value, word) {
      if (value !== digest.readInt32BE(0)) throw new Error(`sha256: ${value} != ${digest.readInt32BE(0)}`);
      for (let i = 0; i < 8; i++)
        if (word(i) !== digest.readInt32BE(i * 4)) throw new Error(`sha256: digest word ${i} differs`);
    },
  };
}

function sortCase(n: number): CpuCase {
  const a = new Int32Array(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    a[i] = x | 0;
  }
  a.sort();
  let h = 0;
  for (const v of a) h = (Math.imul(h, 31) + v) | 0;
  return {
    app: 'bench-sort',
    arg: n,
    calls: 5,
    check(value) {
      if (value !== h) throw new Error(`sort: checksum ${value} != ${h}`);
    },
  };
}

async function meteringCase(c: CpuCase, warmup: number, reps: number) {
  const bytes = await builtApp(c.app);
  const m = decodeModule(bytes);
  const guestAbort = () => {
    throw new Error('the app aborted');
  };
  // The runtime gives abort plus the host API; these apps import none of it (listed in the result).
  const env = { abort: guestAbort };
  const raw = (await WebAssemblyApi.instantiate(await WebAssemblyApi.compile(bytes), { env })).exports;
  const rawRun = raw.run as (n: number) => number;
  if (typeof raw._initialize === 'function') (raw._initialize as () => void)();
  const { instance, init } = await AppInstance.create(await compileApp(bytes), detachedContext());
  if (init !== null && init.halt !== 'ok') throw new Error(`${c.app}: _initialize ${init.halt}`);
  let gasPerRun = 0n;
  const metered = (): number => {
    const r = instance.call('run', [c.arg], BIG_GAS);
    if (r.halt !== 'ok') throw new Error(`${c.app}: ${r.halt} ${r.message ?? ''}`);
    gasPerRun = r.gasUsed;
    return r.value as number;
  };
  const word = (i: number) => {
    const r = instance.call('digestWord', [i], BIG_GAS);
    return r.value as number;
  };
  c.check(rawRun(c.arg), (i) => (raw.digestWord as (i: number) => number)(i));
  c.check(metered(), word);
  for (let i = 0; i < warmup; i++) {
    rawRun(c.arg);
    metered();
  }
  const time = (f: () => number): number => {
    const t0 = performance.now();
    for (let i = 0; i < c.calls; i++) f();
    return (performance.now() - t0) / c.calls;
  };
  const rawMs: number[] = [];
  const meteredMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      rawMs.push(time(() => rawRun(c.arg)));
      meteredMs.push(time(metered));
    } else {
      meteredMs.push(time(metered));
      rawMs.push(time(() => rawRun(c.arg)));
    }
  }
  c.check(rawRun(c.arg), (i) => (raw.digestWord as (i: number) => number)(i));
  c.check(metered(), word);
  const u = median(rawMs);
  const me = median(meteredMs);
  return {
    arg: c.arg,
    imports: m.imports.map((i) => `${i.module}.${i.name}`),
    moduleBytes: bytes.length,
    sites: meteringSites(bytes, m),
    unmeteredMsPerRun: round(u),
    meteredMsPerRun: round(me),
    ratio: round(me / u),
    unmeteredMinMs: round(Math.min(...rawMs)),
    meteredMinMs: round(Math.min(...meteredMs)),
    gasPerRun: Number(gasPerRun),
    gasPerMeteredUs: Math.round(Number(gasPerRun) / (me * 1000)),
  };
}

async function metering() {
  const iterations = 16; // 16 x 64 KiB = 1 MiB hashed per run
  const n = 65_536;
  progress(`metering: sha256 (${iterations} x 64 KiB per run), sort (${n} i32 per run)`);
  const sha = await meteringCase(sha256Case(iterations), 20, 15);
  const sort = await meteringCase(sortCase(n), 20, 15);
  const goalMet = sha.ratio <= 1.3 && sort.ratio <= 1.3;
  return {
    sha256BytesPerRun: iterations * 64 * 1024,
    sha256UnmeteredMsPerRun: sha.unmeteredMsPerRun,
    sha256MeteredMsPerRun: sha.meteredMsPerRun,
    sha256MeteredVsUnmetered: sha.ratio,
    sha256UnmeteredMBps: round((iterations * 64 * 1024) / MB / (sha.unmeteredMsPerRun / 1000), 1),
    sha256MeteredMBps: round((iterations * 64 * 1024) / MB / (sha.meteredMsPerRun / 1000), 1),
    sha256GasPerRun: sha.gasPerRun,
    sha256GasPerMeteredUs: sha.gasPerMeteredUs,
    sha256Detail: sha,
    sortElementsPerRun: n,
    sortUnmeteredMsPerRun: sort.unmeteredMsPerRun,
    sortMeteredMsPerRun: sort.meteredMsPerRun,
    sortMeteredVsUnmetered: sort.ratio,
    sortGasPerRun: sort.gasPerRun,
    sortGasPerMeteredUs: sort.gasPerMeteredUs,
    sortDetail: sort,
    meteringGoal: 'metered / unmetered <= 1.3 (sha256 and sort)',
    meteringGoalMet: goalMet,
  };
}

// ---------------------------------------------------------------------------------------------------
// 2. Deploy cost per MB

const sleb = (n: number) => sleb64(BigInt(n));

/**
 * A valid module of about `target` bytes: functions (i32) -> i32 with 2 i32 and 1 i64 locals, each
 * body 6 chunks of: a counted loop, xor, i32.store, i32.load, if/else with a result, i64 extend/mul/
 * wrap, a call to the previous function, a block with br_if. One memory page; `main` (the last
 * function) and `memory` are exported. `seed` changes the constants (fresh bytes for V8).
 */
export function generatedModule(target: number, seed: number): { bytes: Uint8Array; functions: number } {
  const chunk = (f: number, k: number): number[] => [
    ...[0x20, 0, 0x41, ...sleb((k * 7 + f + seed * 13) & 0xfffff), 0x6a, 0x21, 1],
    ...[0x03, 0x40, 0x20, 1, 0x41, 1, 0x6b, 0x22, 1, 0x20, 2, 0x6a, 0x21, 2, 0x20, 1, 0x0d, 0, 0x0b],
    ...[0x20, 0, 0x20, 2, 0x73, 0x21, 0],
    ...[0x41, ...sleb((k * 4) & 0xfff), 0x20, 0, 0x36, 2, 0],
    ...[0x41, ...sleb((k * 8) & 0xfff), 0x28, 2, 0, 0x21, 2],
    ...[0x20, 0, 0x04, 0x7f, 0x41, 1, 0x05, 0x41, 2, 0x0b, 0x20, 0, 0x6a, 0x21, 0],
    ...[0x20, 0, 0xad, 0x42, 3, 0x7e, 0x22, 3, 0xa7, 0x21, 0],
    ...(f > 0 ? [0x20, 0, 0x10, ...uleb(f - 1), 0x21, 0] : []),
    ...[0x02, 0x40, 0x20, 0, 0x45, 0x0d, 0, 0x20, 0, 0x41, 1, 0x6a, 0x21, 0, 0x0b],
  ];
  const bodies: number[][] = [];
  let size = 0;
  for (let f = 0; size < target; f++) {
    const b = [2, 2, 0x7f, 1, 0x7e]; // locals: 2 i32, 1 i64
    for (let k = 0; k < 6; k++) for (const x of chunk(f, k)) b.push(x);
    b.push(0x20, 0, 0x0b);
    bodies.push([...uleb(b.length), ...b]);
    size += bodies[bodies.length - 1].length;
  }
  const n = bodies.length;
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, body: number[]) => {
    out.push(id, ...uleb(body.length));
    for (const x of body) out.push(x);
  };
  section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]);
  const funcs = uleb(n);
  for (let i = 0; i < n; i++) funcs.push(0);
  section(3, funcs);
  section(5, [1, 0x00, 1]);
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
  section(7, [2, ...name('main'), 0x00, ...uleb(n - 1), ...name('memory'), 0x02, 0]);
  const code = uleb(n);
  for (const b of bodies) for (const x of b) code.push(x);
  section(10, code);
  return { bytes: Uint8Array.from(out), functions: n };
}

/** Repeat `f` up to `max` times while the time spent stays under `budgetMs` (at least once). */
async function repeat<T>(max: number, budgetMs: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  const t0 = performance.now();
  for (let i = 0; i < max; i++) {
    out.push(await f(i));
    if (performance.now() - t0 > budgetMs) break;
  }
  return out;
}

async function deploy() {
  const target = Number(process.env.VOS_BENCH_VM_MODULE_BYTES ?? MB);
  let seed = 1;
  const fresh = (size = target) => generatedModule(size, seed++);
  // Warm the decoder and instrumenter (JIT) on a small module.
  for (let i = 0; i < 3; i++) {
    const w = fresh(32 * 1024).bytes;
    instrument(w, decodeModule(w));
    await compileApp(w);
  }
  const probe = fresh();
  const mb = probe.bytes.length / MB;
  const sites = meteringSites(probe.bytes, decodeModule(probe.bytes));
  progress(`deploy: ${probe.bytes.length} bytes, ${probe.functions} functions`);
  const rawCompile = await repeat(7, 3_000, async () => {
    const { bytes } = fresh();
    const t0 = performance.now();
    await WebAssemblyApi.compile(bytes);
    return performance.now() - t0;
  });
  const decodeMs: number[] = [];
  const instrumentMs: number[] = [];
  const meteredCompile: number[] = [];
  let instrumentedBytes = 0;
  await repeat(5, 4_000, async () => {
    const { bytes } = fresh();
    const t0 = performance.now();
    const m = decodeModule(bytes);
    const t1 = performance.now();
    const metered = instrument(bytes, m);
    const t2 = performance.now();
    await WebAssemblyApi.compile(metered);
    meteredCompile.push(performance.now() - t2);
    decodeMs.push(t1 - t0);
    instrumentMs.push(t2 - t1);
    instrumentedBytes = metered.length;
  });
  progress(`deploy: instrument ${round(median(instrumentMs), 0)} ms; compileApp`);
  const appMs = await repeat(5, 4_000, async () => {
    const { bytes } = fresh();
    const t0 = performance.now();
    await compileApp(bytes);
    return performance.now() - t0;
  });
  // How instrument() scales with the module's size (same body shape, fewer functions).
  const scaling: Record<string, number> = {};
  for (const kb of [256, 512]) {
    const ms = await repeat(3, 2_000, async () => {
      const { bytes } = fresh(kb * 1024);
      const m = decodeModule(bytes);
      const t0 = performance.now();
      instrument(bytes, m);
      return ((performance.now() - t0) * MB) / bytes.length;
    });
    scaling[`${kb}KiB`] = round(median(ms), 1);
  }
  scaling[`${Math.round(target / 1024)}KiB`] = round(median(instrumentMs) / mb, 1);
  const perMb = (xs: number[]) => round(median(xs) / mb, 2);
  const raw = perMb(rawCompile);
  return {
    deployModuleBytes: probe.bytes.length,
    deployModuleFunctions: probe.functions,
    deployModuleInstructions: sites.instructions,
    deployInstrumentedBytes: instrumentedBytes,
    deployInstrumentedGrowth: round(instrumentedBytes / probe.bytes.length),
    deployDecodeMsPerMB: perMb(decodeMs),
    deployInstrumentMsPerMB: perMb(instrumentMs),
    deployDecodeInstrumentMsPerMB: round(median(decodeMs.map((d, i) => d + instrumentMs[i])) / mb, 2),
    deployCompileAppMsPerMB: perMb(appMs),
    deployInstrumentedWasmCompileMsPerMB: perMb(meteredCompile),
    baselineWasmCompileMsPerMB: raw,
    deployCompileAppVsWasmCompile: round(perMb(appMs) / raw, 1),
    deployInstrumentMsPerMBBySize: scaling,
    deployRepetitions: {
      wasmCompile: rawCompile.length,
      instrumentedWasmCompile: meteredCompile.length,
      decodeInstrument: instrumentMs.length,
      compileApp: appMs.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// 3. App calls/s through txs

export interface AppChain {
  ledger: Ledger;
  genesis: GenesisState;
  /** Funded signers (one tx each per block keeps the nonces simple). */
  senders: PrivateKey[];
  /** The counter instance created from apps/build/counter.wasm. */
  counter: Uint8Array;
  /** Sign a tx from `key` with its next nonce. */
  sign(key: PrivateKey, payload: TxPayload, gasLimit: bigint): Tx;
  /**
   * Build as the proposer, execute + commit as the validator; every tx must be included and end ok.
   * Returns the validator's and the proposer's ms.
   */
  block(txs: Tx[]): Promise<{ validatorMs: number; buildMs: number }>;
  close(): Promise<void>;
}

/** A one-validator ledger on a temp dir with the counter app deployed and created, through txs. */
export async function openAppChain(senderCount: number): Promise<AppChain> {
  const validator = PrivateKey.generate();
  const owner = PrivateKey.generate();
  const senders = Array.from({ length: senderCount }, () => PrivateKey.generate());
  const genesis = createDevGenesis([validator], {
    chainId: 'vos-bench',
    genesisTime: Date.now() - 86_400_000,
    extraAccounts: [owner, ...senders].map((k) => ({ address: k.address, balance: 10n ** 18n })),
  });
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-vm-'));
  const { db, stateDb, tree } = await openChainDb(join(dir, 'chain'));
  const ledger = await Ledger.open({
    db,
    state: tree,
    genesis,
    genesisHash: genesisHash(genesis),
    stateSublevel: stateDb,
  });
  let last: Commit | null = null;
  const commitOf = (b: Block, time: number) => {
    const vote = Vote.sign(
      {
        type: VoteType.Precommit,
        height: b.height,
        round: 0,
        blockHash: b.hash(),
        time,
        validator: validator.address,
      },
      genesis.chainId,
      validator,
    );
    return new Commit(b.height, 0, b.hash(), [{ flag: CommitFlag.Commit, time, signature: vote.signature }]);
  };
  const nonces = new Map<string, bigint>();
  const sign = (key: PrivateKey, payload: TxPayload, gasLimit: bigint) => {
    const k = key.address.toHex();
    const nonce = nonces.get(k) ?? 0n;
    nonces.set(k, nonce + 1n);
    return Tx.sign(
      { chainId: genesis.chainId, nonce, payload, gasLimit, gasPrice: genesis.params.minGasPrice },
      key,
    );
  };
  const block = async (txs: Tx[]) => {
    const time = await ledger.nextBlockTime(last);
    const b0 = performance.now();
    const { block: b, dropped } = await ledger.buildBlock({
      time,
      proposer: validator.address,
      lastCommit: last,
      candidates: txs,
    });
    const buildMs = performance.now() - b0;
    if (dropped.length > 0) throw new Error(`dropped ${dropped.length}: ${String(dropped[0].error)}`);
    if (b.txs.length !== txs.length) throw new Error(`a block took ${b.txs.length} of ${txs.length} txs`);
    const t0 = performance.now();
    const verified = await ledger.executeBlock(b);
    last = commitOf(b, time + 1000);
    await ledger.commitBlock(b, last, verified);
    const validatorMs = performance.now() - t0;
    const failed = verified.receipts.find((r) => r.status !== ReceiptStatus.Ok);
    if (failed !== undefined) throw new Error(`a tx failed: ${failed.error}`);
    return { validatorMs, buildMs };
  };
  try {
    const code = await builtApp('counter');
    const hash = createHash('sha256').update(code).digest();
    await block([sign(owner, appPayload.deploy(code), 10_000_000n)]);
    const createNonce = nonces.get(owner.address.toHex()) ?? 0n;
    await block([sign(owner, appPayload.create(hash), 1_000_000n)]);
    const counter = appId(owner.address, createNonce);
    return {
      ledger,
      genesis,
      senders,
      counter,
      sign,
      block,
      async close() {
        await tree.close();
        await db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await tree.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function appTxs() {
  const perBlock = Number(process.env.VOS_BENCH_VM_BLOCK_TXS ?? 2000);
  const blocks = Number(process.env.VOS_BENCH_VM_BLOCKS ?? 5);
  const callGas = 100_000n;
  progress(`app txs: ${blocks} blocks of ${perBlock} increment calls, as many of transfers`);
  const chain = await openAppChain(perBlock);
  try {
    const recipient = PrivateKey.generate().address;
    const calls = () =>
      chain.senders.map((k) =>
        chain.sign(
          k,
          appPayload.call({
            app: chain.counter,
            method: 'increment',
            args: [],
            gas: callGas,
            input: new Uint8Array(0),
          }),
          1_000_000n,
        ),
      );
    const transfers = () =>
      chain.senders.map((k) =>
        chain.sign(k, { kind: TxKind.Transfer, body: { to: recipient, amount: 1n } }, 100_000n),
      );
    // Signed before the clock starts: one warm-up block of each, then interleaved timed blocks.
    const batches: { kind: 'call' | 'transfer'; txs: Tx[] }[] = [];
    for (let i = 0; i <= blocks; i++) {
      batches.push({ kind: 'transfer', txs: transfers() });
      batches.push({ kind: 'call', txs: calls() });
    }
    const callMs: number[] = [];
    const transferMs: number[] = [];
    const callBuildMs: number[] = [];
    const transferBuildMs: number[] = [];
    for (const [i, b] of batches.entries()) {
      const r = await chain.block(b.txs);
      if (i < 2) continue;
      (b.kind === 'call' ? callMs : transferMs).push(r.validatorMs);
      (b.kind === 'call' ? callBuildMs : transferBuildMs).push(r.buildMs);
    }
    const state = decodeAppState(await chain.ledger.getState(stateKey(chain.counter)));
    const count = Buffer.from(state.get('count') ?? new Uint8Array(8)).readBigUInt64LE(0);
    const expected = BigInt(perBlock * (blocks + 1));
    if (count !== expected) throw new Error(`the counter is ${count}, not ${expected}`);
    const c = median(callMs);
    const t = median(transferMs);
    const callsPerSec = Math.round((perBlock * 1000) / c);
    const transfersPerSec = Math.round((perBlock * 1000) / t);
    return {
      appTxsPerBlock: perBlock,
      appTxsBlocksTimed: blocks,
      appCallGasBudget: Number(callGas),
      appCallsPerSec: callsPerSec,
      baselineTransfersPerSec: transfersPerSec,
      appCallsVsTransfers: round(callsPerSec / transfersPerSec),
      appCallBlockMs: round(c, 1),
      transferBlockMs: round(t, 1),
      appCallUsPerTx: round((c * 1000) / perBlock, 1),
      transferUsPerTx: round((t * 1000) / perBlock, 1),
      appCallBuildBlockMs: round(median(callBuildMs), 1),
      transferBuildBlockMs: round(median(transferBuildMs), 1),
    };
  } finally {
    await chain.close();
  }
}

async function queries() {
  const chain = await openAppChain(4);
  try {
    await chain.block(
      chain.senders.map((k) =>
        chain.sign(
          k,
          appPayload.call({
            app: chain.counter,
            method: 'increment',
            args: [],
            gas: 1_000_000n,
            input: new Uint8Array(0),
          }),
          2_000_000n,
        ),
      ),
    );
    const deps = {
      getAt: (key: Uint8Array) => chain.ledger.getState(key),
      head: () => ({ height: chain.ledger.head.height, time: chain.ledger.head.time }),
      maxGas: 100_000_000n,
    };
    const q = { app: chain.counter, method: 'get', args: [], input: new Uint8Array(0) };
    const first = await queryApp(deps, q);
    if (first.value !== '4') throw new Error(`query: count ${first.value}, want 4`);
    const key = stateKey(chain.counter);
    const rate = async (f: () => Promise<unknown>) => {
      for (let i = 0; i < 500; i++) await f();
      const reps: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        for (let i = 0; i < 2000; i++) await f();
        reps.push(2000 / ((performance.now() - t) / 1000));
      }
      return median(reps);
    };
    const qps = await rate(() => queryApp(deps, q));
    const reads = await rate(() => chain.ledger.getState(key));
    return {
      queriesPerSecond: Math.round(qps),
      baselineStateReadsPerSecond: Math.round(reads),
      queryVsStateRead: round(qps / reads, 3),
    };
  } finally {
    await chain.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const m = await metering();
  const d = await deploy();
  const a = await appTxs();
  const q = await queries();
  return {
    ...m,
    ...d,
    ...a,
    ...q,
    benchSeconds: round((performance.now() - t0) / 1000, 1),
    note: 'metering: the built AS apps (no imports) through compileApp + AppInstance.call against the same bytes via WebAssembly.instantiate, median of 15 interleaved repetitions after 20 warm-up calls; deploy: a generated module, fresh bytes per repetition (V8 caches by bytes), V8 default lazy function compilation (WebAssembly.compile validates; Liftoff code comes at the first call); app txs: one ledger, validator execute + commit (fsync) of blocks built by the same ledger (as control.bench; no mempool, so execute verifies every signature, both kinds alike), one tx per sender per block, one warm-up block of each kind, median of the timed blocks',
  };
}
