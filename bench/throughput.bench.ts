/**
 * Committed transfers/s of one validator running as a separate `vos start` process: 100,000 transfers
 * are signed up front (from 2,000 funded senders, 50 nonces each) and submitted over JSON-RPC batches of
 * tx_send; the figure is txs committed ÷ time from the first submission to the last commit. Beside it,
 * this machine's Ed25519 verify rates (one core, worker pool) measured in the same run before the node
 * starts, and the node's peak RSS (VmHWM from /proc).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrivateKey } from '../chain/keys.js';
import { TxKind } from '../chain/tx/kinds.js';
import { Tx } from '../chain/tx/tx.js';
import { initHome } from '../cli/commands/init.js';
import { createDevGenesis, genesisToJSON } from '../genesis/genesis.js';
import { homePaths } from '../node/config.js';
import { RpcClient } from '../rpc/client.js';
import { RpcResponseError } from '../rpc/errors.js';
import { toHex } from '../util/bytes.js';
import { measureVerifyRates } from './verify.bench.js';

export const BIN = fileURLToPath(new URL('../../bin/vos.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function waitForRpc(client: RpcClient, child: ChildProcess, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`node exited with code ${child.exitCode}`);
    try {
      await client.call('node_status');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error('node RPC did not come up');
}

export async function peakRssBytes(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export async function run(opts: { txs?: number; senders?: number; batch?: number } = {}) {
  const total = opts.txs ?? Number(process.env.VOS_BENCH_TXS ?? 100_000);
  const senderCount = opts.senders ?? 2_000;
  const batchSize = opts.batch ?? 500;
  const perSender = Math.ceil(total / senderCount);
  const verify = await measureVerifyRates();

  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-tput-'));
  const validator = PrivateKey.generate();
  const senders = Array.from({ length: senderCount }, () => PrivateKey.generate());
  const recipient = PrivateKey.generate().address;
  const genesis = createDevGenesis([validator], {
    chainId: 'vos-bench',
    extraAccounts: senders.map((k) => ({ address: k.address, balance: 10n ** 24n })),
  });
  const genesisFile = join(dir, 'genesis.json');
  await writeFile(genesisFile, JSON.stringify(genesisToJSON(genesis)));
  const rpcPort = await freePort();
  const home = join(dir, 'node');
  await initHome({ home, genesis: genesisFile, key: validator, plainKeyReason: 'benchmark', rpcPort });
  // The node's default batch cap is 100 calls; this load generator sends larger batches.
  const cfgFile = homePaths(home).config;
  const cfg = JSON.parse(await readFile(cfgFile, 'utf8'));
  cfg.rpc.maxBatch = Math.max(cfg.rpc.maxBatch, batchSize);
  cfg.rpc.ratePerIp = 0; // the load generator is one client sending far more than the per-IP default
  await writeFile(cfgFile, JSON.stringify(cfg));

  // Pre-sign everything before the clock starts.
  const minGasPrice = genesis.params.minGasPrice;
  const t0 = performance.now();
  const txs: string[] = [];
  for (let n = 0; n < perSender && txs.length < total; n++) {
    for (const k of senders) {
      if (txs.length >= total) break;
      const tx = Tx.sign(
        {
          chainId: genesis.chainId,
          nonce: BigInt(n),
          kind: TxKind.Transfer,
          payload: { kind: TxKind.Transfer, body: { to: recipient, amount: 1n } },
          gasLimit: 50_000n,
          gasPrice: minGasPrice,
        },
        k,
      );
      txs.push(toHex(tx.serialize()));
    }
  }
  const signSeconds = (performance.now() - t0) / 1000;

  const nodeArgs = process.env.VOS_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'start', '--home', home, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const client = new RpcClient(`http://127.0.0.1:${rpcPort}`, { timeoutMs: 120_000 });
  let peakRss = 0;
  try {
    await waitForRpc(client, child, 30_000);
    const ws = await RpcClient.connectWs(`ws://127.0.0.1:${rpcPort}`);
    let committed = 0;
    let blocks = 0;
    let lastCommitAt = 0;
    let maxBlockTxs = 0;
    let resolveDone = () => {};
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    await ws.subscribe('newHeads', (h: unknown) => {
      const n = (h as { txs: number }).txs;
      if (n > 0) {
        committed += n;
        blocks++;
        maxBlockTxs = Math.max(maxBlockTxs, n);
        lastCommitAt = performance.now();
      }
      if (committed >= total) resolveDone();
    });
    const sampler = setInterval(() => {
      peakRssBytes(child.pid!).then(
        (r) => {
          peakRss = Math.max(peakRss, r.hwm, r.rss);
        },
        () => {},
      );
    }, 500);
    const start = performance.now();
    let rejected = 0;
    // Two batches in flight: one being decoded by the node while the next is on the wire.
    const batches: string[][] = [];
    for (let i = 0; i < txs.length; i += batchSize) batches.push(txs.slice(i, i + batchSize));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const b = batches[next++];
        const res = await client.batch(b.map((hex) => ({ method: 'tx_send', params: [hex] })));
        for (const r of res) if (r instanceof RpcResponseError) rejected++;
      }
    };
    await Promise.all([worker(), worker()]);
    const submitSeconds = (performance.now() - start) / 1000;
    if (rejected > 0) throw new Error(`${rejected} transfers were rejected by the node`);
    // newHeads is the clock; if it stalls, the chain itself says what was committed (a notification
    // can be lost to a slow subscriber, a tx cannot be lost silently).
    const stalled = new Promise<void>((resolve, reject) => {
      let seen = -1;
      const check = setInterval(async () => {
        if (committed !== seen) {
          seen = committed;
          return;
        }
        clearInterval(check);
        const status = (await client.call('node_status', [])) as {
          height: number;
          mempool: { size: number };
        };
        let onChain = 0;
        for (let h = 1; h <= status.height; h++) {
          const b = (await client.call('chain_getBlock', [h])) as { txs: unknown[] } | null;
          onChain += b?.txs.length ?? 0;
        }
        if (onChain >= total) {
          process.stderr.write(`bench: newHeads missed ${onChain - committed} txs; counted from the chain\n`);
          committed = onChain;
          resolve();
        } else {
          reject(new Error(`only ${onChain}/${total} committed; mempool holds ${status.mempool.size}`));
        }
      }, 15_000);
      done.then(() => clearInterval(check));
    });
    await Promise.race([done, stalled]);
    clearInterval(sampler);
    const r = await peakRssBytes(child.pid!);
    peakRss = Math.max(peakRss, r.hwm);
    ws.close();
    const seconds = (lastCommitAt - start) / 1000;
    const tps = committed / seconds;
    return {
      transfers: committed,
      senders: senderCount,
      rpcBatchSize: batchSize,
      presignSeconds: Number(signSeconds.toFixed(2)),
      submitSeconds: Number(submitSeconds.toFixed(2)),
      submitToLastCommitSeconds: Number(seconds.toFixed(2)),
      blocksWithTxs: blocks,
      maxTxsPerBlock: maxBlockTxs,
      committedTxPerSec: Math.round(tps),
      baselineSingleCoreVerifyPerSec: verify.singleCoreVerifyPerSec,
      baselinePoolVerifyPerSec: verify.poolVerifyPerSec,
      ratioToPoolVerify: Number((tps / verify.poolVerifyPerSec).toFixed(3)),
      ratioToSingleCoreVerify: Number((tps / verify.singleCoreVerifyPerSec).toFixed(3)),
      nodePeakRssMiB: Math.round(peakRss / 2 ** 20),
      goal: 'committedTxPerSec >= 5000 and ratioToPoolVerify >= 0.4',
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await rm(dir, { recursive: true, force: true });
  }
}
