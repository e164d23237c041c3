/**
 * QUIC vs TCP (+ Noise + Yamux) between two libp2p hosts on loopback, in this process: small messages
 * (250 B, a vote's size) per second on one stream, tx-gossip-sized batches (64 KiB), and bulk transfer
 * (1 MiB frames, as block sync sends) in MB/s. Each figure is beside the other transport's, measured in
 * the same run; the ratio is what to choose a transport by.
 */

import { noise } from '@chainsafe/libp2p-noise';
import { quic } from '@chainsafe/libp2p-quic';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { frame, readFrames } from '../p2p/framing.js';

const PROTOCOL = '/vos/bench/transport/1';

async function host(kind: 'tcp' | 'quic'): Promise<Libp2p> {
  return createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: [kind === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : '/ip4/127.0.0.1/udp/0/quic-v1'] },
    transports: kind === 'tcp' ? [tcp()] : [quic()],
    ...(kind === 'tcp' ? { connectionEncrypters: [noise()], streamMuxers: [yamux()] } : {}),
  });
}

/** Send `count` frames of `size` bytes over one stream; returns seconds until the receiver has all. */
async function transfer(kind: 'tcp' | 'quic', size: number, count: number): Promise<number> {
  const [a, b] = await Promise.all([host(kind), host(kind)]);
  try {
    let got = 0;
    let resolveDone = () => {};
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    await b.handle(PROTOCOL, async (stream) => {
      for await (const _ of readFrames(stream, size + 16)) {
        if (++got === count) resolveDone();
      }
    });
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], PROTOCOL);
    const payload = frame(new Uint8Array(size).fill(7));
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      if (!stream.send(payload)) await stream.onDrain();
    }
    await done;
    const seconds = (performance.now() - t0) / 1000;
    await stream.close();
    return seconds;
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

export async function run() {
  const out: Record<string, number | string> = {};
  for (const kind of ['tcp', 'quic'] as const) {
    const small = 50_000;
    out[`${kind}VoteSizedMsgsPerSec`] = Math.round(small / (await transfer(kind, 250, small)));
    const batches = 2000;
    out[`${kind}TxBatch64KiBPerSec`] = Math.round(batches / (await transfer(kind, 64 * 1024, batches)));
    const bulk = 128;
    out[`${kind}BulkMBPerSec`] = Number(
      ((bulk * 1.048576) / (await transfer(kind, 1024 * 1024, bulk))).toFixed(1),
    );
  }
  out.quicOverTcpVotes = Number(
    ((out.quicVoteSizedMsgsPerSec as number) / (out.tcpVoteSizedMsgsPerSec as number)).toFixed(2),
  );
  out.quicOverTcpTxBatches = Number(
    ((out.quicTxBatch64KiBPerSec as number) / (out.tcpTxBatch64KiBPerSec as number)).toFixed(2),
  );
  out.quicOverTcpBulk = Number(
    ((out.quicBulkMBPerSec as number) / (out.tcpBulkMBPerSec as number)).toFixed(2),
  );
  out.note = 'one stream, loopback, both hosts in one process';
  return out;
}
