/**
 * Load generator for the devnet benchmark, run as its own process (so the load does not share the
 * nodes' event loops): pre-signs transfers from deterministic bench senders, submits them over JSON-RPC
 * batches round-robin to the nodes, either as fast as possible or at a fixed rate, and in rate mode
 * measures each tx's submit->commit latency from the committed blocks. Prints one JSON line.
 *
 * Input: env VOS_LOADGEN = {"rpcs": [...], "chainId": "...", "senders": N, "count": N, "rate": 0|tx/s}
 */
import '../util/polyfill.js';
import { sha256 } from '../chain/hash.js';
import { PrivateKey } from '../chain/keys.js';
import { TxKind } from '../chain/tx/kinds.js';
import { Tx } from '../chain/tx/tx.js';
import { RpcClient } from '../rpc/client.js';
import { RpcResponseError } from '../rpc/errors.js';
import { toHex, utf8 } from '../util/bytes.js';

export function benchSender(i: number): PrivateKey {
  return PrivateKey.fromSeed(sha256(utf8(`vos-bench-sender-${i}`)));
}

interface Job {
  rpcs: string[];
  chainId: string;
  senders: number;
  count: number;
  rate: number;
  /** First nonce of every sender (a second run continues where the first stopped). */
  nonceBase?: number;
}

function presign(job: Job): { hex: string; hash: string }[] {
  const to = benchSender(1_000_000).address;
  const perSender = Math.ceil(job.count / job.senders);
  const out: { hex: string; hash: string }[] = [];
  const keys = Array.from({ length: job.senders }, (_, i) => benchSender(i));
  for (let n = 0; n < perSender; n++) {
    for (let s = 0; s < job.senders && out.length < job.count; s++) {
      const tx = Tx.sign(
        {
          chainId: job.chainId,
          nonce: BigInt((job.nonceBase ?? 0) + n),
          kind: TxKind.Transfer,
          payload: { kind: TxKind.Transfer, body: { to, amount: 1n } },
          gasLimit: 50_000n,
          gasPrice: 1n,
        },
        keys[s],
      );
      out.push({ hex: toHex(tx.serialize()), hash: toHex(tx.hash()) });
    }
  }
  return out;
}

async function submit(client: RpcClient, batch: { hex: string }[]): Promise<number> {
  const res = await client.batch(batch.map((t) => ({ method: 'tx_send', params: [t.hex] })));
  return res.filter((r) => r instanceof RpcResponseError).length;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.VOS_LOADGEN ?? '{}') as Job;
  const txs = presign(job);
  const clients = job.rpcs.map((u) => new RpcClient(u, { timeoutMs: 120_000 }));
  let rejected = 0;
  const t0 = performance.now();
  // Wall clock of the first submission: the bench's window starts here, not before the pre-signing.
  const startedAtMs = Date.now();
  if (job.rate === 0) {
    const batches: { hex: string }[][] = [];
    for (let i = 0; i < txs.length; i += 500) batches.push(txs.slice(i, i + 500));
    let next = 0;
    await Promise.all(
      clients.map(async (c) => {
        while (next < batches.length) rejected += await submit(c, batches[next++]);
      }),
    );
    process.stdout.write(
      `${JSON.stringify({ submitted: txs.length, rejected, startedAtMs, submitSeconds: (performance.now() - t0) / 1000 })}\n`,
    );
    return;
  }
  // Rate mode: every 50 ms a slice goes to the next node; latency from the blocks that commit them.
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const ws = await RpcClient.connectWs(job.rpcs[0].replace('http', 'ws'));
  const reader = new RpcClient(job.rpcs[0]);
  const done = new Promise<void>((resolve) => {
    void ws.subscribe('newHeads', async (h: unknown) => {
      const head = h as { height: number; txs: number };
      if (head.txs === 0) return;
      const now = performance.now();
      const b = (await reader.call('chain_getBlock', [head.height])) as { txs: { hash: string }[] };
      for (const t of b.txs) {
        const at = sentAt.get(t.hash);
        if (at !== undefined) latencies.push(now - at);
      }
      if (latencies.length >= txs.length) resolve();
    });
  });
  const perTick = Math.max(1, Math.round(job.rate / 20));
  for (let i = 0, k = 0; i < txs.length; i += perTick, k++) {
    const slice = txs.slice(i, i + perTick);
    const at = performance.now();
    for (const t of slice) sentAt.set(t.hash, at);
    rejected += await submit(clients[k % clients.length], slice);
    const wait = t0 + ((i + perTick) / job.rate) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
  ws.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] / 1000;
  process.stdout.write(
    `${JSON.stringify({ submitted: txs.length, rejected, committed: latencies.length, p50Seconds: q(0.5), p99Seconds: q(0.99) })}\n`,
  );
}

if (process.argv[1]?.endsWith('load-gen.js')) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`load-gen: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
