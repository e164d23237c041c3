/**
 * JSON-RPC requests/s of one in-process validator for `node_status` and `chain_getBlock` (a block of
 * VOS_BENCH_RPC_TXS transfers, default 100), over HTTP (keep-alive) and WebSocket, beside a bare
 * `node:http` server (and a bare `ws` server on it) answering the same JSON bytes in the same run: the
 * ratio is what the RPC layer (param checks, limits, handler, serialization) costs over the transport.
 * The load runs in a worker thread (the machine's second core), VOS_BENCH_RPC_CONCURRENCY requests in
 * flight (default 16), VOS_BENCH_RPC_SECONDS per figure (default 3) after a 0.5 s warm-up. The node's
 * rate limit is on but set too high to refuse (its cost is in the figure).
 * Then the web app: its bundle size and the time to the first dashboard render in Chromium beside a
 * bare page (bench/web-render.ts).
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket, { WebSocketServer } from 'ws';
import { webFigures } from './web-render.js';

const SECONDS = Number(process.env.VOS_BENCH_RPC_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.VOS_BENCH_RPC_CONCURRENCY ?? 16);
const BLOCK_TXS = Number(process.env.VOS_BENCH_RPC_TXS ?? 100);
const WARMUP_S = 0.5;

const progress = (msg: string) =>
  process.stderr.write(`[rpc ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

interface LoadJob {
  transport: 'http' | 'ws';
  url: string;
  body: string;
  seconds: number;
  concurrency: number;
}

interface LoadResult {
  rps: number;
  errors: number;
}

// ---- the load (worker thread) ----

/** Requests/s of `concurrency` callers posting `body` back to back over keep-alive connections. */
async function httpLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const u = new URL(job.url);
  const post = () =>
    new Promise<boolean>((resolve) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          method: 'POST',
          path: '/',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(job.body) },
        },
        (res) => {
          let ok = res.statusCode === 200;
          let first = true;
          res.on('data', (c: Buffer) => {
            if (first) ok &&= c.includes('"result"');
            first = false;
          });
          res.on('end', () => resolve(ok));
        },
      );
      req.on('error', () => resolve(false));
      req.end(job.body);
    });
  const measure = async (seconds: number) => {
    let n = 0;
    let errors = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (performance.now() < end) {
          if (await post()) n++;
          else errors++;
        }
      }),
    );
    return { rps: n / ((performance.now() - start) / 1000), errors };
  };
  await measure(WARMUP_S);
  const r = await measure(job.seconds);
  agent.destroy();
  return r;
}

/** Requests/s over one WebSocket with `concurrency` requests in flight. */
async function wsLoad(job: LoadJob): Promise<LoadResult> {
  const ws = new WebSocket(job.url.replace(/^http/, 'ws'));
  await once(ws, 'open');
  const template = JSON.parse(job.body) as Record<string, unknown>;
  let id = 0;
  const send = () => ws.send(JSON.stringify({ ...template, id: ++id }));
  const measure = (seconds: number) =>
    new Promise<LoadResult>((resolve) => {
      let n = 0;
      let errors = 0;
      let inflight = 0;
      const start = performance.now();
      const end = start + seconds * 1000;
      const onMessage = (data: Buffer) => {
        inflight--;
        if (data.includes('"result"')) n++;
        else errors++;
        if (performance.now() < end) {
          inflight++;
          send();
        } else if (inflight === 0) {
          ws.off('message', onMessage);
          resolve({ rps: n / ((performance.now() - start) / 1000), errors });
        }
      };
      ws.on('message', onMessage);
      for (let i = 0; i < job.concurrency; i++) {
        inflight++;
        send();
      }
    });
  await measure(WARMUP_S);
  const r = await measure(job.seconds);
  ws.close();
  return r;
}

if (!isMainThread && (workerData as { rpcBenchLoad?: LoadJob } | null)?.rpcBenchLoad !== undefined) {
  const job = (workerData as { rpcBenchLoad: LoadJob }).rpcBenchLoad;
  (job.transport === 'http' ? httpLoad(job) : wsLoad(job)).then(
    (r) => parentPort?.postMessage(r),
    (err) => parentPort?.postMessage({ rps: 0, errors: -1, message: String(err) }),
  );
}

/** Run one load in a worker thread (this file), so it does not share the server's event loop. */
async function load(job: LoadJob): Promise<LoadResult> {
  const w = new Worker(new URL(import.meta.url), { workerData: { rpcBenchLoad: job } });
  const [r] = (await once(w, 'message')) as [LoadResult & { message?: string }];
  await w.terminate();
  if (r.errors < 0) throw new Error(`load failed: ${r.message}`);
  return r;
}

// ---- the bare server ----

/**
 * A node:http server (with a ws server on it) that answers each JSON-RPC request with the canned
 * answer of its method, the request's id spliced in: the transport and JSON framing, no RPC work.
 */
async function bareServer(
  answers: Map<string, string>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const answer = (text: string) => {
    const m = JSON.parse(text) as { id: number; method: string };
    return `{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":${answers.get(m.method) ?? 'null'}}`;
  };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out = answer(Buffer.concat(chunks).toString());
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  http.keepAliveTimeout = 65_000;
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(answer(data.toString()))));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const a = http.address() as { port: number };
  return {
    url: `http://127.0.0.1:${a.port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

// ---- the run ----

export async function run() {
  const [
    { PrivateKey },
    { Tx, TxKind },
    { LocalHub },
    { createDevGenesis },
    { defaultConfig },
    { VosNode },
    { RpcClient },
    { toHex },
    { silentLogger },
  ] = await Promise.all([
    import('../chain/keys.js'),
    import('../chain/tx/index.js'),
    import('../consensus/sim/local-hub.js'),
    import('../genesis/genesis.js'),
    import('../node/config.js'),
    import('../node/node.js'),
    import('../rpc/client.js'),
    import('../util/bytes.js'),
    import('../util/logger.js'),
  ]);
  const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(210));
  const sender = PrivateKey.fromSeed(new Uint8Array(32).fill(211));
  const genesis = createDevGenesis([validator], {
    chainId: 'vos-bench-rpc',
    genesisTime: Date.now(),
    extraAccounts: [{ address: sender.address, balance: 10n ** 18n }],
  });
  const config = defaultConfig({ rpcPort: 0 });
  // On (its cost is measured) but never refusing; the load holds CONCURRENCY connections.
  config.rpc.ratePerIp = 10_000_000;
  config.rpc.rateBurst = 10_000_000;
  config.rpc.maxHttpConnectionsPerIp = Math.max(config.rpc.maxHttpConnectionsPerIp, 4 * CONCURRENCY);
  config.rpc.wsMaxInflight = Math.max(config.rpc.wsMaxInflight, CONCURRENCY);
  const home = await mkdtemp(join(tmpdir(), 'vos-bench-rpc-'));
  const node = await VosNode.create({
    home,
    config,
    genesis,
    key: validator,
    logger: silentLogger(),
    transport: new LocalHub().transportFor('v'),
  });
  progress('opening node');
  await node.open();
  let bare: Awaited<ReturnType<typeof bareServer>> | undefined;
  try {
    const client = new RpcClient(node.rpcUrl, { timeoutMs: 60_000 });
    // One block with BLOCK_TXS transfers: chain_getBlock answers it.
    const to = PrivateKey.fromSeed(new Uint8Array(32).fill(212)).address;
    const txs = Array.from({ length: BLOCK_TXS }, (_, i) =>
      Tx.sign(
        {
          chainId: genesis.chainId,
          nonce: BigInt(i),
          kind: TxKind.Transfer,
          payload: { kind: TxKind.Transfer, body: { to, amount: 1n } },
          gasLimit: 50_000n,
          gasPrice: 1n,
        },
        sender,
      ),
    );
    for (let i = 0; i < txs.length; i += 100)
      await client.batch(
        txs.slice(i, i + 100).map((t) => ({ method: 'tx_send', params: [toHex(t.serialize())] })),
      );
    const last = toHex(txs[txs.length - 1].hash());
    let located: { height: number | null } | null = null;
    for (let i = 0; i < 600 && (located?.height ?? null) === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      located = await client.call('tx_get', [last]);
    }
    if (located?.height == null) throw new Error('the bench txs were not committed within 60 s');
    const blockHeight = located.height;
    const block = await client.call('chain_getBlock', [blockHeight]);
    progress(`block ${blockHeight} has ${block?.txs.length} txs`);

    const bodies = {
      node_status: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node_status', params: [] }),
      chain_getBlock: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'chain_getBlock',
        params: [blockHeight],
      }),
    };
    // The bare server's answers: the node's own results, byte for byte.
    const answers = new Map<string, string>();
    for (const [m, body] of Object.entries(bodies)) {
      const res = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.text();
      answers.set(m, JSON.stringify((JSON.parse(text) as { result: unknown }).result));
    }
    bare = await bareServer(answers);

    const out: Record<string, number | null> = {
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      blockTxs: block?.txs.length ?? 0,
      blockAnswerBytes: Buffer.byteLength(answers.get('chain_getBlock') ?? ''),
    };
    for (const transport of ['http', 'ws'] as const) {
      for (const [m, body] of Object.entries(bodies)) {
        progress(`${transport} ${m}: node`);
        const v = await load({
          transport,
          url: node.rpcUrl,
          body,
          seconds: SECONDS,
          concurrency: CONCURRENCY,
        });
        progress(`${transport} ${m}: bare node:http`);
        const b = await load({ transport, url: bare.url, body, seconds: SECONDS, concurrency: CONCURRENCY });
        if (v.errors > 0 || b.errors > 0) progress(`  errors: node ${v.errors}, bare ${b.errors}`);
        out[`${transport}_${m}_rps`] = Math.round(v.rps);
        out[`${transport}_${m}_bare_rps`] = Math.round(b.rps);
        out[`${transport}_${m}_ratio`] = Number((v.rps / b.rps).toFixed(3));
        out[`${transport}_${m}_errors`] = v.errors;
      }
    }
    Object.assign(out, await webFigures(node.rpcUrl, progress));
    return out;
  } finally {
    await bare?.close();
    await node.close();
    await rm(home, { recursive: true, force: true });
  }
}
