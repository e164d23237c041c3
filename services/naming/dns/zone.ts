/**
 * The gateway's zone: for each served name, its DNS RRsets encoded once (with dns-packet) when a block
 * changes the name, so that a query only copies bytes (no state reads, no encoding on the query path).
 *
 *   <name>.vos                A / AAAA (ip4/ip6 endpoints, weighted order per query), TXT
 *   _443._tcp.<name>.vos      TLSA
 *   _<svc>._tcp|_udp.<name>.vos  SRV from the multiaddr endpoints with a tcp/udp port (weights carried)
 *   ep<i>.<name>.vos          A/AAAA: the host of SRV target i (a multiaddr with an IP)
 *   vos.                      SOA (serial = height), NS ns.vos.;  ns.vos. A/AAAA = the gateway's own IP
 *
 * dns-packet writes names without compression, so an encoded RR is position-independent: RRsets are
 * stored as bytes and concatenated into answers.
 */
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Endpoint, NameEntry } from '../records.js';

export const APEX = 'vos';
export const NS_HOST = 'ns.vos';

export const QTYPE = {
  A: 1,
  NS: 2,
  SOA: 6,
  HINFO: 13,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  TLSA: 52,
  ANY: 255,
} as const;

/** One RRset as answer bytes. */
export interface RRset {
  count: number;
  bytes: Buffer;
  /** Per-RR bytes and weights when the set is ordered per query (A/AAAA with several weighted endpoints). */
  parts?: Buffer[];
  weights?: number[];
}

/** The RRsets at one owner name, by qtype. */
export type OwnerNode = Map<number, RRset>;

/** All owner names of one VOS name, by the labels before `<name>.vos` ('' = the name itself). */
export interface NameZone {
  /** PERF: the RRsets most queries ask for, at <name>.vos, one property load away (no Map probe). */
  a: RRset | undefined;
  aaaa: RRset | undefined;
  txt: RRset | undefined;
  nodes: Map<string, OwnerNode>;
  /** SRV records by protocol, answered for any `_<svc>._<proto>` prefix. */
  srv: Map<'tcp' | 'udp', SrvSet>;
}

/** SRV answers carry the queried owner name: encoded once per owner (a bounded cache). */
export interface SrvSet {
  rrs: dnsPacket.Answer[];
  byOwner: Map<string, RRset>;
}

/** Bytes of one RR as dns-packet encodes it (header of the wrapping packet dropped). */
export function rrBytes(rr: dnsPacket.Answer): Buffer {
  return Buffer.from(dnsPacket.encode({ type: 'response', answers: [rr] }).subarray(12));
}

export function rrset(rrs: dnsPacket.Answer[], weights?: number[]): RRset {
  const parts = rrs.map(rrBytes);
  const set: RRset = { count: rrs.length, bytes: Buffer.concat(parts) };
  if (weights !== undefined && rrs.length > 1) {
    set.parts = parts;
    set.weights = weights;
  }
  return set;
}

/** Strings of at most 255 bytes, as TXT character-strings require. */
function txtChunks(s: string): Buffer[] {
  const b = Buffer.from(s, 'utf8');
  if (b.length === 0) return [Buffer.alloc(0)];
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 255) out.push(b.subarray(i, i + 255));
  return out;
}

interface SrvTarget {
  proto: 'tcp' | 'udp';
  port: number;
  /** An IP (served at ep<i>.<name>.vos) or a DNS host name. */
  host: string;
  ip: 4 | 6 | 0;
}

/** /ip4|ip6|dns|dns4|dns6/<host>/tcp|udp/<port>/... -> where an SRV record points; else null. */
export function srvTargetOf(multiaddr: string): SrvTarget | null {
  const m = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/(tcp|udp)\/(\d{1,5})(\/|$)/.exec(multiaddr);
  if (m === null) return null;
  const port = Number(m[4]);
  if (port < 1 || port > 65_535) return null;
  const ip = m[1] === 'ip4' ? 4 : m[1] === 'ip6' ? 6 : 0;
  if (ip !== 0 && isIP(m[2]) !== ip) return null;
  if (
    ip === 0 &&
    !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(m[2])
  )
    return null;
  return { proto: m[3] as 'tcp' | 'udp', port, host: m[2], ip };
}

/** The TTL the gateway gives a name's answers: the record's TTL (0 = default), capped by maxTtl. */
export function answerTtl(recordTtl: number, maxTtl: number): number {
  return recordTtl === 0 ? maxTtl : Math.min(recordTtl, maxTtl);
}

export function buildNameZone(entry: NameEntry, maxTtl: number): NameZone {
  const fqdn = `${entry.name}.${APEX}`;
  const ttl = answerTtl(entry.records.ttl, maxTtl);
  const nodes = new Map<string, OwnerNode>();
  const top: OwnerNode = new Map();
  nodes.set('', top);

  const addrSet = (kind: Endpoint['kind'], type: 'A' | 'AAAA') => {
    const eps = entry.records.endpoints.filter((e) => e.kind === kind);
    if (eps.length === 0) return;
    top.set(
      QTYPE[type],
      rrset(
        eps.map((e) => ({ type, name: fqdn, ttl, class: 'IN', data: e.value })),
        eps.map((e) => e.weight),
      ),
    );
  };
  addrSet('ip4', 'A');
  addrSet('ip6', 'AAAA');
  if (entry.records.txt.length > 0)
    top.set(
      QTYPE.TXT,
      rrset(
        entry.records.txt.map((t) => ({ type: 'TXT', name: fqdn, ttl, class: 'IN', data: txtChunks(t) })),
      ),
    );
  if (entry.records.tlsa.length > 0) {
    const owner = `_443._tcp.${fqdn}`;
    nodes.set(
      '_443._tcp',
      new Map([
        [
          QTYPE.TLSA,
          rrset(
            entry.records.tlsa.map((t) => ({
              type: 'TLSA',
              name: owner,
              ttl,
              class: 'IN',
              data: {
                usage: t.usage,
                selector: t.selector,
                matchingType: t.matchingType,
                certificate: Buffer.from(t.data),
              },
            })),
          ),
        ],
      ]),
    );
  }

  const srvRrs: Record<'tcp' | 'udp', dnsPacket.Answer[]> = { tcp: [], udp: [] };
  entry.records.endpoints.forEach((e, i) => {
    if (e.kind !== 'multiaddr') return;
    const t = srvTargetOf(e.value);
    if (t === null) return;
    let target = t.host.replace(/\.$/, '').toLowerCase();
    if (t.ip !== 0) {
      target = `ep${i}.${fqdn}`;
      const type = t.ip === 4 ? 'A' : 'AAAA';
      nodes.set(
        `ep${i}`,
        new Map([[QTYPE[type], rrset([{ type, name: target, ttl, class: 'IN', data: t.host }])]]),
      );
    }
    // The owner is the queried `_<svc>._<proto>` name, filled in by srvFor.
    srvRrs[t.proto].push({
      type: 'SRV',
      name: fqdn,
      ttl,
      class: 'IN',
      data: { priority: 0, weight: e.weight, port: t.port, target },
    });
  });
  const srv = new Map<'tcp' | 'udp', SrvSet>();
  for (const proto of ['tcp', 'udp'] as const)
    if (srvRrs[proto].length > 0) srv.set(proto, { rrs: srvRrs[proto], byOwner: new Map() });
  return { a: top.get(QTYPE.A), aaaa: top.get(QTYPE.AAAA), txt: top.get(QTYPE.TXT), nodes, srv };
}

export function srvFor(zone: NameZone, proto: 'tcp' | 'udp', owner: string): RRset | undefined {
  const base = zone.srv.get(proto);
  if (base === undefined) return undefined;
  let set = base.byOwner.get(owner);
  if (set === undefined) {
    set = rrset(base.rrs.map((rr) => ({ ...rr, name: owner })));
    // Bounded: owners are arbitrary `_<svc>` labels a client picks.
    if (base.byOwner.size >= 16) base.byOwner.clear();
    base.byOwner.set(owner, set);
  }
  return set;
}

export interface ApexOptions {
  height: number;
  maxTtl: number;
  /** The gateway's listen address, served as ns.vos when it is an IP literal other than 0.0.0.0/::. */
  host: string;
}

export interface Apex {
  soa: RRset;
  nodes: Map<string, OwnerNode>;
}

export function buildApex(o: ApexOptions): Apex {
  const soa = rrset([
    {
      type: 'SOA',
      name: APEX,
      ttl: o.maxTtl,
      class: 'IN',
      data: {
        mname: NS_HOST,
        rname: `hostmaster.${APEX}`,
        serial: o.height >>> 0,
        refresh: 60,
        retry: 30,
        expire: 3600,
        minimum: o.maxTtl,
      },
    },
  ]);
  const apex: OwnerNode = new Map([
    [QTYPE.SOA, soa],
    [QTYPE.NS, rrset([{ type: 'NS', name: APEX, ttl: o.maxTtl, class: 'IN', data: NS_HOST }])],
  ]);
  const ns: OwnerNode = new Map();
  const v = isIP(o.host);
  if (v !== 0 && o.host !== '0.0.0.0' && o.host !== '::')
    ns.set(
      v === 4 ? QTYPE.A : QTYPE.AAAA,
      rrset([{ type: v === 4 ? 'A' : 'AAAA', name: NS_HOST, ttl: o.maxTtl, class: 'IN', data: o.host }]),
    );
  return {
    soa,
    nodes: new Map([
      [APEX, apex],
      [NS_HOST, ns],
    ]),
  };
}
