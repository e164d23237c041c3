/**
 * Reading a query and writing the answer around precomputed RRset bytes.
 *
 * The fast path reads only what a standard query carries (header, one question, at most one OPT RR)
 * and declines anything else to the slow path, which decodes the packet with dns-packet and decides
 * (FORMERR for what dns-packet cannot decode or RFC 1035/6891 forbid). RR bytes themselves always come
 * from dns-packet (zone.ts); here only the header counts, the id and the flags are written.
 */
import dnsPacket from 'dns-packet';
import { QTYPE } from './zone.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Extended RCODE (RFC 6891): 16 = 1 in the OPT's upper bits, 0 in the header. */
export const BADVERS = 16;

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_CD = 0x0010;
const MAX_NAME = 255;

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface Query {
  id: number;
  flags: number;
  /** Lower-case query name without the trailing dot ('' = the root). */
  key: string;
  qtype: number;
  qclass: number;
  /** The question section as the client sent it (case kept: resolvers using 0x20 check it). */
  question: Buffer;
  edns: Edns | null;
}

/** A query that gets only a header (and the question when known) back with this rcode. */
export interface Refusal {
  id: number;
  flags: number;
  rcode: number;
}

export type Parsed = Query | Refusal | 'slow' | null;

const scratch = Buffer.allocUnsafe(MAX_NAME);

/**
 * The fast path. Returns a Query, a Refusal (NOTIMP), 'slow' when the packet is anything but a
 * standard one-question query with at most one root OPT RR, or null to drop (too short, a response).
 */
export function parseFast(buf: Buffer): Parsed {
  if (buf.length < 12) return null;
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & FLAG_QR) !== 0) return null;
  if (((flags >> 11) & 0xf) !== 0) return { id, flags, rcode: RCODE.NOTIMP };
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (qd !== 1 || an !== 0 || ns !== 0 || ar > 1) return 'slow';
  let off = 12;
  let n = 0;
  for (;;) {
    if (off >= buf.length) return 'slow';
    const len = buf[off];
    if (len === 0) {
      off++;
      break;
    }
    if ((len & 0xc0) !== 0 || off + 1 + len > buf.length || n + len + 1 > MAX_NAME) return 'slow';
    if (n > 0) scratch[n++] = 0x2e;
    for (let i = off + 1; i <= off + len; i++) {
      const c = buf[i];
      // PERF: lower-case A-Z in place; a label byte outside [A-Za-z0-9_-] cannot match: slow path.
      if (c >= 0x41 && c <= 0x5a) scratch[n++] = c | 0x20;
      else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)
        scratch[n++] = c;
      else return 'slow';
    }
    off += 1 + len;
  }
  if (off + 4 > buf.length) return 'slow';
  const qtype = buf.readUInt16BE(off);
  const qclass = buf.readUInt16BE(off + 2);
  const qEnd = off + 4;
  if (qtype === QTYPE.OPT) return 'slow';
  let edns: Edns | null = null;
  if (ar === 1) {
    // A root-owned OPT RR and nothing after it.
    if (qEnd + 11 > buf.length || buf[qEnd] !== 0 || buf.readUInt16BE(qEnd + 1) !== QTYPE.OPT) return 'slow';
    const rdlen = buf.readUInt16BE(qEnd + 9);
    if (qEnd + 11 + rdlen !== buf.length) return 'slow';
    edns = {
      udpSize: buf.readUInt16BE(qEnd + 3),
      version: buf[qEnd + 6],
      dnssecOk: (buf[qEnd + 7] & 0x80) !== 0,
    };
  } else if (qEnd !== buf.length) return 'slow';
  return {
    id,
    flags,
    key: scratch.toString('latin1', 0, n),
    qtype,
    qclass,
    question: buf.subarray(12, qEnd),
    edns,
  };
}

/** The slow path: dns-packet decodes; anything it cannot, or that RFC 1035/6891 forbid, is FORMERR. */
export function parseSlow(buf: Buffer): Query | Refusal | null {
  if (buf.length < 12) return null;
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & FLAG_QR) !== 0) return null;
  if (((flags >> 11) & 0xf) !== 0) return { id, flags, rcode: RCODE.NOTIMP };
  let p: dnsPacket.DecodedPacket;
  try {
    p = dnsPacket.decode(buf);
  } catch {
    return { id, flags, rcode: RCODE.FORMERR };
  }
  const questions = p.questions ?? [];
  const opts = (p.additionals ?? []).filter((a) => a.type === 'OPT') as dnsPacket.OptAnswer[];
  if (questions.length !== 1 || (p.answers ?? []).length > 0 || opts.length > 1)
    return { id, flags, rcode: RCODE.FORMERR };
  const opt = opts[0];
  if (opt !== undefined && opt.name !== '.' && opt.name !== '') return { id, flags, rcode: RCODE.FORMERR };
  const q = questions[0];
  // The question as the client wrote it; a compression pointer in it (nothing precedes it to point
  // to) is FORMERR.
  const qEnd = questionEnd(buf);
  if (qEnd < 0) return { id, flags, rcode: RCODE.FORMERR };
  const question = buf.subarray(12, qEnd);
  const qtype = buf.readUInt16BE(qEnd - 4);
  const qclass = buf.readUInt16BE(qEnd - 2);
  if (qtype === QTYPE.OPT) return { id, flags, rcode: RCODE.FORMERR };
  const name = q.name === '.' ? '' : q.name.replace(/\.$/, '');
  return {
    id,
    flags,
    key: name.toLowerCase(),
    qtype,
    qclass,
    question,
    edns:
      opt === undefined
        ? null
        : {
            udpSize: opt.udpPayloadSize,
            version: opt.ednsVersion,
            dnssecOk: (opt.flags & dnsPacket.DNSSEC_OK) !== 0,
          },
  };
}

/** The end of the question at offset 12 (uncompressed labels), or -1. */
function questionEnd(buf: Buffer): number {
  let off = 12;
  for (;;) {
    if (off >= buf.length) return -1;
    const len = buf[off];
    if (len === 0) break;
    if ((len & 0xc0) !== 0) return -1;
    off += 1 + len;
  }
  return off + 5 <= buf.length ? off + 5 : -1;
}

export function parseQuery(buf: Buffer): Query | Refusal | null {
  const fast = parseFast(buf);
  return fast === 'slow' ? parseSlow(buf) : fast;
}

const optCache = new Map<number, Buffer>();

/** Our OPT RR: our UDP payload size, the DO bit echoed (RFC 3225), an extended rcode. */
export function optRR(udpPayload: number, dnssecOk: boolean, extendedRcode = 0): Buffer {
  const k = udpPayload * 4 + (dnssecOk ? 2 : 0) + (extendedRcode > 0 ? 1 : 0);
  let b = optCache.get(k);
  if (b === undefined) {
    b = Buffer.from(
      dnsPacket
        .encode({
          type: 'response',
          additionals: [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: udpPayload,
              extendedRcode,
              ednsVersion: 0,
              flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0,
              flag_do: dnssecOk,
              options: [],
            },
          ],
        })
        .subarray(12),
    );
    optCache.set(k, b);
  }
  return b;
}

export interface Sections {
  rcode: number;
  authoritative: boolean;
  answer?: { count: number; bytes: Buffer } | undefined;
  /** Answer RRs written in this order (a weighted order), instead of answer.bytes. */
  ordered?: { parts: Buffer[]; order: number[]; count: number } | undefined;
  authority?: { count: number; bytes: Buffer } | undefined;
}

/**
 * The response: header, the client's question, the sections, our OPT when the client sent one.
 * `limit` is the largest message the transport may carry (UDP: the client's EDNS size, capped; TCP:
 * 65535): when the whole answer does not fit, the header says TC and only question and OPT go.
 */
export function writeResponse(q: Query, s: Sections, udpPayload: number, limit: number): Buffer {
  let rcode = s.rcode;
  let ext = 0;
  if (rcode >= 16) {
    ext = rcode >> 4;
    rcode &= 0xf;
  }
  const opt = q.edns === null ? null : optRR(udpPayload, q.edns.dnssecOk, ext);
  const answerLen =
    s.ordered !== undefined
      ? s.ordered.parts.reduce((n, p) => n + p.length, 0) // every part goes, in some order
      : (s.answer?.bytes.length ?? 0);
  const authLen = s.authority?.bytes.length ?? 0;
  const optLen = opt?.length ?? 0;
  let total = 12 + q.question.length + answerLen + authLen + optLen;
  let truncated = false;
  if (total > limit) {
    truncated = true;
    total = 12 + q.question.length + optLen;
  }
  const out = Buffer.allocUnsafe(total);
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(
    FLAG_QR |
      (s.authoritative ? FLAG_AA : 0) |
      (truncated ? FLAG_TC : 0) |
      (q.flags & (FLAG_RD | FLAG_CD)) |
      rcode,
    2,
  );
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(truncated ? 0 : (s.ordered?.count ?? s.answer?.count ?? 0), 6);
  out.writeUInt16BE(truncated ? 0 : (s.authority?.count ?? 0), 8);
  out.writeUInt16BE(opt === null ? 0 : 1, 10);
  let off = 12 + q.question.copy(out, 12);
  if (!truncated) {
    if (s.ordered !== undefined)
      for (let k = 0; k < s.ordered.count; k++) off += s.ordered.parts[s.ordered.order[k]].copy(out, off);
    else if (s.answer !== undefined) off += s.answer.bytes.copy(out, off);
    if (s.authority !== undefined) off += s.authority.bytes.copy(out, off);
  }
  if (opt !== null) opt.copy(out, off);
  return out;
}

/** A header-only response (FORMERR, NOTIMP) to a packet whose question is not known. */
export function writeRefusal(r: Refusal): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(r.id, 0);
  out.writeUInt16BE(FLAG_QR | (r.flags & (0x7800 | FLAG_RD | FLAG_CD)) | r.rcode, 2);
  return out;
}
