/**
 * The communication service (services/comm) between two nodes in this process, over real TCP sockets
 * on 127.0.0.1 (TCP + Noise + Yamux, the node's own libp2p host from p2p/host.ts):
 *  - direct: A dials B's TCP address;
 *  - relayed: B has no listen address of its own, only `/p2p/<R>/p2p-circuit` through a third host R
 *    that runs the circuit relay server (B's reservation unlimited: `relayUnlimited: () => true`, else a
 *    non-validator's relayed connections end after 4 MiB); A reaches B through R.
 * Figures, each beside a baseline of the same run:
 *  - `CommService.send`: latency from the send() call to B's `onEvent` 'message' for that id, p50/p99
 *    over sequential sends; messages/s with 16 sends in flight (a send resolves once B has delivered and
 *    answered). A message is sealed (X25519 + AES-GCM), signed and verified (Ed25519), and written to
 *    LevelDB on both sides (history, sequence, seen id). Baselines: a raw libp2p request/response on one
 *    new stream per message (what the transport alone costs) and this machine's Ed25519 verify rate.
 *  - byte streams: MB/s through `openStream(to, topic)` / `handleStream(topic, ...)` (B drains and counts)
 *    beside a raw libp2p stream on `/bench/raw/1` between the same two hosts, interleaved rounds, the
 *    median of each; the ratio comm / raw.
 * The chain is not needed for the transport: the comm directory is a map address -> public key, no
 * names (resolveName undefined, ownName undefined), so no chain read is in the figures. Mailbox
 * collection is pushed out (collectIntervalMs one hour) so that DHT queries do not run during the runs.
 *
 * VOS_BENCH_COMM_MSGS (default 500): sequential sends for latency, and 2x that in the concurrent batch;
 * VOS_BENCH_COMM_STREAM_MB (default 64): MiB per stream round (3 rounds each of comm and raw, per path).
 */
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stream } from '@libp2p/interface';
import { x25519 } from '@noble/curves/ed25519.js';
import { PrivateKey } from '../chain/keys.js';
import { frame, readFrames } from '../p2p/framing.js';
import { createHost, type VosHost } from '../p2p/host.js';
import { CommService } from '../services/comm/service.js';
import { silentLogger } from '../util/logger.js';
import { measureVerifyRates } from './verify.bench.js';

const CHAIN = 'vos-bench-comm';
const RAW_STREAM = '/bench/raw/1';
const RAW_REQUEST = '/bench/rawreq/1';
const MSGS = Number(process.env.VOS_BENCH_COMM_MSGS ?? 500);
const STREAM_MB = Number(process.env.VOS_BENCH_COMM_STREAM_MB ?? 64);
const IN_FLIGHT = 16;
const ROUNDS = 3;
const CHUNK = 64 * 1024;
/** A chat-sized message text. */
const TEXT = 'x'.repeat(100);

interface Node {
  key: PrivateKey;
  host: VosHost;
  comm: CommService;
}

type Directory = Map<string, Uint8Array>;

async function waitFor(what: string, f: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function node(dir: string, name: string, key: PrivateKey, listen: string[], keys: Directory) {
  const host = await createHost({ key, chainId: CHAIN, listen, relayServer: false });
  const comm = new CommService({
    chainId: CHAIN,
    key,
    host,
    dir: join(dir, name),
    // Transport bench: keys of the two nodes, no names (no chain reads).
    directory: {
      resolveName: async () => undefined,
      keyOf: async (address) => keys.get(address),
      ownName: async () => undefined,
    },
    config: { collectIntervalMs: 3_600_000 },
    penalise: () => undefined,
    logger: silentLogger(),
  });
  await comm.open();
  await comm.start();
  return { key, host, comm } satisfies Node;
}

async function stopNodes(nodes: Node[], others: VosHost[] = []): Promise<void> {
  for (const n of nodes) await n.comm.stop().catch(() => undefined);
  for (const h of [...nodes.map((n) => n.host), ...others]) await Promise.resolve(h.stop()).catch(() => {});
  for (const n of nodes) await n.comm.close().catch(() => undefined);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Reads a stream to its end; returns the bytes read. */
async function drain(s: Stream): Promise<number> {
  let n = 0;
  for await (const c of s) n += c.byteLength;
  return n;
}

/** B's side of both stream kinds: drain, count, then resolve the waiting writer. */
function counter() {
  let want = 0;
  let got = 0;
  let resolve = () => {};
  let reject: (e: unknown) => void = () => {};
  const handle = (s: Stream) => {
    void drain(s)
      .then(async (n) => {
        got = n;
        await s.close().catch(() => undefined);
        if (got >= want) resolve();
        else reject(new Error(`stream ended after ${got} of ${want} bytes`));
      })
      .catch((e) => reject(e));
  };
  const expect = (bytes: number) => {
    want = bytes;
    got = 0;
    return new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  };
  return { handle, expect };
}

/** Writes `bytes` in 64 KiB chunks with backpressure, closes; MB/s until the reader counted them all. */
async function pump(open: () => Promise<Stream>, done: Promise<void>, bytes: number): Promise<number> {
  const chunk = new Uint8Array(CHUNK).map((_, i) => (i * 131) & 0xff);
  const s = await open();
  const t0 = performance.now();
  for (let off = 0; off < bytes; off += CHUNK) if (!s.send(chunk)) await s.onDrain();
  await s.close();
  await done;
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/** Comm vs raw stream MB/s between a and b, interleaved rounds. */
async function streams(a: Node, b: Node, mib: number) {
  const bytes = mib * 1024 * 1024;
  const c = counter();
  b.comm.handleStream('bench', (s) => c.handle(s));
  await b.host.handle(RAW_STREAM, (s) => c.handle(s), { runOnLimitedConnection: true });
  const comm: number[] = [];
  const raw: number[] = [];
  const openComm = () => a.comm.openStream(b.comm.address, 'bench');
  const openRaw = () => a.host.dialProtocol(b.host.peerId, RAW_STREAM, { runOnLimitedConnection: true });
  // Warm-up (connection windows, JIT), not counted.
  await pump(openRaw, c.expect(4 * CHUNK), 4 * CHUNK);
  await pump(openComm, c.expect(4 * CHUNK), 4 * CHUNK);
  for (let r = 0; r < ROUNDS; r++) {
    raw.push(await pump(openRaw, c.expect(bytes), bytes));
    comm.push(await pump(openComm, c.expect(bytes), bytes));
  }
  return {
    commMBps: round2(median(comm)),
    rawMBps: round2(median(raw)),
    ratio: round2(median(comm) / median(raw)),
    commRounds: comm.map(round2),
    rawRounds: raw.map(round2),
  };
}

/** Sequential latency, then msgs/s with IN_FLIGHT sends outstanding. */
async function messages(a: Node, b: Node, count: number) {
  const arrived = new Map<string, number>();
  const off = b.comm.onEvent((e) => {
    if (e.type === 'message') arrived.set(e.id, performance.now());
  });
  try {
    const one = async (lat: number[]) => {
      const t0 = performance.now();
      const r = await a.comm.send(b.comm.address, TEXT);
      if (r.via !== 'direct') throw new Error(`message went ${r.via}, not direct`);
      const t1 = arrived.get(r.id);
      if (t1 === undefined) throw new Error(`send ${r.id} resolved before B's message event`);
      lat.push(t1 - t0);
      arrived.delete(r.id);
    };
    const warm: number[] = [];
    for (let i = 0; i < 50; i++) await one(warm);
    const seq: number[] = [];
    for (let i = 0; i < count; i++) await one(seq);
    seq.sort((x, y) => x - y);
    const batch = 2 * count;
    const loaded: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < batch) {
          next++;
          await one(loaded);
        }
      }),
    );
    const perSec = batch / ((performance.now() - t0) / 1000);
    loaded.sort((x, y) => x - y);
    return {
      p50Ms: round2(pct(seq, 50)),
      p99Ms: round2(pct(seq, 99)),
      msgsPerSec: Math.round(perSec),
      loadedP50Ms: round2(pct(loaded, 50)),
      loadedP99Ms: round2(pct(loaded, 99)),
    };
  } finally {
    off();
  }
}

/** Baseline for messages: one new raw libp2p stream per request, a 400 B frame, a 1 B answer. */
async function rawRequests(a: Node, b: Node, count: number) {
  await b.host.handle(
    RAW_REQUEST,
    (s) =>
      void (async () => {
        for await (const _ of readFrames(s, 4096)) {
          s.send(frame(new Uint8Array(1)));
          break;
        }
        await s.close().catch(() => undefined);
      })().catch((e) => s.abort(e)),
    { runOnLimitedConnection: true, maxInboundStreams: 128 },
  );
  const req = frame(new Uint8Array(400).fill(3));
  const one = async (lat: number[]) => {
    const t0 = performance.now();
    const s = await a.host.dialProtocol(b.host.peerId, RAW_REQUEST, { runOnLimitedConnection: true });
    s.send(req);
    for await (const _ of readFrames(s, 16)) break;
    lat.push(performance.now() - t0);
    await s.close().catch(() => undefined);
  };
  for (let i = 0; i < 50; i++) await one([]);
  const seq: number[] = [];
  for (let i = 0; i < count; i++) await one(seq);
  seq.sort((x, y) => x - y);
  const batch = 2 * count;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batch) {
        next++;
        await one([]);
      }
    }),
  );
  return {
    p50Ms: round2(pct(seq, 50)),
    p99Ms: round2(pct(seq, 99)),
    perSec: Math.round(batch / ((performance.now() - t0) / 1000)),
  };
}

/**
 * X25519 shared secrets per second: @noble/curves (what services/comm/envelope.ts uses: each message
 * costs two on the sender, ephemeral key and secret, and two on the recipient, its own public key and
 * the secret) beside node:crypto's.
 */
function x25519Rates() {
  const secret = x25519.utils.randomSecretKey();
  const peer = x25519.getPublicKey(x25519.utils.randomSecretKey());
  let t = performance.now();
  for (let i = 0; i < 300; i++) x25519.getSharedSecret(secret, peer);
  const noble = 300 / ((performance.now() - t) / 1000);
  const k1 = generateKeyPairSync('x25519');
  const k2 = generateKeyPairSync('x25519');
  t = performance.now();
  for (let i = 0; i < 3000; i++) diffieHellman({ privateKey: k1.privateKey, publicKey: k2.publicKey });
  const node = 3000 / ((performance.now() - t) / 1000);
  return { nobleX25519PerSec: Math.round(noble), nodeCryptoX25519PerSec: Math.round(node) };
}

async function measurePair(a: Node, b: Node) {
  const raw = await rawRequests(a, b, MSGS);
  const msg = await messages(a, b, MSGS);
  const st = await streams(a, b, STREAM_MB);
  return { raw, msg, st };
}

export async function run() {
  const verify = await measureVerifyRates(10_000);
  const dh = x25519Rates();
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-comm-'));
  try {
    // ---- direct: A dials B over TCP ----
    const [ka, kb] = [PrivateKey.generate(), PrivateKey.generate()];
    const keys: Directory = new Map([
      [ka.address.toString(), ka.publicKey],
      [kb.address.toString(), kb.publicKey],
    ]);
    const tcp = ['/ip4/127.0.0.1/tcp/0'];
    const a = await node(dir, 'a', ka, tcp, keys);
    const b = await node(dir, 'b', kb, tcp, keys);
    let direct: Awaited<ReturnType<typeof measurePair>>;
    try {
      await a.host.peerStore.merge(b.host.peerId, { multiaddrs: b.host.getMultiaddrs() });
      await a.host.dial(b.host.peerId);
      direct = await measurePair(a, b);
      if (a.host.getConnections(b.host.peerId).some((c) => c.remoteAddr.toString().includes('/p2p-circuit')))
        throw new Error('the direct run used a relayed connection');
    } finally {
      await stopNodes([a, b]);
    }

    // ---- relayed: B listens only through R's circuit address ----
    const kr = PrivateKey.generate();
    const relay = await createHost({
      key: kr,
      chainId: CHAIN,
      listen: tcp,
      relayServer: true,
      relayUnlimited: () => true,
    });
    const [kc, kd] = [PrivateKey.generate(), PrivateKey.generate()];
    const keys2: Directory = new Map([
      [kc.address.toString(), kc.publicKey],
      [kd.address.toString(), kd.publicKey],
    ]);
    const relayAddr = `${relay.getMultiaddrs()[0].toString()}`;
    const ra = await node(dir, 'ra', kc, tcp, keys2);
    const rb = await node(dir, 'rb', kd, [`${relayAddr}/p2p-circuit`], keys2);
    let relayed: Awaited<ReturnType<typeof measurePair>>;
    let limited: boolean;
    try {
      await waitFor('B listening through the relay', () =>
        rb.host.getMultiaddrs().some((m) => m.toString().includes('/p2p-circuit')),
      );
      if (rb.host.getMultiaddrs().some((m) => !m.toString().includes('/p2p-circuit')))
        throw new Error(`B has a direct address: ${rb.host.getMultiaddrs().join(' ')}`);
      await ra.host.peerStore.merge(rb.host.peerId, { multiaddrs: rb.host.getMultiaddrs() });
      const conn = await ra.host.dial(rb.host.peerId);
      if (!conn.remoteAddr.toString().includes('/p2p-circuit'))
        throw new Error(`A's connection to B is not relayed: ${conn.remoteAddr}`);
      limited = conn.limits !== undefined;
      relayed = await measurePair(ra, rb);
      const conns = ra.host.getConnections(rb.host.peerId);
      if (conns.length === 0 || conns.some((c) => !c.remoteAddr.toString().includes('/p2p-circuit')))
        throw new Error('the relayed run used a direct connection');
    } finally {
      await stopNodes([ra, rb], [relay]);
    }

    return {
      directSendP50Ms: direct.msg.p50Ms,
      directSendP99Ms: direct.msg.p99Ms,
      directMsgsPerSec16InFlight: direct.msg.msgsPerSec,
      directSendP50MsUnderLoad: direct.msg.loadedP50Ms,
      directSendP99MsUnderLoad: direct.msg.loadedP99Ms,
      baselineDirectRawRequestP50Ms: direct.raw.p50Ms,
      baselineDirectRawRequestP99Ms: direct.raw.p99Ms,
      baselineDirectRawRequestsPerSec16InFlight: direct.raw.perSec,
      ratioDirectMsgsToRawRequests: round2(direct.msg.msgsPerSec / direct.raw.perSec),
      relayedSendP50Ms: relayed.msg.p50Ms,
      relayedSendP99Ms: relayed.msg.p99Ms,
      relayedMsgsPerSec16InFlight: relayed.msg.msgsPerSec,
      relayedSendP50MsUnderLoad: relayed.msg.loadedP50Ms,
      relayedSendP99MsUnderLoad: relayed.msg.loadedP99Ms,
      baselineRelayedRawRequestP50Ms: relayed.raw.p50Ms,
      baselineRelayedRawRequestP99Ms: relayed.raw.p99Ms,
      baselineRelayedRawRequestsPerSec16InFlight: relayed.raw.perSec,
      ratioRelayedMsgsToRawRequests: round2(relayed.msg.msgsPerSec / relayed.raw.perSec),
      streamMiBPerRound: STREAM_MB,
      directCommStreamMBps: direct.st.commMBps,
      baselineDirectRawStreamMBps: direct.st.rawMBps,
      ratioDirectCommToRawStream: direct.st.ratio,
      directCommStreamRounds: direct.st.commRounds,
      directRawStreamRounds: direct.st.rawRounds,
      relayedCommStreamMBps: relayed.st.commMBps,
      baselineRelayedRawStreamMBps: relayed.st.rawMBps,
      ratioRelayedCommToRawStream: relayed.st.ratio,
      relayedCommStreamRounds: relayed.st.commRounds,
      relayedRawStreamRounds: relayed.st.rawRounds,
      relayedConnectionLimited: limited,
      ...verify,
      ...dh,
      messages: MSGS,
      note: `in one process on 2 hosts' TCP sockets over 127.0.0.1 (TCP+Noise+Yamux); relayed: through a third host's circuit relay (reservation unlimited), so the bytes cross Noise twice on A and B and are forwarded by R; both nodes share this process's one JS thread (msgs/s is the sender's and the recipient's work together); latency: send() call to B's message event, ${MSGS} sequential sends (p50/p99) and ${2 * MSGS} with ${IN_FLIGHT} in flight (msgs/s); a ${TEXT.length}-char text; raw requests: one new libp2p stream per 400 B request, 1 B answer; streams: ${ROUNDS} interleaved rounds of ${STREAM_MB} MiB in 64 KiB writes with backpressure each, median; directory without names (no chain reads)`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
