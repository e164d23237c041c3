/**
 * The libp2p host of a VOS node: TCP + Noise + Yamux and QUIC (UDP) side by side, identify, ping, a
 * Kademlia DHT on the chain's private prefix `/vos/<chainId>/kad` (peer routing, provider records),
 * and circuit relay v2 (every node relays for a few peers; a node that cannot be reached directly
 * listens through a relay's `/p2p-circuit` address). The peer id is the node's own Ed25519 key, so
 * peer id, address and name owner are one identity.
 *
 * Relay limits: libp2p's relay server limits per reservation (the peer listening through the relay),
 * not per relayed connection, and only one default for all. Here the limit is chosen per peer when it
 * reserves (and refreshes, every RELAY_RESERVATION_TTL_MS): a validator of the current set gets no
 * limit, so the chain's protocols run over its relayed connections; anyone else's relayed connections
 * end after RELAY_DATA_LIMIT bytes or RELAY_DURATION_MS (a limited connection carries identify and
 * ping; the chain's protocols refuse it, and such a node syncs over the connections it dials itself).
 * What a validator's reservation carries is bounded by each protocol's per-peer rate limits.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { quic } from '@chainsafe/libp2p-quic';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Libp2p, PeerId } from '@libp2p/interface';
import { type KadDHT, kadDHT } from '@libp2p/kad-dht';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { addressFromPublicKey } from '../chain/address.js';
import type { PrivateKey } from '../chain/keys.js';

export interface HostOptions {
  key: PrivateKey;
  chainId: string;
  /** Multiaddrs to listen on: `/ip4/H/tcp/P`, `/ip4/H/udp/P/quic-v1`, or `/p2p/<relay>/p2p-circuit`. */
  listen: string[];
  /** Relay for others (default true). */
  relayServer?: boolean;
  /** Peers refused at the connection level, in and out (the peer scorer's bans). */
  isBanned?: (peer: PeerId) => boolean;
  /** Peers this node relays for without limits (the validators); everyone else is limited. */
  relayUnlimited?: (peer: PeerId) => boolean;
  /** Limits of relayed connections for other peers (defaults below; tests make them small). */
  relayLimits?: { dataBytes?: bigint; durationMs?: number };
}

export const RELAY_DATA_LIMIT = 4n * 1024n * 1024n;
export const RELAY_DURATION_MS = 2 * 60_000;
export const RELAY_RESERVATION_TTL_MS = 15 * 60_000;

/** The chain address of a peer (its Ed25519 key), or undefined for another kind of peer id. */
export function addressOfPeer(peer: PeerId): string | undefined {
  return peer.type === 'Ed25519' ? addressFromPublicKey(peer.publicKey.raw).toString() : undefined;
}

/** The peer id of an Ed25519 public key (a node's key is its peer id). */
export function peerIdOfPublicKey(publicKey: Uint8Array): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey));
}

interface Reservations {
  reserve(peer: PeerId, addr: unknown, limit?: unknown): unknown;
  get(peer: PeerId): { limit?: { data?: bigint; duration?: number } } | undefined;
}

/**
 * Sets each reservation's limit by who holds it. The server keeps its reservations in a
 * ReservationStore it does not expose; `reserve` is wrapped so the limit is set before the server
 * answers the reservation (the holder is told the limit that applies). Pinned to
 * @libp2p/circuit-relay-v2 4.2.x: if its internals change, the node refuses to start rather than relay
 * without the limits.
 */
function limitReservationsByPeer(
  server: unknown,
  unlimited: (peer: PeerId) => boolean,
  limit: { data: bigint; duration: number },
): void {
  const store = (server as { reservationStore?: Partial<Reservations> }).reservationStore;
  if (typeof store?.reserve !== 'function' || typeof store.get !== 'function')
    throw new Error('@libp2p/circuit-relay-v2 has no reservationStore.reserve: cannot set relay limits');
  const reserve = store.reserve.bind(store);
  const get = store.get.bind(store);
  store.reserve = (peer, addr, l) => {
    const result = reserve(peer, addr, l);
    const r = get(peer);
    if (r !== undefined) r.limit = unlimited(peer) ? undefined : { ...limit };
    return result;
  };
}

export type VosHost = Libp2p<{ dht: KadDHT } & Record<string, unknown>>;

/** The listen addresses of a node on `host`:`port`: TCP and QUIC on the same port number. */
export function listenAddrs(host: string, port: number): string[] {
  return [`/ip4/${host}/tcp/${port}`, `/ip4/${host}/udp/${port}/quic-v1`];
}

export function dhtProtocol(chainId: string): string {
  return `/vos/${chainId}/kad/1.0.0`;
}

export async function createHost(o: HostOptions): Promise<VosHost> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', o.key.exportSeed());
  const services: Record<string, unknown> = {
    identify: identify({ protocolPrefix: `vos/${o.chainId}` }),
    ping: ping({ protocolPrefix: `vos/${o.chainId}` }),
    dht: kadDHT({
      protocol: dhtProtocol(o.chainId),
      // Every node serves the DHT (a small network of known nodes, most of them on private addresses).
      clientMode: false,
      peerInfoMapper: (peer) => peer,
      allowQueryWithZeroPeers: true,
    }),
  };
  if (o.relayServer !== false) {
    // Reservations are bounded; what a node relays is meant to count as contribution once the
    // control module lands. The default limit applies to everyone unless limitReservationsByPeer
    // lifts it for a validator.
    const limit = {
      data: o.relayLimits?.dataBytes ?? RELAY_DATA_LIMIT,
      // libp2p's server enforces this in ms (its client reads the same field as seconds).
      duration: o.relayLimits?.durationMs ?? RELAY_DURATION_MS,
    };
    const relay = circuitRelayServer({
      reservations: {
        maxReservations: 64,
        reservationTtl: RELAY_RESERVATION_TTL_MS,
        applyDefaultLimit: true,
        defaultDataLimit: limit.data,
        defaultDurationLimit: limit.duration,
      },
    });
    const unlimited = o.relayUnlimited ?? (() => false);
    services.relay = (components: Parameters<typeof relay>[0]) => {
      const server = relay(components);
      limitReservationsByPeer(server, unlimited, limit);
      return server;
    };
  }
  return (await createLibp2p({
    privateKey,
    addresses: { listen: o.listen },
    // A dead peer's QUIC connection is noticed after the idle timeout (UDP has no reset).
    transports: [tcp(), quic({ maxIdleTimeout: 4000, keepAliveInterval: 1000 }), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: services as never,
    connectionManager: { maxConnections: 200 },
    connectionGater: {
      denyDialPeer: (peer) => o.isBanned?.(peer) ?? false,
      denyInboundEncryptedConnection: (peer) => o.isBanned?.(peer) ?? false,
      denyOutboundEncryptedConnection: (peer) => o.isBanned?.(peer) ?? false,
    },
  })) as unknown as VosHost;
}

/** The multiaddr peers dial to reach this host on `addr` (`/ip4/.../tcp/PORT/p2p/<peer id>`). */
export async function peerIdOf(key: PrivateKey): Promise<string> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  const privateKey = await generateKeyPairFromSeed('Ed25519', key.exportSeed());
  return peerIdFromPrivateKey(privateKey).toString();
}
