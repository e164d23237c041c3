/**
 * The DNS gateway on worker processes (dns.workers > 0): answers from the shared socket, follows the
 * names fed to the pool, and a worker killed with SIGKILL is replaced and seeded again; a worker never
 * answers before it holds the names. Runs the built worker (dist/), as `npm test` builds first.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { PrivateKey } from '../../../../chain/keys.js';
import { DnsWorkerPool } from '../../../../services/naming/dns/workers.js';
import { EMPTY_RECORDS, type NameEntry } from '../../../../services/naming/records.js';
import { waitFor } from '../../../helpers/devnet.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(4));
const entry = (name: string, ip: string): NameEntry => ({
  name,
  owner: key.address,
  ownerKey: key.publicKey,
  registeredAt: 1,
  expires: 1000,
  records: { ...EMPTY_RECORDS, endpoints: [{ kind: 'ip4', value: ip, weight: 1 }] },
  transfer: null,
});

type Decoded = dnsPacket.DecodedPacket & { rcode: string };

describe('DNS worker pool', () => {
  const pool = new DnsWorkerPool({ host: '127.0.0.1', port: 0, gracePeriod: 0, workers: 2 });
  const sock = createSocket('udp4');
  let port = 0;
  let id = 0;
  const waiting = new Map<number, (d: Decoded) => void>();
  const ask = (name: string) =>
    new Promise<Decoded>((resolve, reject) => {
      const q = ++id & 0xffff;
      const timer = setTimeout(() => reject(new Error('no answer')), 3000);
      waiting.set(q, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
      sock.send(
        dnsPacket.encode({ type: 'query', id: q, questions: [{ type: 'A', name }] }),
        port,
        '127.0.0.1',
      );
    });

  beforeAll(async () => {
    pool.load([entry('one', '10.1.1.1')], 5);
    port = (await pool.listen()).port;
    sock.on('message', (m) => {
      const d = dnsPacket.decode(m) as Decoded;
      waiting.get(d.id ?? -1)?.(d);
      waiting.delete(d.id ?? -1);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  }, 60_000);
  afterAll(async () => {
    sock.close();
    await pool.close();
  });

  it('answers from every worker what the node committed, and follows changes', async () => {
    expect(pool.port).toBe(port);
    for (let i = 0; i < 50; i++)
      expect((await ask('one.vos')).answers?.[0]).toMatchObject({ data: '10.1.1.1' });
    pool.apply(new Map([['two', entry('two', '10.2.2.2')]]), 6);
    await waitFor(
      'both workers to take the change',
      async () => {
        const rs = await Promise.all(Array.from({ length: 20 }, () => ask('two.vos')));
        return rs.every((r) => r.rcode === 'NOERROR') ? true : undefined;
      },
      10_000,
    );
    // TCP on the same port, through the cluster's shared listener.
    const tcp = connect(port, '127.0.0.1');
    const frame = await new Promise<Buffer>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      tcp.on('error', reject);
      tcp.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
      });
      tcp.write(
        dnsPacket.streamEncode({ type: 'query', id: 5, questions: [{ type: 'A', name: 'one.vos' }] }),
      );
    });
    tcp.destroy();
    expect(dnsPacket.decode(frame).answers?.[0]).toMatchObject({ data: '10.1.1.1' });
    await waitFor('stats from the workers', async () => (pool.size === 2 ? true : undefined), 5000);
    expect(pool.stats.responses.udp[0]).toBeGreaterThan(50);
  }, 30_000);

  it('a worker killed with SIGKILL is replaced and seeded; no query gets NXDOMAIN for a served name', async () => {
    const before = Object.values((await import('node:cluster')).default.workers ?? {});
    expect(before).toHaveLength(2);
    before[0]?.process.kill('SIGKILL');
    const seen: string[] = [];
    await waitFor(
      'a replacement worker',
      async () => {
        const r = await ask('two.vos').catch(() => null);
        if (r !== null) seen.push(r.rcode);
        const now = Object.values((await import('node:cluster')).default.workers ?? {});
        return now.length === 2 && !now.includes(before[0]) ? true : undefined;
      },
      20_000,
    );
    for (let i = 0; i < 40; i++) seen.push((await ask('two.vos')).rcode);
    expect(seen.every((c) => c === 'NOERROR')).toBe(true);
  }, 40_000);
});
