/**
 * Two nodes that cannot dial each other (neither has a direct listen address: each listens only
 * through a circuit relay) exchange messages and a byte stream through the relay. The relay of this
 * test is a libp2p node whose connection encrypter is tapped: it records every byte it decrypts and
 * sends on its own connections (what it sees of the relayed traffic and forwards). Neither the message
 * text nor the stream payload appears there: the relayed bytes are the two nodes' own Noise session.
 * Real TCP sockets on 127.0.0.1; the chain is not needed here, so the comm directory is a map of keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import type { Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { PrivateKey } from '../../chain/keys.js';
import { createHost, type VosHost } from '../../p2p/host.js';
import { type CommEvent, CommService } from '../../services/comm/service.js';
import { toHex } from '../../util/bytes.js';
import { createLogger } from '../../util/logger.js';
import { waitFor } from '../helpers/devnet.js';

const CHAIN = 'vos-relay-test';

/** Noise whose decrypted side is recorded: what the relay reads from and writes to its peers. */
function tappedNoise(seen: Buffer[]) {
  const inner = noise();
  return (components: Parameters<typeof inner>[0]) => {
    const enc = inner(components);
    const tap = async (p: ReturnType<typeof enc.secureInbound>) => {
      const secured = await p;
      const conn = secured.connection as unknown as {
        dispatchEvent(e: Event & { data?: { subarray(): Uint8Array } }): boolean;
        send(d: Uint8Array | { subarray(): Uint8Array }): boolean;
      };
      const dispatch = conn.dispatchEvent.bind(conn);
      conn.dispatchEvent = (e) => {
        if (e.type === 'message' && e.data !== undefined) seen.push(Buffer.from(e.data.subarray()));
        return dispatch(e);
      };
      const send = conn.send.bind(conn);
      conn.send = (d) => {
        seen.push(Buffer.from(d instanceof Uint8Array ? d : d.subarray()));
        return send(d);
      };
      return secured;
    };
    return {
      ...enc,
      protocol: enc.protocol,
      secureInbound: (
        c: Parameters<typeof enc.secureInbound>[0],
        o?: Parameters<typeof enc.secureInbound>[1],
      ) => tap(enc.secureInbound(c, o)),
      secureOutbound: (
        c: Parameters<typeof enc.secureOutbound>[0],
        o?: Parameters<typeof enc.secureOutbound>[1],
      ) => tap(enc.secureOutbound(c, o)),
    };
  };
}

describe('comm through a circuit relay', () => {
  const seen: Buffer[] = [];
  let relay: Libp2p;
  let dir: string;
  const keys = { a: PrivateKey.generate(), b: PrivateKey.generate() };
  const hosts: VosHost[] = [];
  const comms: CommService[] = [];
  let a: CommService;
  let b: CommService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-comm-relay-'));
    relay = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [tappedNoise(seen) as never],
      streamMuxers: [yamux()],
      services: {
        identify: identify({ protocolPrefix: `vos/${CHAIN}` }),
        relay: circuitRelayServer({ reservations: { applyDefaultLimit: false } }),
      },
    });
    const relayAddr = relay.getMultiaddrs()[0].toString();
    const keyOf = new Map([
      [keys.a.address.toString(), keys.a.publicKey],
      [keys.b.address.toString(), keys.b.publicKey],
    ]);
    const logger = createLogger({ level: 'silent', format: 'json' });
    for (const [name, key] of Object.entries(keys)) {
      // No TCP/QUIC listener: the relay's circuit address is the only address.
      const host = await createHost({
        key,
        chainId: CHAIN,
        listen: [`${relayAddr}/p2p-circuit`],
        relayServer: false,
      });
      hosts.push(host);
      const comm = new CommService({
        chainId: CHAIN,
        key,
        host,
        dir: join(dir, name),
        directory: {
          resolveName: async () => undefined,
          keyOf: async (address) => keyOf.get(address),
          ownName: async () => undefined,
        },
        penalise: () => undefined,
        logger,
      });
      await comm.open();
      await comm.start();
      comms.push(comm);
    }
    [a, b] = comms;
    await waitFor(
      'both listen through the relay',
      async () => hosts.every((h) => h.getMultiaddrs().some((m) => m.toString().includes('/p2p-circuit'))),
      20_000,
    );
    // A knows B's circuit address (as DHT peer routing or B's name records would tell it).
    await hosts[0].peerStore.merge(hosts[1].peerId, { multiaddrs: hosts[1].getMultiaddrs() });
  }, 60_000);

  afterAll(async () => {
    for (const c of comms) await c.stop();
    for (const h of hosts) await Promise.resolve(h.stop()).catch(() => undefined);
    for (const c of comms) await c.close();
    await relay?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('messages both ways and a stream go through the relay, which sees no plaintext', async () => {
    const secret = `secret-${toHex(PrivateKey.generate().publicKey).slice(2, 18)}`;
    const got: CommEvent[] = [];
    b.onEvent((e) => got.push(e));
    const sent = await a.send(b.address, `${secret} from a`);
    expect(sent).toMatchObject({ status: 'delivered', via: 'direct' });
    // The connection A used is relayed: the nodes have no other addresses.
    const conns = hosts[0].getConnections(hosts[1].peerId);
    expect(conns.length).toBeGreaterThan(0);
    expect(conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true);
    expect(got.find((e) => e.type === 'message' && e.id === sent.id)).toMatchObject({
      text: `${secret} from a`,
    });
    const reply = await b.send(a.address, `${secret} from b`);
    expect(reply.status).toBe('delivered');

    // A full-duplex stream: B echoes what A writes.
    b.handleStream('echo', (s: Stream) => {
      void (async () => {
        for await (const chunk of s) {
          const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
          if (!s.send(bytes)) await s.onDrain();
        }
        await s.close().catch(() => undefined);
      })();
    });
    const stream = await a.openStream(b.address, 'echo');
    const payload = Buffer.from(`${secret} stream `.repeat(4096));
    let back = Buffer.alloc(0);
    const reading = (async () => {
      for await (const chunk of stream) {
        back = Buffer.concat([back, Buffer.from(chunk instanceof Uint8Array ? chunk : chunk.subarray())]);
        if (back.length >= payload.length) break;
      }
    })();
    for (let off = 0; off < payload.length; off += 16 * 1024)
      if (!stream.send(payload.subarray(off, off + 16 * 1024))) await stream.onDrain();
    await reading;
    expect(back.equals(payload)).toBe(true);
    await stream.close().catch(() => undefined);

    // What the relay decrypted on its own connections: the circuit protocol in the clear (the tap
    // works), the relayed bytes only as ciphertext.
    const all = Buffer.concat(seen);
    expect(all.includes('/libp2p/circuit/relay/0.2.0/hop')).toBe(true);
    expect(all.length).toBeGreaterThan(payload.length);
    expect(all.includes(secret)).toBe(false);
    expect(all.includes('from a')).toBe(false);
  }, 60_000);
});
