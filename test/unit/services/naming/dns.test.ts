/**
 * The DNS gateway without a chain: names fed as a NameSink, queries as dns-packet builds them, answers
 * decoded by dns-packet. Records, SOA/NS, NXDOMAIN/NODATA, EDNS, TC, refusals, expiry and grace, 0x20
 * case, and the UDP + TCP sockets.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dnsPacket from 'dns-packet';
import { PrivateKey } from '../../../../chain/keys.js';
import { DnsGateway } from '../../../../services/naming/dns/gateway.js';
import { EMPTY_RECORDS, type NameEntry, type NameRecords } from '../../../../services/naming/records.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(9));

function entry(name: string, records: Partial<NameRecords>, expires = 100): NameEntry {
  return {
    name,
    owner: key.address,
    ownerKey: key.publicKey,
    registeredAt: 1,
    expires,
    records: { ...EMPTY_RECORDS, ...records },
    transfer: null,
  };
}

const tlsaData = Buffer.alloc(32, 7);
const bigTxt = Array.from({ length: 12 }, (_, i) => `${i}`.repeat(300));

function gateway(height = 10): DnsGateway {
  const g = new DnsGateway({ host: '127.0.0.1', port: 0, gracePeriod: 5 });
  g.load(
    [
      entry('alpha', {
        endpoints: [
          { kind: 'ip4', value: '10.0.0.1', weight: 1 },
          { kind: 'ip6', value: '2001:db8::1', weight: 1 },
          { kind: 'multiaddr', value: '/ip4/10.0.0.9/tcp/4001', weight: 7 },
          { kind: 'multiaddr', value: '/dns4/example.org/udp/53/quic-v1', weight: 2 },
        ],
        txt: ['hello world'],
        tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: tlsaData }],
        ttl: 300,
      }),
      entry('bravo', { txt: ['only text'], ttl: 2 }),
      entry('big', { txt: bigTxt }),
      entry('old', { endpoints: [{ kind: 'ip4', value: '10.9.9.9', weight: 1 }] }, 8),
    ],
    height,
  );
  return g;
}

function query(
  name: string,
  type: dnsPacket.RecordType,
  opts: { edns?: number; do?: boolean; id?: number; klass?: dnsPacket.RecordClass } = {},
): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: opts.klass ?? 'IN' }],
    additionals:
      opts.edns === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: opts.edns,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: opts.do ? dnsPacket.DNSSEC_OK : 0,
              flag_do: opts.do ?? false,
              options: [],
            },
          ],
  });
}

/** dns-packet decodes the rcode too; its types leave it out. */
type Decoded = dnsPacket.DecodedPacket & { rcode: string };

function ask(g: DnsGateway, packet: Buffer, transport: 'udp' | 'tcp' = 'udp'): Decoded {
  const out = g.answer(packet, transport);
  if (out === null) throw new Error('no response');
  return dnsPacket.decode(out) as Decoded;
}

describe('DNS gateway answers', () => {
  const g = gateway();
  it('A, AAAA, TXT, TLSA and SRV of a name, authoritative, TTL capped at 5 s', () => {
    const a = ask(g, query('alpha.vos', 'A'));
    expect(a.rcode).toBe('NOERROR');
    expect(a.flag_aa).toBe(true);
    expect(a.flag_rd).toBe(true);
    expect(a.id).toBe(4242);
    expect(a.answers).toEqual([
      expect.objectContaining({ type: 'A', name: 'alpha.vos', ttl: 5, data: '10.0.0.1' }),
    ]);
    expect(ask(g, query('alpha.vos', 'AAAA')).answers?.[0]).toMatchObject({
      type: 'AAAA',
      data: '2001:db8::1',
    });
    const txt = ask(g, query('alpha.vos', 'TXT')).answers?.[0] as dnsPacket.TxtAnswer;
    expect(Buffer.concat(txt.data as Buffer[]).toString()).toBe('hello world');
    const tlsa = ask(g, query('_443._tcp.alpha.vos', 'TLSA')).answers?.[0] as dnsPacket.TlsaAnswer;
    expect(tlsa.data).toMatchObject({ usage: 3, selector: 1, matchingType: 1 });
    expect(Buffer.from(tlsa.data.certificate)).toEqual(tlsaData);
    const srv = ask(g, query('_vos._tcp.alpha.vos', 'SRV'));
    expect(srv.answers).toEqual([
      expect.objectContaining({
        name: '_vos._tcp.alpha.vos',
        data: { priority: 0, weight: 7, port: 4001, target: 'ep2.alpha.vos' },
      }),
    ]);
    expect(ask(g, query('ep2.alpha.vos', 'A')).answers?.[0]).toMatchObject({ data: '10.0.0.9' });
    const udp = ask(g, query('_x._udp.alpha.vos', 'SRV')).answers?.[0] as dnsPacket.SrvAnswer;
    expect(udp.data).toMatchObject({ port: 53, weight: 2, target: 'example.org' });
    // The record's own TTL when under the cap.
    expect((ask(g, query('bravo.vos', 'TXT')).answers![0] as dnsPacket.TxtAnswer).ttl).toBe(2);
  });

  it('SOA (serial = height) and NS at the apex', () => {
    const soa = ask(g, query('vos', 'SOA')).answers?.[0] as dnsPacket.SoaAnswer;
    expect(soa.data).toMatchObject({ mname: 'ns.vos', serial: 10, minimum: 5 });
    expect(ask(g, query('vos', 'NS')).answers?.[0]).toMatchObject({ type: 'NS', data: 'ns.vos' });
    expect(ask(g, query('ns.vos', 'A')).answers?.[0]).toMatchObject({ data: '127.0.0.1' });
  });

  it('NXDOMAIN and NODATA carry the SOA in the authority section', () => {
    const nx = ask(g, query('nobody.vos', 'A'));
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.flag_aa).toBe(true);
    expect(nx.answers).toEqual([]);
    expect(nx.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'vos', ttl: 5 });
    const nodata = ask(g, query('bravo.vos', 'A'));
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities?.[0]).toMatchObject({ type: 'SOA' });
    expect(ask(g, query('_tcp.alpha.vos', 'A')).rcode).toBe('NOERROR');
    expect(ask(g, query('_tcp.bravo.vos', 'A')).rcode).toBe('NXDOMAIN');
    expect(ask(g, query('deep.sub.alpha.vos', 'A')).rcode).toBe('NXDOMAIN');
  });

  it('keeps the case of the question (0x20) and echoes EDNS with the DO bit', () => {
    const r = ask(g, query('AlPhA.VoS', 'A', { edns: 4096, do: true }));
    expect(r.questions?.[0].name).toBe('AlPhA.VoS');
    expect(r.answers?.[0]).toMatchObject({ data: '10.0.0.1' });
    const opt = r.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer;
    expect(opt.udpPayloadSize).toBe(1232);
    expect(opt.flag_do).toBe(true);
    expect(ask(g, query('alpha.vos', 'A')).additionals).toEqual([]);
  });

  it('truncates over UDP when the answer does not fit, answers in full over TCP', () => {
    const udp = ask(g, query('big.vos', 'TXT', { edns: 1232 }));
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toEqual([]);
    const tcp = ask(g, query('big.vos', 'TXT', { edns: 1232 }), 'tcp');
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers).toHaveLength(12);
    // Without EDNS the UDP limit is 512 bytes.
    expect(ask(g, query('big.vos', 'TXT')).flag_tc).toBe(true);
  });

  it('REFUSED outside vos. and for other classes, NOTIMP for other opcodes, FORMERR for garbage', () => {
    expect(ask(g, query('example.com', 'A')).rcode).toBe('REFUSED');
    expect(ask(g, query('example.com', 'A')).flag_aa).toBe(false);
    expect(ask(g, query('alpha.vos', 'A', { klass: 'CH' })).rcode).toBe('REFUSED');
    expect(ask(g, query('vos', 'AXFR')).rcode).toBe('REFUSED');
    const notify = query('alpha.vos', 'SOA');
    notify[2] = (notify[2] & 0x87) | (4 << 3);
    expect(ask(g, notify).rcode).toBe('NOTIMP');
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
    const r = ask(g, garbage);
    expect(r.rcode).toBe('FORMERR');
    expect(r.id).toBe(0x1234);
    expect(g.answer(Buffer.from([1, 2, 3]), 'udp')).toBeNull();
    // A response is never answered (no loops between servers).
    const resp = query('alpha.vos', 'A');
    resp[2] |= 0x80;
    expect(g.answer(resp, 'udp')).toBeNull();
  });

  it('BADVERS for EDNS versions other than 0', () => {
    const q = query('alpha.vos', 'A', { edns: 1232 });
    q[q.length - 5] = 1; // the OPT's version byte
    const r = ask(g, q);
    const opt = r.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer;
    expect(opt.extendedRcode).toBe(1);
    expect(r.answers).toEqual([]);
  });

  it('ANY gets one HINFO (RFC 8482)', () => {
    expect(ask(g, query('alpha.vos', 'ANY' as dnsPacket.RecordType)).answers).toEqual([
      expect.objectContaining({ type: 'HINFO', data: { cpu: 'RFC8482', os: '' } }),
    ]);
  });
});

describe('DNS gateway feed', () => {
  it('serves a name through expiry and grace, then NXDOMAIN; changes and deletions apply', () => {
    const g = gateway(10);
    expect(ask(g, query('old.vos', 'A')).rcode).toBe('NOERROR'); // expired at 8, grace until 13
    g.setHeight(13);
    expect(ask(g, query('old.vos', 'A')).rcode).toBe('NOERROR');
    g.setHeight(14);
    expect(ask(g, query('old.vos', 'A')).rcode).toBe('NXDOMAIN');
    expect(ask(g, query('vos', 'SOA')).answers?.[0]).toMatchObject({ data: { serial: 14 } });
    g.apply(
      new Map([['bravo', entry('bravo', { endpoints: [{ kind: 'ip4', value: '1.2.3.4', weight: 1 }] })]]),
      15,
    );
    expect(ask(g, query('bravo.vos', 'A')).answers?.[0]).toMatchObject({ data: '1.2.3.4' });
    g.apply(new Map([['bravo', null]]), 16);
    expect(ask(g, query('bravo.vos', 'A')).rcode).toBe('NXDOMAIN');
    // A renewal moves the end of service.
    g.apply(new Map([['new', entry('new', {}, 20)]]), 17);
    g.apply(new Map([['new', entry('new', {}, 40)]]), 18);
    g.setHeight(30);
    expect(ask(g, query('new.vos', 'SOA')).rcode).toBe('NOERROR');
    // A load at a height past the grace serves nothing of it.
    g.load([entry('gone', {}, 3)], 100);
    expect(ask(g, query('gone.vos', 'A')).rcode).toBe('NXDOMAIN');
    expect(g.size).toBe(0);
  });
});

describe('DNS gateway sockets', () => {
  const g = gateway();
  let port = 0;
  beforeAll(async () => {
    port = (await g.listen()).port;
  });
  afterAll(() => g.close());

  it('answers over UDP and over TCP on the same port, several queries per connection', async () => {
    const udp = createSocket('udp4');
    const got = await new Promise<Buffer>((resolve, reject) => {
      udp.once('message', resolve);
      udp.once('error', reject);
      udp.send(query('alpha.vos', 'A', { id: 7 }), port, '127.0.0.1');
    });
    udp.close();
    expect(dnsPacket.decode(got) as Decoded).toMatchObject({ id: 7, rcode: 'NOERROR' });

    const sock = connect(port, '127.0.0.1');
    const frames: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const done = new Promise<void>((resolve) => {
      sock.on('data', (c: Buffer) => {
        pending = Buffer.concat([pending, c]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          frames.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + pending.readUInt16BE(0));
          if (frames.length === 2) resolve();
        }
      });
    });
    // Two queries in one write, the second split across two writes.
    const q1 = dnsPacket.streamEncode({
      type: 'query',
      id: 1,
      questions: [{ type: 'TXT', name: 'big.vos' }],
    });
    const q2 = dnsPacket.streamEncode({ type: 'query', id: 2, questions: [{ type: 'A', name: 'nope.vos' }] });
    sock.write(Buffer.concat([q1, q2.subarray(0, 5)]));
    setTimeout(() => sock.write(q2.subarray(5)), 20);
    await done;
    sock.destroy();
    expect(dnsPacket.decode(frames[0])).toMatchObject({ id: 1, flag_tc: false });
    expect(dnsPacket.decode(frames[0]).answers).toHaveLength(12);
    expect(dnsPacket.decode(frames[1]) as Decoded).toMatchObject({ id: 2, rcode: 'NXDOMAIN' });
  });
});
