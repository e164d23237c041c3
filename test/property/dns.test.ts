/**
 * DNS gateway properties (fast-check, printed seeds): no packet crashes it and every response decodes;
 * the fast query parser and dns-packet's decoder agree on every query the fast path accepts; weighted
 * answer order puts endpoint i first in w_i / W of the queries (within a stated tolerance).
 */
import { describe, expect, it } from '@jest/globals';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { PrivateKey } from '../../chain/keys.js';
import { DnsGateway } from '../../services/naming/dns/gateway.js';
import { fastRandom, weightedOrder } from '../../services/naming/dns/select.js';
import { parseFast, parseSlow } from '../../services/naming/dns/wire.js';
import { EMPTY_RECORDS } from '../../services/naming/records.js';
import { propertyParams } from '../fc-params.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(3));
const gw = new DnsGateway({ host: '127.0.0.1', port: 0, gracePeriod: 0 });
gw.load(
  [
    {
      name: 'alpha',
      owner: key.address,
      ownerKey: key.publicKey,
      registeredAt: 1,
      expires: 100,
      records: {
        ...EMPTY_RECORDS,
        endpoints: [
          { kind: 'ip4', value: '10.0.0.1', weight: 3 },
          { kind: 'ip4', value: '10.0.0.2', weight: 1 },
        ],
        txt: ['x'.repeat(400)],
      },
      transfer: null,
    },
  ],
  1,
);

const TYPES = [
  'A',
  'AAAA',
  'TXT',
  'TLSA',
  'SRV',
  'SOA',
  'NS',
  'MX',
  'ANY',
  'CNAME',
] as dnsPacket.RecordType[];
const label = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const qname = fc.oneof(
  fc.constantFrom('alpha.vos', 'ALPHA.vos', 'vos', 'ns.vos', '_443._tcp.alpha.vos', 'example.com'),
  fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => `${l.join('.')}.vos`),
  fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
);
const queryPacket = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    name: qname,
    type: fc.constantFrom(...TYPES),
    edns: fc.option(fc.integer({ min: 0, max: 0xffff })),
    dnssecOk: fc.boolean(),
    rd: fc.boolean(),
  })
  .map((q) =>
    dnsPacket.encode({
      type: 'query',
      id: q.id,
      flags: q.rd ? dnsPacket.RECURSION_DESIRED : 0,
      questions: [{ type: q.type, name: q.name, class: 'IN' }],
      additionals:
        q.edns === null
          ? []
          : [
              {
                type: 'OPT',
                name: '.',
                udpPayloadSize: q.edns,
                extendedRcode: 0,
                ednsVersion: 0,
                flags: q.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
                flag_do: q.dnssecOk,
                options: [],
              },
            ],
    }),
  );

/** Valid queries with bytes flipped, cut or appended; and plain random bytes. */
const hostile = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => Buffer.from(b)),
  fc
    .tuple(
      queryPacket,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
    )
    .map(([p, flips, cut]) => {
      const b = Buffer.from(p);
      for (const [i, v] of flips) b[i % b.length] = v;
      return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
    }),
);

describe('DNS gateway (property)', () => {
  it('answers any packet without throwing; every response decodes and echoes the id', () => {
    fc.assert(
      fc.property(hostile, fc.constantFrom('udp' as const, 'tcp' as const), (packet, transport) => {
        const fast = parseFast(packet);
        // What the fast path takes, dns-packet reads the same way (it declines the rest).
        if (fast !== null && fast !== 'slow' && 'key' in fast) expect(parseSlow(packet)).toEqual(fast);
        const out = gw.answer(packet, transport);
        if (out === null) return;
        const r = dnsPacket.decode(out);
        expect(r.id).toBe(packet.readUInt16BE(0));
        expect(r.type).toBe('response');
        if (transport === 'udp') expect(out.length).toBeLessThanOrEqual(1232);
      }),
      propertyParams('dns any packet', 2000),
    );
  });

  it('the fast parser and dns-packet agree on every query the fast path takes', () => {
    fc.assert(
      fc.property(queryPacket, (packet) => {
        const fast = parseFast(packet);
        expect(fast).not.toBe('slow');
        const slow = parseSlow(packet);
        expect(fast).toEqual(slow);
      }),
      propertyParams('dns fast parser = dns-packet', 1000),
    );
  });

  it('weighted order: endpoint i comes first in w_i / W of the queries (±0.02 over 20,000)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 }),
        fc.integer(),
        (weights, seed) => {
          const total = weights.reduce((a, b) => a + b, 0);
          const rand = fastRandom(seed);
          const out = new Array(weights.length).fill(0);
          const scratch = new Array(weights.length).fill(0);
          const first = new Array(weights.length).fill(0);
          const n = 20_000;
          for (let k = 0; k < n; k++) {
            weightedOrder(weights, rand, out, scratch);
            // Always a permutation.
            if (k < 10) expect([...out].sort((a, b) => a - b)).toEqual(weights.map((_, i) => i));
            first[out[0]]++;
          }
          weights.forEach((w, i) => {
            const expected = total === 0 ? 1 / weights.length : w / total;
            expect(Math.abs(first[i] / n - expected)).toBeLessThan(0.02);
          });
        },
      ),
      propertyParams('dns weighted order', 20),
    );
  });

  it('the gateway orders A answers by weight per query', () => {
    const q = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'alpha.vos' }] });
    const n = 4000;
    let first = 0;
    for (let i = 0; i < n; i++) {
      const answers = dnsPacket.decode(gw.answer(q, 'udp') as Buffer).answers ?? [];
      expect(answers).toHaveLength(2);
      if ((answers[0] as dnsPacket.StringAnswer).data === '10.0.0.1') first++;
    }
    expect(Math.abs(first / n - 0.75)).toBeLessThan(0.03);
  });
});
