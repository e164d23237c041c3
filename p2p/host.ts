/**
 * The libp2p host of a VOS node: TCP + Noise + Yamux, identify, ping. The peer id is the node's own
 * Ed25519 key, so peer id, address and name owner are one identity.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { PrivateKey } from '../chain/keys.js';

export interface HostOptions {
  key: PrivateKey;
  chainId: string;
  listen: string[];
}

export type VosHost = Libp2p;

export async function createHost(o: HostOptions): Promise<VosHost> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', o.key.exportSeed());
  return createLibp2p({
    privateKey,
    addresses: { listen: o.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify({ protocolPrefix: `vos/${o.chainId}` }),
      ping: ping({ protocolPrefix: `vos/${o.chainId}` }),
    },
    connectionManager: { maxConnections: 200 },
  });
}

/** The multiaddr peers dial to reach this host on `addr` (`/ip4/.../tcp/PORT/p2p/<peer id>`). */
export async function peerIdOf(key: PrivateKey): Promise<string> {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
  const privateKey = await generateKeyPairFromSeed('Ed25519', key.exportSeed());
  return peerIdFromPrivateKey(privateKey).toString();
}
