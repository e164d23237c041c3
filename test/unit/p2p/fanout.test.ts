/**
 * Fan-out between in-process libp2p hosts: frames reach every peer once, a handler's error, an
 * oversize frame and a flood are scored against the sender, a banned peer's streams are refused.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { PrivateKey } from '../../../chain/keys.js';
import { Fanout, type FanoutOptions } from '../../../p2p/fanout.js';
import { frame } from '../../../p2p/framing.js';
import { createHost } from '../../../p2p/host.js';
import { PeerScorer } from '../../../p2p/peer-scorer.js';
import { PeerAction, VosError } from '../../../util/errors.js';

const protocol = '/vos/vos-test/fanout-test/1';
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});

async function node(o: Partial<FanoutOptions> = {}) {
  let scorer: PeerScorer | undefined;
  // As in the node: banned peers are refused at the connection gater too (the DHT may redial them).
  const host = await createHost({
    key: PrivateKey.generate(),
    chainId: 'vos-test',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    isBanned: (peer) => scorer?.isBanned(peer) ?? false,
  });
  cleanups.push(async () => host.stop());
  scorer = new PeerScorer({ host });
  const got: { text: string; from: string }[] = [];
  const peers: string[] = [];
  const fanout = new Fanout({
    host,
    protocol,
    maxFrameBytes: 1024,
    scorer,
    rateLimit: { perSec: 1000, burst: 1000 },
    transport: 'tcp',
    onFrame: async (bytes: Uint8Array, from: PeerId) => {
      got.push({ text: new TextDecoder().decode(bytes), from: from.toString() });
    },
    onPeer: (p) => peers.push(p.toString()),
    ...o,
  });
  await fanout.start();
  cleanups.push(() => fanout.stop());
  return { host, scorer, fanout, got, peers };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const text = (s: string) => new TextEncoder().encode(s);

describe('Fanout', () => {
  it('broadcasts a frame once to every connected peer, except the one named', async () => {
    const [a, b, c] = [await node(), await node(), await node()];
    await a.host.dial(multiaddr(b.host.getMultiaddrs()[0]));
    await a.host.dial(multiaddr(c.host.getMultiaddrs()[0]));
    await until('onPeer', () => a.peers.length === 2);
    a.fanout.broadcast(text('hello'));
    a.fanout.broadcast(text('not to c'), c.host.peerId);
    await until('delivery', () => b.got.length === 2 && c.got.length === 1);
    expect(b.got.map((g) => g.text)).toEqual(['hello', 'not to c']);
    expect(c.got).toEqual([{ text: 'hello', from: a.host.peerId.toString() }]);
  });

  it('a handler error with Reject costs the sender score; Ignore costs nothing', async () => {
    const b = await node({
      onFrame: async (bytes) => {
        const reject = bytes[0] === 1;
        throw new VosError({ code: 'X' }, 'x', {
          peerAction: reject ? PeerAction.Reject : PeerAction.Ignore,
        });
      },
    });
    const a = await node();
    await a.host.dial(multiaddr(b.host.getMultiaddrs()[0]));
    await a.fanout.sendFramed(b.host.peerId, frame(Uint8Array.of(2)));
    await a.fanout.sendFramed(b.host.peerId, frame(Uint8Array.of(1)));
    await until('a penalty', () => b.scorer.score(a.host.peerId) < 0);
    expect(b.scorer.score(a.host.peerId)).toBe(-10);
  });

  it('an oversize frame is refused, the stream dropped and the sender penalised', async () => {
    const b = await node({ maxFrameBytes: 100 });
    const a = await node();
    await a.host.dial(multiaddr(b.host.getMultiaddrs()[0]));
    await a.fanout.sendFramed(b.host.peerId, frame(new Uint8Array(101)));
    await until('a penalty', () => b.scorer.score(a.host.peerId) < 0);
    expect(b.got).toEqual([]);
  });

  it('a peer over its frame rate is penalised and, flooding on, banned and refused', async () => {
    const b = await node({ rateLimit: { perSec: 1, burst: 2 } });
    const a = await node();
    await a.host.dial(multiaddr(b.host.getMultiaddrs()[0]));
    for (let i = 0; i < 6; i++) await a.fanout.sendFramed(b.host.peerId, frame(text(`m${i}`)));
    await until('a ban', () => b.scorer.isBanned(a.host.peerId));
    expect(b.got.length).toBeLessThan(6);
    // Banned: a new connection or stream from it is refused (gater and fan-out).
    await until('disconnected', () => a.host.getConnections(b.host.peerId).length === 0);
    await a.host.dial(multiaddr(b.host.getMultiaddrs()[0])).catch(() => undefined);
    await a.fanout.sendFramed(b.host.peerId, frame(text('after ban')));
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got.map((g) => g.text)).not.toContain('after ban');
  });
});
