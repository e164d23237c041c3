/**
 * The 4-validator network on loopback (four `vos start` processes over libp2p, like `vos devnet`),
 * with 2,000 funded bench senders in its genesis:
 *  (c) block sync: a fresh full node joins and syncs the chain; blocks/s;
 *  (a) committed tx/s under load from a separate load-generator process (bench/load-gen.ts), beside the
 *      verify-rate bound / 4 (every validator verifies every tx, four validators share the cores);
 *  (b) submit->commit latency p50/p99 with 1,000 tx/s offered.
 *  (d) QUIC vs TCP: not measured yet (QUIC is not enabled; see the README).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrivateKey } from '../chain/keys.js';
import { initHome } from '../cli/commands/init.js';
import { createDevGenesis, genesisToJSON } from '../genesis/genesis.js';
import { homePaths } from '../node/config.js';
import { peerIdOf } from '../p2p/host.js';
import { RpcClient } from '../rpc/client.js';
import { benchSender } from './load-gen.js';
import { BIN, freePort, peakRssBytes, waitForRpc } from './throughput.bench.js';
import { measureVerifyRates } from './verify.bench.js';

const SENDERS = 2000;
const LOAD_TXS = Number(process.env.VOS_BENCH_NET_TXS ?? 40_000);
const SYNC_BLOCKS = Number(process.env.VOS_BENCH_SYNC_BLOCKS ?? 1500);
const LOADGEN = fileURLToPath(new URL('./load-gen.js', import.meta.url));

function startNode(home: string, args: string[] = [], nodeArgs: string[] = []): ChildProcess {
  const p = spawn(
    process.execPath,
    [...nodeArgs, BIN, 'start', '--home', home, '--log-level', 'warn', ...args],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, VOS_EMPTY_BLOCK_INTERVAL_MS: '0' },
    },
  );
  return p;
}

async function height(c: RpcClient): Promise<number> {
  return ((await c.call('node_status', [])) as { height: number }).height;
}

function runLoadGen(job: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [LOADGEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, VOS_LOADGEN: JSON.stringify(job) },
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += String(d);
    });
    p.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`load-gen exited ${code}`)),
    );
  });
}

export async function run() {
  const { singleCoreVerifyPerSec, poolVerifyPerSec } = await measureVerifyRates(20_000);
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-net-'));
  const procs: ChildProcess[] = [];
  try {
    const keys = Array.from({ length: 4 }, () => PrivateKey.generate());
    const senders = Array.from({ length: SENDERS }, (_, i) => ({
      address: benchSender(i).address,
      balance: 10n ** 18n,
    }));
    const genesis = createDevGenesis(keys, { chainId: 'vos-bench-net', extraAccounts: senders });
    const genesisFile = join(dir, 'genesis.json');
    await writeFile(genesisFile, JSON.stringify(genesisToJSON(genesis)));
    const ports = await Promise.all(keys.map(async () => ({ rpc: await freePort(), p2p: await freePort() })));
    const addrs = await Promise.all(
      keys.map(async (k, i) => `/ip4/127.0.0.1/tcp/${ports[i].p2p}/p2p/${await peerIdOf(k)}`),
    );
    const rpcs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const home = join(dir, `node${i}`);
      await initHome({
        home,
        genesis: genesisFile,
        key: keys[i],
        plainKeyReason: 'bench',
        rpcPort: ports[i].rpc,
        p2pPort: ports[i].p2p,
        dnsPort: await freePort(),
      });
      const cfgFile = homePaths(home).config;
      const cfg = JSON.parse(await readFile(cfgFile, 'utf8'));
      cfg.p2p.seeds = addrs.filter((_, j) => j !== i);
      // The load generator (load-gen.ts) sends batches of 500; the node's default cap is 100.
      cfg.rpc.maxBatch = 500;
      cfg.rpc.ratePerIp = 0; // one load generator on loopback: no per-IP rate limit
      if (process.env.VOS_BENCH_MAX_BLOCK_TXS)
        cfg.consensus.maxBlockTxs = Number(process.env.VOS_BENCH_MAX_BLOCK_TXS);
      await writeFile(cfgFile, JSON.stringify(cfg));
      procs.push(startNode(home, [], process.env.VOS_BENCH_NODE_ARGS?.split(' ').filter(Boolean)));
      rpcs.push(`http://127.0.0.1:${ports[i].rpc}`);
    }
    const c0 = new RpcClient(rpcs[0]);
    for (let i = 0; i < 4; i++) await waitForRpc(new RpcClient(rpcs[i]), procs[i], 30_000);

    const parts = process.env.VOS_BENCH_DEVNET_PARTS ?? 'all';
    let syncFigures: Record<string, number> = {};
    if (parts !== 'load') {
      // (c) Block sync of SYNC_BLOCKS blocks by a fresh full node.
      while ((await height(c0)) < SYNC_BLOCKS) await new Promise((r) => setTimeout(r, 500));
      const fullHome = join(dir, 'full');
      const fullPorts = { rpc: await freePort(), p2p: await freePort() };
      await initHome({
        home: fullHome,
        genesis: genesisFile,
        plainKeyReason: 'bench',
        rpcPort: fullPorts.rpc,
        p2pPort: fullPorts.p2p,
        dnsPort: await freePort(),
      });
      // The validators stop producing while the full node syncs (SIGSTOP on three of them: node0 has no
      // quorum and idles, serving the sync). On a 2-core machine five busy processes would otherwise
      // measure CPU sharing, not sync; in production the serving peer runs on its own machine.
      for (const p of procs.slice(1, 4)) p.kill('SIGSTOP');
      const target = await height(c0);
      const tSpawn = performance.now();
      const full = startNode(
        fullHome,
        ['--join', addrs[0]],
        process.env.VOS_BENCH_SYNC_NODE_ARGS?.split(' ').filter(Boolean),
      );
      procs.push(full);
      const cf = new RpcClient(`http://127.0.0.1:${fullPorts.rpc}`);
      await waitForRpc(cf, full, 30_000);
      const tSync = performance.now();
      const h0 = await height(cf);
      while ((await height(cf)) < target) await new Promise((r) => setTimeout(r, 20));
      const syncSeconds = (performance.now() - tSync) / 1000;
      const syncSecondsWithStartup = (performance.now() - tSpawn) / 1000;
      const exited = new Promise((r) => full.once('exit', r));
      full.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      for (const p of procs.slice(1, 4)) p.kill('SIGCONT');
      syncFigures = {
        syncedBlocks: target,
        blockSyncBlocksPerSec: Math.round((target - h0) / syncSeconds),
        blockSyncWithStartupBlocksPerSec: Math.round(target / syncSecondsWithStartup),
      };
    }
    if (process.env.VOS_BENCH_DEVNET_PARTS === 'sync') return syncFigures;

    // (a) Throughput under load from a separate process.
    let committed = 0;
    let lastCommitAt = 0;
    let blocksWithTxs = 0;
    let maxTxsPerBlock = 0;
    const ws = await RpcClient.connectWs(rpcs[0].replace('http', 'ws'));
    await ws.subscribe('newHeads', (h: unknown) => {
      const n = (h as { txs: number }).txs;
      if (n > 0) {
        committed += n;
        blocksWithTxs++;
        maxTxsPerBlock = Math.max(maxTxsPerBlock, n);
        lastCommitAt = Date.now();
      }
    });
    const load = await runLoadGen({
      rpcs,
      chainId: genesis.chainId,
      senders: SENDERS,
      count: LOAD_TXS,
      rate: 0,
    });
    const deadline = Date.now() + 300_000;
    while (committed < LOAD_TXS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // From the load generator's first submission (after it pre-signed the txs) to the last commit.
    const loadSeconds = (lastCommitAt - load.startedAtMs) / 1000;
    ws.close();
    let peakRss = 0;
    for (const p of procs.slice(0, 4)) peakRss = Math.max(peakRss, (await peakRssBytes(p.pid!)).hwm);

    // (b) Latency at 1,000 tx/s offered (the next nonces of the same senders).
    const perSender = Math.ceil(LOAD_TXS / SENDERS);
    const lat = await runLoadGen({
      rpcs,
      chainId: genesis.chainId,
      senders: SENDERS,
      count: 10_000,
      rate: 1000,
      nonceBase: perSender,
    });

    if (!(lat.committed > 0)) throw new Error(`latency run measured nothing: ${JSON.stringify(lat)}`);
    const tps = Math.round(committed / loadSeconds);
    return {
      validators: 4,
      ...syncFigures,
      loadTxs: LOAD_TXS,
      loadRejected: load.rejected,
      committedTxs: committed,
      committedTxPerSec: tps,
      blocksWithTxs,
      maxTxsPerBlock,
      baselinePoolVerifyPerSec: poolVerifyPerSec,
      baselineSingleCoreVerifyPerSec: singleCoreVerifyPerSec,
      verifyBoundDiv4: Math.round(poolVerifyPerSec / 4),
      ratioToVerifyBoundDiv4: Number((tps / (poolVerifyPerSec / 4)).toFixed(3)),
      latencyOfferedTxPerSec: 1000,
      latencyCommitted: lat.committed,
      latencyP50Seconds: Number(lat.p50Seconds.toFixed(3)),
      latencyP99Seconds: Number(lat.p99Seconds.toFixed(3)),
      nodePeakRssMiB: Math.round(peakRss / 1024 / 1024),
      transports:
        'votes and evidence over QUIC, proposals, txs and block sync over TCP (see the transport bench)',
      goal: 'committedTxPerSec >= 3000; p50 <= 0.5 s, p99 <= 1.5 s at 1,000 tx/s; block sync >= 1,000 blocks/s',
    };
  } finally {
    if (process.env.VOS_BENCH_NODE_ARGS) {
      // Profiling: let the validators exit cleanly so they write their profiles.
      const exits = procs
        .filter((p) => p.exitCode === null)
        .map((p) => new Promise((r) => p.once('exit', r)));
      for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
      await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 15_000))]);
    }
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}
