/**
 * The communication service on a devnet of real processes: direct delivery by name, offline delivery
 * through the mailbox holders (20 messages to a stopped node: each once, in order, holders drop them;
 * a message past its TTL is not delivered), and the refusals: tampered ciphertext, impersonation of a
 * name, a replayed message, a sender over its mailbox quota; each with its code and in /metrics.
 * The bad messages come from a libp2p host of this test process speaking /vos/<chain>/comm/1.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { addressFromPublicKey } from '../../chain/address.js';
import { PrivateKey } from '../../chain/keys.js';
import { createHost, type VosHost } from '../../p2p/host.js';
import { RpcClient } from '../../rpc/client.js';
import {
  encodeEnvelope,
  encodeMessageBody,
  Kind,
  sealEnvelope,
  x25519PublicOf,
} from '../../services/comm/envelope.js';
import { CommProtocol } from '../../services/comm/protocol.js';
import { fromHex } from '../../util/bytes.js';
import { runVos, startNode } from '../helpers/cli.js';
import { type DevnetInfo, randomBasePort, startDevnet, stopProcess, waitFor } from '../helpers/devnet.js';

jest.setTimeout(240_000);

interface Entry {
  id: string;
  direction: string;
  peer: string;
  peerName: string | null;
  text: string;
  seq: number;
  status: string;
  via?: string;
}

const rpc = (url: string) => new RpcClient(url, { timeoutMs: 30_000 });

async function metric(url: string, name: string, label: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(label));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('comm on a 4-validator devnet', () => {
  let dir: string;
  let devnet: ChildProcess;
  let info: DevnetInfo;
  const extra: ChildProcess[] = [];
  const hosts: VosHost[] = [];
  let aliceName: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-comm-'));
    const d = await startDevnet(dir, 4, randomBasePort(), { VOS_EMPTY_BLOCK_INTERVAL_MS: '300' });
    devnet = d.proc;
    info = d.info;
    await waitFor(
      'peers',
      async () => ((await rpc(info.nodes[0].rpc).call('node_status', [])) as { peers: number }).peers >= 3,
      60_000,
    );
    aliceName = `alice${Math.floor(Math.random() * 1e6)}`;
    const reg = await runVos(['name', 'register', aliceName, '--home', info.nodes[0].home, '--json'], {
      cwd: dir,
      timeoutMs: 90_000,
    });
    expect(reg.code).toBe(0);
  });

  afterAll(async () => {
    for (const h of hosts) await Promise.resolve(h.stop()).catch(() => undefined);
    for (const p of extra) await stopProcess(p);
    await stopProcess(devnet);
    await rm(dir, { recursive: true, force: true });
  });

  /** A libp2p host of this process, connected to node i (a fresh key: penalties do not carry over). */
  async function outsider(
    i: number,
  ): Promise<{ key: PrivateKey; protocol: CommProtocol; peer: ReturnType<typeof peerIdFromString> }> {
    const key = PrivateKey.generate();
    const host = await createHost({
      key,
      chainId: info.chainId,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      relayServer: false,
    });
    hosts.push(host);
    const ma = multiaddr(info.nodes[i].p2p);
    const peer = peerIdFromString(ma.getComponents().find((c) => c.name === 'p2p')?.value as string);
    await host.dial(ma);
    const protocol = new CommProtocol(host, info.chainId, {} as never);
    return { key, protocol, peer };
  }

  async function keyOf(i: number): Promise<Uint8Array> {
    const v = (await rpc(info.nodes[0].rpc).call('chain_getValidators', [])) as {
      validators: { address: string; publicKey: string }[];
    };
    return fromHex(v.validators.find((x) => x.address === info.nodes[i].address)?.publicKey as string, 32);
  }

  function sealed(from: PrivateKey, to: Uint8Array, text: string, o: { name?: string; seq?: number } = {}) {
    const now = Date.now();
    return sealEnvelope({
      chainId: info.chainId,
      sender: from,
      senderName: o.name ?? '',
      recipient: addressFromPublicKey(to),
      recipientX25519: x25519PublicOf(to),
      kind: Kind.Message,
      seq: o.seq ?? 1,
      sentAt: now,
      expiresAt: now + 60_000,
      body: encodeMessageBody({ text, attachments: [] }),
    });
  }

  it('a message by name is delivered directly, shows its sender by name, with a receipt', async () => {
    const [n0, n1] = info.nodes;
    const text = `hello ${Date.now()}`;
    const r = (await rpc(n1.rpc).call('comm_send', [aliceName, text])) as {
      status: string;
      via: string;
      id: string;
    };
    expect(r).toMatchObject({ status: 'delivered', via: 'direct' });
    const got = (await rpc(n0.rpc).call('comm_history', [{ limit: 5 }])) as Entry[];
    expect(got.find((e) => e.id === r.id)).toMatchObject({ direction: 'in', text, peer: n1.address });
    // node0 claims its name (its reverse record): node1 sees the message from "alice...".
    const back = (await rpc(n0.rpc).call('comm_send', [n1.address, 'hi back'])) as { id: string };
    const seen = (await rpc(n1.rpc).call('comm_history', [{ peer: n0.address, limit: 5 }])) as Entry[];
    expect(seen.find((e) => e.id === back.id)?.peerName).toBe(aliceName);
  });

  it('20 messages to a stopped node: each delivered once, in order, holders drop them; past TTL: not delivered', async () => {
    const [n0, , , n3] = info.nodes;
    process.kill(n3.pid, 'SIGTERM');
    await waitFor(
      'node3 down',
      async () =>
        !(await fetch(`${n3.rpc}/healthz`)
          .then(() => true)
          .catch(() => false)),
      20_000,
    );
    const ids: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const r = (await rpc(n0.rpc).call('comm_send', [n3.address, `offline ${i}`])) as {
        id: string;
        status: string;
        holders: number;
      };
      expect(r.status).toBe('held');
      expect(r.holders).toBeGreaterThanOrEqual(1);
      ids.push(r.id);
    }
    const expired = (await rpc(n0.rpc).call('comm_send', [n3.address, 'too late', { ttlMs: 1500 }])) as {
      id: string;
    };
    const heldBefore = await Promise.all(
      info.nodes.slice(0, 3).map((n) => metric(n.rpc, 'vos_comm_mailbox_held', '')),
    );
    expect(heldBefore.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20);
    await new Promise((r) => setTimeout(r, 2500));
    const back = await startNode(n3.home, { cwd: dir, env: { VOS_EMPTY_BLOCK_INTERVAL_MS: '300' } });
    extra.push(back.proc);
    const inbox = await waitFor(
      'the 20 messages at node3',
      async () => {
        const h = (await rpc(n3.rpc).call('comm_history', [{ peer: n0.address, limit: 100 }])) as Entry[];
        const got = h.filter((e) => e.direction === 'in' && e.text.startsWith('offline'));
        return got.length >= 20 ? got : undefined;
      },
      60_000,
    );
    // Exactly once, and in the sender's order (history is newest first).
    const inOrder = [...inbox].reverse();
    expect(inOrder.map((e) => e.text)).toEqual(ids.map((_, i) => `offline ${i + 1}`));
    expect(new Set(inOrder.map((e) => e.id)).size).toBe(20);
    expect(inOrder.every((e) => e.via === 'mailbox')).toBe(true);
    // The holders drop what was delivered, and the expired one too (never delivered).
    await waitFor(
      'holders empty',
      async () => {
        const held = await Promise.all(
          info.nodes.slice(0, 3).map((n) => metric(n.rpc, 'vos_comm_mailbox_held', '')),
        );
        return held.every((h) => h === 0);
      },
      90_000,
    );
    const all = (await rpc(n3.rpc).call('comm_history', [{ limit: 1000 }])) as Entry[];
    expect(all.find((e) => e.id === expired.id)).toBeUndefined();
    expect(all.filter((e) => e.text === 'too late')).toHaveLength(0);
    // The sender got the receipts.
    await waitFor(
      'receipts at node0',
      async () => {
        const out = (await rpc(n0.rpc).call('comm_history', [{ peer: n3.address, limit: 100 }])) as Entry[];
        return ids.every((id) => out.find((e) => e.id === id)?.status === 'delivered') || undefined;
      },
      60_000,
    );
  });

  it('tampered ciphertext: COMM_DECRYPT_FAILED, counted in /metrics', async () => {
    const n1 = info.nodes[1];
    const before = await metric(n1.rpc, 'vos_comm_rejected_total', 'COMM_DECRYPT_FAILED');
    const { key, protocol, peer } = await outsider(1);
    const { envelope } = sealed(key, await keyOf(1), 'tampered');
    envelope.sealed[3] ^= 0x40;
    await expect(protocol.deliver(peer, encodeEnvelope(envelope))).rejects.toMatchObject({
      code: 'COMM_DECRYPT_FAILED',
    });
    expect(await metric(n1.rpc, 'vos_comm_rejected_total', 'COMM_DECRYPT_FAILED')).toBe(before + 1);
  });

  it('impersonation (claims a name its key does not own): COMM_NOT_NAME_OWNER', async () => {
    const n1 = info.nodes[1];
    const before = await metric(n1.rpc, 'vos_comm_rejected_total', 'COMM_NOT_NAME_OWNER');
    const { key, protocol, peer } = await outsider(1);
    const { bytes } = sealed(key, await keyOf(1), 'I am alice', { name: aliceName });
    await expect(protocol.deliver(peer, bytes)).rejects.toMatchObject({ code: 'COMM_NOT_NAME_OWNER' });
    expect(await metric(n1.rpc, 'vos_comm_rejected_total', 'COMM_NOT_NAME_OWNER')).toBe(before + 1);
    const h = (await rpc(n1.rpc).call('comm_history', [{ limit: 50 }])) as Entry[];
    expect(h.find((e) => e.text === 'I am alice')).toBeUndefined();
  });

  it('a replayed message: delivered once, the copy refused with COMM_REPLAY', async () => {
    const n1 = info.nodes[1];
    const before = await metric(n1.rpc, 'vos_comm_rejected_total', 'COMM_REPLAY');
    const { key, protocol, peer } = await outsider(1);
    const text = `once ${Date.now()}`;
    const { bytes } = sealed(key, await keyOf(1), text);
    await protocol.deliver(peer, bytes);
    await expect(protocol.deliver(peer, bytes)).rejects.toMatchObject({ code: 'COMM_REPLAY' });
    expect(await metric(n1.rpc, 'vos_comm_rejected_total', 'COMM_REPLAY')).toBe(before + 1);
    const h = (await rpc(n1.rpc).call('comm_history', [
      { peer: key.address.toString(), limit: 50 },
    ])) as Entry[];
    expect(h.filter((e) => e.text === text)).toHaveLength(1);
  });

  it('a sender over its mailbox quota: COMM_QUOTA', async () => {
    const n2 = info.nodes[2];
    const before = await metric(n2.rpc, 'vos_comm_rejected_total', 'COMM_QUOTA');
    const { key, protocol, peer } = await outsider(2);
    // For an offline recipient (a key nobody runs): the holder keeps the base quota of 200 per sender.
    const nobody = PrivateKey.generate().publicKey;
    for (let i = 0; i < 200; i++)
      await protocol.deposit(peer, sealed(key, nobody, `m${i}`, { seq: i + 1 }).bytes);
    await expect(
      protocol.deposit(peer, sealed(key, nobody, 'one more', { seq: 201 }).bytes),
    ).rejects.toMatchObject({
      code: 'COMM_QUOTA',
    });
    expect(await metric(n2.rpc, 'vos_comm_rejected_total', 'COMM_QUOTA')).toBe(before + 1);
    // Another sender still has its own quota.
    const other = await outsider(2);
    await other.protocol.deposit(other.peer, sealed(other.key, nobody, 'mine').bytes);
  });
});
