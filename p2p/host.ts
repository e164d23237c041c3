/**
 * The libp2p host of a VOS node: TCP + Noise + Yamux and QUIC (UDP) side by side, identify, ping, a
 * Kademlia DHT on the chain's private prefix `/vos/<chainId>/kad` (peer routing, provider records),
 * and circuit relay v2 (every node relays for a few peers; a node that cannot be reached directly
 * listens through a relay's `/p2p-circuit` address). The peer id is the node's own Ed25519 key, so
 * peer id, address and name owner are one identity.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { quic } from '@chainsafe/libp2p-quic';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Libp2p, PeerId } from '@libp2p/interface';
import { type KadDHT, kadDHT } from '@libp2p/kad-dht';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
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
    // Relayed connections are not data- or time-limited, so the chain's protocols run over them (a
    // node behind NAT can validate through a relay). Reservations are bounded; what a node relays is
    // meant to count as contribution once the control module lands.
    services.relay = circuitRelayServer({
      reservations: { maxReservations: 64, reservationTtl: 2 * 60 * 60_000, applyDefaultLimit: false },
    });
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
