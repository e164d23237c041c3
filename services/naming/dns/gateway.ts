/**
 * The DNS gateway every node runs: an authoritative server for `vos.` on UDP and TCP that answers
 * from the newest committed names (fed by the node as a NameSink), with answers precomputed per name
 * when a block changes it (zone.ts) and written around those bytes per query (wire.ts).
 *
 * A name is served while it is registered: through its expiry and its grace period (as name_resolve
 * reports it), so a registered name never gets NXDOMAIN. TTLs are the record's, capped by maxTtl.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../util/logger.js';
import type { NameSink } from '../feed.js';
import type { NameEntry } from '../records.js';
import { fastRandom, weightedOrder } from './select.js';
import {
  BADVERS,
  parseQuery,
  type Query,
  RCODE,
  type Sections,
  writeRefusal,
  writeResponse,
} from './wire.js';
import {
  APEX,
  type Apex,
  buildApex,
  buildNameZone,
  type NameZone,
  type OwnerNode,
  QTYPE,
  type RRset,
  rrBytes,
  srvFor,
} from './zone.js';

export interface DnsGatewayOptions {
  host: string;
  /** 0 = any free port (UDP and TCP get the same one). */
  port: number;
  /** Cap on answer TTLs and the negative TTL, seconds. */
  maxTtl?: number;
  /** The EDNS UDP payload size we offer and honour at most (RFC 9715's 1232 by default). */
  udpPayload?: number;
  /** Blocks after expiry during which a name is still registered (chain param naming.gracePeriod). */
  gracePeriod: number;
  maxTcpConnections?: number;
  tcpIdleMs?: number;
  logger?: Logger | undefined;
}

/** Counters the node exports as metrics (read at scrape time; nothing is counted through prom-client per query). */
export interface DnsStats {
  /** Responses by transport and rcode. */
  responses: { udp: number[]; tcp: number[] };
  /** Answered queries by qtype and rcode: [typeSlot * 16 + rcode] (DNS_QUERY_TYPES names the slots). */
  queries: number[];
  truncated: number;
  dropped: number;
  errors: number;
}

/** The qtypes counted by name; any other is counted as OTHER (the last slot). */
export const DNS_QUERY_TYPES = [...Object.keys(QTYPE).filter((t) => t !== 'OPT'), 'OTHER'];
const TYPE_SLOT = new Map<number, number>(
  DNS_QUERY_TYPES.slice(0, -1).map((t, i) => [QTYPE[t as keyof typeof QTYPE], i]),
);
const OTHER_SLOT = DNS_QUERY_TYPES.length - 1;
export const newQueryCounts = (): number[] => new Array(DNS_QUERY_TYPES.length * 16).fill(0);

const MAX_UDP_LIMIT = 65_535;
const TCP_MAX_BUFFERED = 256 * 1024;

export class DnsGateway implements NameSink {
  readonly stats: DnsStats = {
    responses: { udp: new Array(32).fill(0), tcp: new Array(32).fill(0) },
    queries: newQueryCounts(),
    truncated: 0,
    dropped: 0,
    errors: 0,
  };
  private readonly maxTtl: number;
  private readonly udpPayload: number;
  /** By `<name>.vos` (a query's key, so the common lookup needs no string work). */
  private readonly zones = new Map<string, NameZone>();
  /** Height at which a name stops being served (expires + grace + 1) -> names; and the reverse. */
  private readonly removals = new Map<number, Set<string>>();
  private readonly removalOf = new Map<string, number>();
  private apex: Apex;
  private height = 0;
  private readonly rand = fastRandom();
  private readonly order: number[] = new Array(64).fill(0);
  private readonly orderScratch: number[] = new Array(64).fill(0);
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly conns = new Set<Socket>();
  private boundPort = 0;

  constructor(private readonly opts: DnsGatewayOptions) {
    this.maxTtl = opts.maxTtl ?? 5;
    this.udpPayload = opts.udpPayload ?? 1232;
    this.apex = buildApex({ height: 0, maxTtl: this.maxTtl, host: opts.host });
  }

  // ---- NameSink ----

  load(entries: Iterable<NameEntry>, height: number): void {
    this.zones.clear();
    this.removals.clear();
    this.removalOf.clear();
    this.height = height;
    for (const e of entries) this.put(e);
    this.apex = buildApex({ height, maxTtl: this.maxTtl, host: this.opts.host });
  }

  apply(changes: Map<string, NameEntry | null>, height: number): void {
    for (const [name, e] of changes) {
      if (e === null) this.drop(name);
      else this.put(e);
    }
    this.setHeight(height);
  }

  setHeight(height: number): void {
    if (height <= this.height) return;
    // PERF: heights advance one block at a time; a jump (first load) walks the index instead.
    if (height - this.height <= this.removals.size) {
      for (let h = this.height + 1; h <= height; h++) this.dropAt(h);
    } else {
      for (const h of [...this.removals.keys()]) if (h <= height) this.dropAt(h);
    }
    this.height = height;
    this.apex = buildApex({ height, maxTtl: this.maxTtl, host: this.opts.host });
  }

  /** Names currently served. */
  get size(): number {
    return this.zones.size;
  }

  private put(e: NameEntry): void {
    this.drop(e.name);
    const until = e.expires + this.opts.gracePeriod + 1;
    if (until <= this.height) return;
    this.zones.set(`${e.name}.${APEX}`, buildNameZone(e, this.maxTtl));
    this.removalOf.set(e.name, until);
    const set = this.removals.get(until) ?? new Set<string>();
    this.removals.set(until, set);
    set.add(e.name);
  }

  private drop(name: string): void {
    this.zones.delete(`${name}.${APEX}`);
    const at = this.removalOf.get(name);
    if (at === undefined) return;
    this.removalOf.delete(name);
    const set = this.removals.get(at);
    set?.delete(name);
    if (set?.size === 0) this.removals.delete(at);
  }

  private dropAt(h: number): void {
    const set = this.removals.get(h);
    if (set === undefined) return;
    this.removals.delete(h);
    for (const name of set) {
      this.zones.delete(`${name}.${APEX}`);
      this.removalOf.delete(name);
    }
  }

  // ---- answering ----

  /** The response to one packet, or null when nothing is to be sent (not a query, too short). */
  answer(packet: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
    const q = parseQuery(packet);
    if (q === null) {
      this.stats.dropped++;
      return null;
    }
    if (!('key' in q)) {
      this.stats.responses[transport][q.rcode]++;
      return writeRefusal(q);
    }
    const s = this.sections(q);
    this.stats.responses[transport][s.rcode]++;
    this.stats.queries[(TYPE_SLOT.get(q.qtype) ?? OTHER_SLOT) * 16 + (s.rcode & 15)]++;
    const limit =
      transport === 'tcp'
        ? MAX_UDP_LIMIT
        : q.edns === null
          ? 512
          : Math.max(512, Math.min(q.edns.udpSize, this.udpPayload));
    const out = writeResponse(q, s, this.udpPayload, limit);
    if ((out[2] & 0x02) !== 0) this.stats.truncated++;
    return out;
  }

  private sections(q: Query): Sections {
    if (q.edns !== null && q.edns.version !== 0) return { rcode: BADVERS, authoritative: false };
    const inZone = q.key === APEX || q.key.endsWith(`.${APEX}`);
    if (!inZone || (q.qclass !== 1 && q.qclass !== 255))
      return { rcode: RCODE.REFUSED, authoritative: false };
    // Zone transfers are not offered; meta types other than ANY are not queries.
    if (q.qtype === 251 || q.qtype === 252 || (q.qtype >= 128 && q.qtype < 255))
      return { rcode: RCODE.REFUSED, authoritative: false };
    const negative = this.apex.soa;
    // PERF: the common query, A/AAAA/TXT of <name>.vos: one Map probe, one property load.
    const zone = this.zones.get(q.key);
    if (zone !== undefined) {
      const t = q.qtype;
      const common =
        t === QTYPE.A ? zone.a : t === QTYPE.AAAA ? zone.aaaa : t === QTYPE.TXT ? zone.txt : null;
      if (common !== null) return this.positive(common, negative);
    }
    const found = this.owner(q.key);
    if (found === undefined) return { rcode: RCODE.NXDOMAIN, authoritative: true, authority: negative };
    if (q.qtype === QTYPE.ANY) {
      // RFC 8482: one synthesized HINFO instead of every RRset.
      return { rcode: RCODE.NOERROR, authoritative: true, answer: this.hinfo(q.key) };
    }
    return this.positive(found.get(q.qtype), negative);
  }

  /** The answer from one RRset (in a weighted order when it has weights), or NODATA. */
  private positive(set: RRset | undefined, negative: RRset): Sections {
    if (set === undefined) return { rcode: RCODE.NOERROR, authoritative: true, authority: negative };
    if (set.parts !== undefined && set.weights !== undefined && set.count <= this.order.length) {
      weightedOrder(set.weights, this.rand, this.order, this.orderScratch);
      return {
        rcode: RCODE.NOERROR,
        authoritative: true,
        ordered: { parts: set.parts, order: this.order, count: set.count },
      };
    }
    return { rcode: RCODE.NOERROR, authoritative: true, answer: set };
  }

  /** The RRsets at `key` (a name under vos.), or undefined when the name does not exist (NXDOMAIN). */
  private owner(key: string): OwnerNode | undefined {
    const apexNode = this.apex.nodes.get(key);
    if (apexNode !== undefined) return apexNode;
    const body = key.slice(0, -(APEX.length + 1));
    const dot = body.lastIndexOf('.');
    const zone = this.zones.get(dot < 0 ? key : key.slice(dot + 1));
    if (zone === undefined) return undefined;
    const prefix = dot < 0 ? '' : body.slice(0, dot);
    const node = zone.nodes.get(prefix);
    // `_<svc>._tcp|_udp`: SRV (and TLSA at _443._tcp); `_tcp`/`_udp` alone: an empty non-terminal.
    const m = /^(?:(_[a-z0-9-]+)\.)?_(tcp|udp)$/.exec(prefix);
    if (m === null) return node;
    const proto = m[2] as 'tcp' | 'udp';
    const hasSrv = zone.srv.has(proto);
    if (m[1] === undefined)
      return hasSrv || (proto === 'tcp' && zone.nodes.has('_443._tcp')) ? EMPTY : undefined;
    const srv = srvFor(zone, proto, key);
    if (srv === undefined) return node;
    const merged: OwnerNode = new Map(node ?? []);
    merged.set(QTYPE.SRV, srv);
    return merged;
  }

  private hinfo(owner: string): RRset {
    const bytes = rrBytes({
      type: 'HINFO',
      name: owner,
      ttl: this.maxTtl,
      class: 'IN',
      data: { cpu: 'RFC8482', os: '' },
    });
    return { count: 1, bytes };
  }

  // ---- sockets ----

  async listen(): Promise<{ host: string; port: number }> {
    const family = isIP(this.opts.host) === 6 ? 'udp6' : 'udp4';
    // With port 0, UDP picks the port and TCP must get the same one: retry on a clash.
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket({ type: family });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.opts.port, this.opts.host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(port);
      } catch (err) {
        udp.close();
        if (this.opts.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 10)
          continue;
        throw err;
      }
      this.udp = udp;
      this.boundPort = port;
      break;
    }
    const udp = this.udp;
    try {
      udp.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // The kernel's cap (net.core.rmem_max) applies; the default buffer still works.
    }
    udp.on('message', (msg, rinfo) => {
      let out: Buffer | null;
      try {
        out = this.answer(msg, 'udp');
      } catch (err) {
        this.stats.errors++;
        this.opts.logger?.warn({ err }, 'dns: query failed');
        return;
      }
      if (out !== null) udp.send(out, rinfo.port, rinfo.address);
    });
    udp.on('error', (err) => this.opts.logger?.warn({ err }, 'dns: udp socket error'));
    return { host: this.opts.host, port: this.boundPort };
  }

  get port(): number | null {
    return this.udp === null ? null : this.boundPort;
  }

  private listenTcp(port: number): Promise<Server> {
    const server = createServer((socket) => this.serveTcp(socket));
    server.maxConnections = this.opts.maxTcpConnections ?? 256;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.opts.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.opts.logger?.warn({ err }, 'dns: tcp server error'));
        resolve(server);
      });
    });
  }

  /** RFC 7766: two-byte length prefix, several queries per connection, an idle timeout. */
  private serveTcp(socket: Socket): void {
    this.conns.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.tcpIdleMs ?? 10_000, () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        let out: Buffer | null;
        try {
          out = this.answer(msg, 'tcp');
        } catch (err) {
          this.stats.errors++;
          this.opts.logger?.warn({ err }, 'dns: query failed');
          socket.destroy();
          return;
        }
        if (out === null) continue;
        const frame = Buffer.allocUnsafe(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        out.copy(frame, 2);
        socket.write(frame);
        // A client that sends and never reads is cut off, not buffered for.
        if (socket.writableLength > TCP_MAX_BUFFERED) {
          socket.destroy();
          return;
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.conns.delete(socket));
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    for (const c of this.conns) c.destroy();
    if (udp !== null) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp !== null) await new Promise<void>((r) => tcp.close(() => r()));
  }
}

const EMPTY: OwnerNode = new Map();
