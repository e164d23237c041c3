/**
 * The libp2p host on real sockets (127.0.0.1): DHT peer routing on the chain's private prefix, circuit
 * relay v2 for a node that cannot be dialled, and a QUIC connection kept beside TCP with protocols
 * choosing their transport.
 */
import '../../util/polyfill.js';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { PrivateKey } from '../../chain/keys.js';
import { kindOf, openStream, pickConnection, QuicKeeper } from '../../p2p/connections.js';
import { frame, readFrames } from '../../p2p/framing.js';
import { createHost, dhtProtocol, listenAddrs, peerIdOf, type VosHost } from '../../p2p/host.js';

const hosts: VosHost[] = [];
const keepers: QuicKeeper[] = [];

async function host(
  chainId = 'vos-test',
  listen = listenAddrs('127.0.0.1', 0),
  o: Partial<Parameters<typeof createHost>[0]> = {},
): Promise<VosHost> {
  const h = await createHost({ key: PrivateKey.generate(), chainId, listen, ...o });
  hosts.push(h);
  return h;
}

function tcpAddr(h: VosHost): string {
  const a = h
    .getMultiaddrs()
    .find((m) => m.toString().includes('/tcp/') && !m.toString().includes('p2p-circuit'));
  if (a === undefined) throw new Error('no tcp address');
  return a.toString();
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function echo(h: VosHost, protocol: string): Promise<void> {
  await h.handle(
    protocol,
    async (stream) => {
      for await (const f of readFrames(stream, 1024)) stream.send(frame(f));
      await stream.close();
    },
    { runOnLimitedConnection: true },
  );
}

async function roundTrip(from: VosHost, to: PeerId, protocol: string, prefer: 'tcp' | 'quic') {
  const { stream, kind } = await openStream(from, to, protocol, prefer, AbortSignal.timeout(5000));
  stream.send(frame(new TextEncoder().encode('hello')));
  for await (const f of readFrames(stream, 1024)) {
    await stream.close();
    return { text: new TextDecoder().decode(f.subarray()), kind };
  }
  throw new Error('no reply');
}

afterAll(async () => {
  for (const k of keepers) k.stop();
  await Promise.all(hosts.map((h) => h.stop()));
});

describe('p2p host', () => {
  it('serves the DHT on /vos/<chainId>/kad and finds a peer it was never told about', async () => {
    const [a, b, c] = [await host(), await host(), await host()];
    expect(a.getProtocols()).toContain(dhtProtocol('vos-test'));
    expect(a.getProtocols()).not.toContain('/ipfs/kad/1.0.0');
    await b.dial(multiaddr(tcpAddr(a)));
    await c.dial(multiaddr(tcpAddr(a)));
    // Wait until A's routing table holds C (identify says C speaks the DHT protocol).
    await until('C in A routing table', async () => {
      for await (const p of a.services.dht.getClosestPeers(c.peerId.toMultihash().bytes, {
        signal: AbortSignal.timeout(2000),
      })) {
        if (p.name === 'PEER_RESPONSE' || p.name === 'FINAL_PEER') return true;
      }
      return false;
    });
    expect(b.getConnections(c.peerId)).toHaveLength(0);
    const found = await b.peerRouting.findPeer(c.peerId, { signal: AbortSignal.timeout(10_000) });
    expect(found.id.equals(c.peerId)).toBe(true);
    expect(found.multiaddrs.length).toBeGreaterThan(0);
    await b.dial(found.multiaddrs.map((m) => m.encapsulate(`/p2p/${c.peerId}`)));
    expect(b.getConnections(c.peerId).length).toBeGreaterThan(0);
  }, 30_000);

  it('does not answer DHT queries of another chain', async () => {
    const a = await host('vos-test');
    const stranger = await host('other-chain');
    await stranger.dial(multiaddr(tcpAddr(a)));
    await new Promise((r) => setTimeout(r, 300));
    await expect(
      stranger.peerRouting.findPeer(hosts[0].peerId, { signal: AbortSignal.timeout(3000) }),
    ).rejects.toThrow();
  }, 20_000);

  it('reaches a validator that has no listen address of its own through a circuit relay, unlimited', async () => {
    const hiddenKey = PrivateKey.generate();
    const hiddenId = await peerIdOf(hiddenKey);
    // The relay serves the validators without limits (the node passes its validator set).
    const relay = await host('vos-test', listenAddrs('127.0.0.1', 0), {
      relayUnlimited: (p) => p.toString() === hiddenId,
    });
    await echo(relay, '/vos/vos-test/echo/1');
    const hidden = await host('vos-test', [`${tcpAddr(relay)}/p2p-circuit`], { key: hiddenKey });
    await echo(hidden, '/vos/vos-test/echo/1');
    await hidden.handle('/vos/vos-test/unlimited/1', async (stream) => {
      for await (const f of readFrames(stream, 1024)) stream.send(frame(f));
      await stream.close();
    });
    await until('relay reservation', () =>
      hidden.getMultiaddrs().some((m) => m.toString().includes('p2p-circuit')),
    );
    const circuit = hidden.getMultiaddrs().find((m) => m.toString().includes('p2p-circuit'));
    expect(hidden.getMultiaddrs().every((m) => m.toString().includes('p2p-circuit'))).toBe(true);
    const dialer = await host();
    const conn = await dialer.dial(circuit!, { signal: AbortSignal.timeout(5000) });
    expect(kindOf(conn)).toBe('relay');
    // Not limited: the chain's protocols (registered without runOnLimitedConnection) run over it.
    expect(conn.limits).toBeUndefined();
    const stream = await conn.newStream('/vos/vos-test/unlimited/1');
    stream.send(frame(new TextEncoder().encode('via relay')));
    for await (const f of readFrames(stream, 1024)) {
      expect(new TextDecoder().decode(f.subarray())).toBe('via relay');
      break;
    }
    await stream.close();
  }, 30_000);

  it('relays for a non-validator with data and time limits: the chain protocols refuse it, the data limit ends it', async () => {
    const relay = await host('vos-test', listenAddrs('127.0.0.1', 0), {
      relayUnlimited: () => false,
      relayLimits: { dataBytes: 64n * 1024n, durationMs: 60_000 },
    });
    const hidden = await host('vos-test', [`${tcpAddr(relay)}/p2p-circuit`]);
    await echo(hidden, '/vos/vos-test/echo/1');
    await hidden.handle('/vos/vos-test/unlimited/1', async (stream) => {
      for await (const f of readFrames(stream, 1024)) stream.send(frame(f));
      await stream.close();
    });
    await until('relay reservation', () =>
      hidden.getMultiaddrs().some((m) => m.toString().includes('p2p-circuit')),
    );
    const circuit = hidden.getMultiaddrs().find((m) => m.toString().includes('p2p-circuit'));
    const dialer = await host();
    const conn = await dialer.dial(circuit!, { signal: AbortSignal.timeout(5000) });
    expect(kindOf(conn)).toBe('relay');
    // What is left of the 64 KiB after the handshakes.
    expect(conn.limits?.bytes).toBeLessThanOrEqual(64n * 1024n);
    expect(conn.limits?.bytes).toBeGreaterThan(32n * 1024n);
    await expect(conn.newStream('/vos/vos-test/unlimited/1')).rejects.toThrow();
    // A protocol that accepts limited connections works until the relay has carried 64 KiB.
    const stream = await conn.newStream('/vos/vos-test/echo/1', { runOnLimitedConnection: true });
    const chunk = new Uint8Array(1000).fill(7);
    let echoed = 0;
    const reader = (async () => {
      try {
        for await (const f of readFrames(stream, 1024)) echoed += f.length;
      } catch {
        // the relay ends the connection
      }
    })();
    for (let i = 0; i < 200 && conn.status === 'open'; i++) {
      try {
        stream.send(frame(chunk));
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await until('the relay ends the connection', () => conn.status !== 'open');
    await reader;
    expect(echoed).toBeGreaterThan(0);
    expect(echoed).toBeLessThan(64 * 1024);
  }, 30_000);

  it('keeps a QUIC connection beside TCP and opens each stream on the preferred kind', async () => {
    const [a, b] = [await host(), await host()];
    for (const h of [a, b]) {
      const k = new QuicKeeper(h, 500);
      k.start();
      keepers.push(k);
      await echo(h, '/vos/vos-test/echo/1');
    }
    await a.dial(multiaddr(tcpAddr(b)));
    await until('a QUIC connection', () => a.getConnections(b.peerId).some((c) => kindOf(c) === 'quic'));
    expect(a.getConnections(b.peerId).some((c) => kindOf(c) === 'tcp')).toBe(true);
    expect(kindOf(pickConnection(b, a.peerId, 'quic')!)).toBe('quic');
    expect(await roundTrip(a, b.peerId, '/vos/vos-test/echo/1', 'quic')).toEqual({
      text: 'hello',
      kind: 'quic',
    });
    expect(await roundTrip(b, a.peerId, '/vos/vos-test/echo/1', 'tcp')).toEqual({
      text: 'hello',
      kind: 'tcp',
    });
  }, 30_000);
});
