/**
 * A peer that sends garbage is disconnected and the node keeps running (issue 4): a libp2p client in
 * the test connects to a validator of a real devnet, opens the consensus, block-sync and storage protocols and
 * sends undecodable frames, frames that decode to invalid messages, and an oversize frame.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { multiaddr } from '@multiformats/multiaddr';
import { PrivateKey } from '../../chain/keys.js';
import { frame } from '../../p2p/framing.js';
import { createHost, type VosHost } from '../../p2p/host.js';
import {
  type DevnetInfo,
  heightOf,
  randomBasePort,
  sleep,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';

describe('garbage from a peer', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  let client: VosHost | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-garbage-'));
    ({ proc: supervisor, info } = await startDevnet(dir, 4, randomBasePort()));
    await waitFor('height 3', async () => (await heightOf(info.nodes[0].rpc)) >= 3, 60_000);
  }, 90_000);

  afterAll(async () => {
    await client?.stop();
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function connect(): Promise<VosHost> {
    const h = await createHost({ key: PrivateKey.generate(), chainId: info.chainId, listen: [] });
    await h.start();
    await h.dial(multiaddr(info.nodes[0].p2p));
    return h;
  }

  async function disconnected(h: VosHost, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (h.getConnections().length === 0) return true;
      await sleep(100);
    }
    return false;
  }

  it('undecodable and invalid consensus frames: the peer is disconnected, the node keeps committing', async () => {
    client = await connect();
    const target = client.getConnections()[0].remotePeer;
    const stream = await client.dialProtocol(target, `/vos/${info.chainId}/consensus/1`);
    // Random bytes (not a protobuf envelope), a valid envelope with a vote that is not RLP, an unknown kind.
    stream.send(frame(randomBytes(100)));
    stream.send(frame(Uint8Array.from([0x08, 0x02, 0x12, 0x03, 0xff, 0xff, 0xff])));
    stream.send(frame(Uint8Array.from([0x08, 0x63, 0x12, 0x00])));
    stream.send(frame(randomBytes(500)));
    expect(await disconnected(client, 10_000)).toBe(true);
    // The operator sees it in the metrics.
    const metrics = await (await fetch(`${info.nodes[0].rpc}/metrics`)).text();
    expect(Number(/^vos_p2p_peer_bans_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(
      Number(/^vos_p2p_peer_penalties_total\{protocol="consensus"\} (\d+)/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(3);
    const h = await heightOf(info.nodes[0].rpc);
    await waitFor('more blocks', async () => (await heightOf(info.nodes[0].rpc)) >= h + 2, 30_000);
    await client.stop();
    client = undefined;
  }, 60_000);

  it('an oversize frame on block sync: dropped and penalised, the node keeps serving', async () => {
    client = await connect();
    const target = client.getConnections()[0].remotePeer;
    for (let i = 0; i < 3 && client.getConnections().length > 0; i++) {
      try {
        const s = await client.dialProtocol(target, `/vos/${info.chainId}/blocksync/1`);
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, 64 * 1024 * 1024); // claims 64 MiB
        s.send(header);
        s.send(randomBytes(1000));
        await sleep(300);
      } catch {
        // the node may already have hung up
      }
    }
    expect(await disconnected(client, 10_000)).toBe(true);
    const h = await heightOf(info.nodes[0].rpc);
    await waitFor('more blocks', async () => (await heightOf(info.nodes[0].rpc)) >= h + 2, 30_000);
  }, 60_000);

  it('garbage on the storage protocol (oversize frame, not RLP, more shard bytes than declared): penalised, disconnected, the node goes on', async () => {
    client = await connect();
    const target = client.getConnections()[0].remotePeer;
    const attempts: ((s: Awaited<ReturnType<VosHost['dialProtocol']>>) => void)[] = [
      (s) => {
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, 64 * 1024 * 1024);
        s.send(header);
        s.send(randomBytes(1000));
      },
      (s) => s.send(frame(randomBytes(64))),
      // A put of 10 bytes (op 1, index 0, size 10), then 20 bytes of data.
      (s) => {
        s.send(frame(Uint8Array.from([0xc3, 0x01, 0x80, 0x0a])));
        s.send(frame(randomBytes(20)));
        s.send(frame(new Uint8Array(0)));
      },
      (s) => s.send(frame(randomBytes(64))),
    ];
    for (const attempt of attempts) {
      if (client.getConnections().length === 0) break;
      try {
        const s = await client.dialProtocol(target, `/vos/${info.chainId}/storage/1`);
        attempt(s);
        await sleep(300);
      } catch {
        // the node may already have hung up
      }
    }
    expect(await disconnected(client, 10_000)).toBe(true);
    const metrics = await (await fetch(`${info.nodes[0].rpc}/metrics`)).text();
    expect(
      Number(/^vos_p2p_peer_penalties_total\{protocol="storage"\} (\d+)/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(3);
    const h = await heightOf(info.nodes[0].rpc);
    await waitFor('more blocks', async () => (await heightOf(info.nodes[0].rpc)) >= h + 2, 30_000);
  }, 60_000);
});
