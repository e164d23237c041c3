/**
 * Storage over the node's HTTP port and JSON-RPC:
 *   POST /storage          the request body (any size, streamed) -> {id, cid, size}; refused with 413
 *                          before any byte is read when Content-Length exceeds the space left
 *   GET  /storage/<cid>    the object streamed back (application/octet-stream), with HTTP ranges
 *   storage_put({data})    small objects as 0x-hex in JSON-RPC; storage_get(cid) up to 1 MiB;
 *   storage_stat(cid)      size and pin
 * `id` is the CID for local objects. Distributed objects (`POST /storage?distributed=1[&k=K&m=M]`, which
 * needs a Content-Length; `storage_put({data, distributed: true})`) have a 32-byte id (0x-hex) given by
 * their placement on chain: `GET /storage/<id>` streams one back on its owner's node, `storage_stat(id)`
 * is its placement with each shard's holder and health, `storage_delete(id)` removes it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Address } from '../../chain/address.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { isVosError } from '../../util/errors.js';
import { StorageError } from './blockstore.js';
import { type LocalStore, parseCid } from './local.js';
import { type StorageNet, StorageNetError } from './network.js';
import { placementToJSON, providerToJSON } from './prov.js';

const OBJECT_ID_RE = /^(0x)?[0-9a-fA-F]{64}$/;
export const isObjectId = (s: string): boolean => OBJECT_ID_RE.test(s);

function netOf(d: StorageApiDeps): StorageNet {
  if (d.net === undefined)
    throw new StorageNetError(
      { code: 'NO_NETWORK' },
      'this node has no P2P network: distributed storage is off',
    );
  return d.net;
}

function intParam(u: URLSearchParams, name: string): number | undefined {
  const v = u.get(name);
  if (v === null) return undefined;
  if (!/^[0-9]{1,2}$/.test(v))
    throw new StorageNetError({ code: 'INVALID_PARAMS' }, `${name} must be a small integer`);
  return Number(v);
}

/** storage_get answers objects up to this size; larger ones are read from GET /storage/<cid>. */
export const RPC_GET_MAX_BYTES = 1024 * 1024;

export interface StorageApiDeps {
  store: LocalStore;
  /** Distributed storage (absent on a node without P2P). */
  net?: StorageNet;
  /** The local store's budget (config storage.maxBytes). */
  maxBytes: number;
}

const left = (d: StorageApiDeps) => Math.max(0, d.maxBytes - d.store.usedBytes);

function sendError(res: ServerResponse, err: unknown): void {
  const code = isVosError(err) ? String(err.code) : 'INTERNAL';
  const status =
    code === 'NOT_FOUND' || code === 'BLOCK_NOT_FOUND' || code === 'OBJECT_NOT_FOUND'
      ? 404
      : code === 'QUOTA_EXCEEDED' || code === 'STORAGE_QUOTA_EXCEEDED'
        ? 413
        : code === 'INVALID_CID' || code === 'INVALID_RANGE' || code === 'INVALID_PARAMS'
          ? 400
          : code === 'NOT_OWNER'
            ? 403
            : code === 'LENGTH_REQUIRED'
              ? 411
              : code === 'NOT_ENOUGH_PROVIDERS' || code === 'NOT_ENOUGH_SHARDS' || code === 'NO_NETWORK'
                ? 503
                : 500;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message: (err as Error).message } }));
}

export async function handleUpload(
  d: StorageApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  if (query.get('distributed') === '1' || query.get('distributed') === 'true')
    return handleDistributedUpload(d, req, res, query);
  const room = left(d);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > room) {
    return refuseUpload(
      req,
      res,
      new StorageError(
        { code: 'QUOTA_EXCEEDED' },
        `${declared} bytes do not fit in the ${room} bytes left (storage.maxBytes)`,
      ),
    );
  }
  try {
    const r = await d.store.put(req, { maxBytes: room });
    d.net?.announce(r.cid);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: r.cid.toString(), cid: r.cid.toString(), size: r.size }));
  } catch (err) {
    refuseUpload(req, res, err);
  }
}

/**
 * An upload refused before its body was read (or while reading it): the error, then the rest of the
 * body is read and dropped (the connection stays usable) up to LINGER_BYTES or LINGER_MS, after which
 * the connection is cut, so a client does not go on sending gigabytes nobody reads.
 *
 * No `Connection: close`: Node then closes the socket as soon as the answer is out, and a client still
 * sending gets a reset, which can drop the answer before it has read it (seen under load as a transport
 * error instead of the refusal). The CLI stops sending once it has the answer.
 */
function refuseUpload(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) req.destroy();
  });
  req.resume();
  res.once('finish', () =>
    setTimeout(() => {
      if (!req.complete) req.destroy();
    }, LINGER_MS).unref(),
  );
  sendError(res, err);
}

const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 30_000;

async function handleDistributedUpload(
  d: StorageApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  try {
    const net = netOf(d);
    const declared = req.headers['content-length'];
    if (declared === undefined || !/^[0-9]+$/.test(declared))
      throw new StorageNetError(
        { code: 'LENGTH_REQUIRED' as never },
        'a distributed put needs a Content-Length (the size is sealed with the object)',
      );
    const r = await net.put(req, Number(declared), { k: intParam(query, 'k'), m: intParam(query, 'm') });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(r));
  } catch (err) {
    refuseUpload(req, res, err);
  }
}

/** Slices [offset, offset + length) out of a stream (ranges of distributed objects). */
async function* slice(
  src: AsyncIterable<Uint8Array>,
  offset: number,
  length: number,
): AsyncGenerator<Uint8Array> {
  let pos = 0;
  const end = offset + length;
  for await (const c of src) {
    const from = Math.max(offset - pos, 0);
    const to = Math.min(end - pos, c.length);
    if (to > from) yield c.subarray(from, to);
    pos += c.length;
    if (pos >= end) return;
  }
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range) -> offset and length, or null if unsatisfiable. */
export function parseRange(header: string, size: number): { offset: number; length: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return null;
  return { offset: start, length: end - start + 1 };
}

export async function handleDownload(
  d: StorageApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  o: { path?: string; contentType?: string } = {},
): Promise<void> {
  try {
    const ref = o.path ?? decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\/storage\//, ''));
    let size: number;
    let etag: string;
    let read: (r: { offset: number; length: number }) => AsyncIterable<Uint8Array>;
    if (isObjectId(ref)) {
      const { p, stream } = await netOf(d).open(ref);
      size = p.size;
      etag = ref.toLowerCase().replace(/^0x/, '');
      read = (r) => (r.offset === 0 && r.length === size ? stream : slice(stream, r.offset, r.length));
    } else {
      const cid = parseCid(ref);
      size = (await d.store.stat(cid)).size;
      etag = cid.toString();
      read = (r) => d.store.get(cid, r);
    }
    const headers: Record<string, string | number> = {
      'Content-Type': o.contentType ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Accept-Ranges': 'bytes',
      ETag: `"${etag}"`,
      'Cache-Control': 'public, max-age=31536000, immutable',
    };
    let range: { offset: number; length: number } = { offset: 0, length: size };
    let status = 200;
    if (req.headers.range !== undefined) {
      const r = parseRange(req.headers.range, size);
      if (r === null) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      range = r;
      status = 206;
      headers['Content-Range'] = `bytes ${r.offset}-${r.offset + r.length - 1}/${size}`;
    }
    headers['Content-Length'] = range.length;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || range.length === 0) {
      res.end();
      return;
    }
    // PERF: the exporter yields chunk by chunk; pipeline waits for the socket to drain (backpressure).
    await pipeline(Readable.from(read(range)), res);
  } catch (err) {
    sendError(res, err);
  }
}

export function storageRpc(d: StorageApiDeps) {
  return {
    storage_put: async ([o]: [{ data: string; distributed?: boolean; k?: number; m?: number }]) => {
      const bytes = fromHex(o.data);
      if (o.distributed === true)
        return netOf(d).put(
          (async function* () {
            yield bytes;
          })(),
          bytes.length,
          { k: o.k, m: o.m },
        );
      if (bytes.length > left(d))
        throw new StorageError(
          { code: 'QUOTA_EXCEEDED' },
          `${bytes.length} bytes do not fit in the ${left(d)} bytes left`,
        );
      const r = await d.store.putBytes(bytes, { maxBytes: left(d) });
      return { id: r.cid.toString(), cid: r.cid.toString(), size: r.size };
    },
    storage_get: async ([id]: [string]) => {
      if (isObjectId(id)) {
        const { p, stream } = netOf(d).get(id);
        if (p.size > RPC_GET_MAX_BYTES)
          throw new StorageError(
            { code: 'TOO_LARGE' },
            `${id} is ${p.size} bytes; storage_get answers up to ${RPC_GET_MAX_BYTES}: GET /storage/${id} streams it`,
          );
        const parts: Uint8Array[] = [];
        for await (const part of stream) parts.push(part);
        return { id, size: p.size, data: toHex(Buffer.concat(parts)) };
      }
      const cid = parseCid(id);
      const { size } = await d.store.stat(cid);
      if (size > RPC_GET_MAX_BYTES)
        throw new StorageError(
          { code: 'TOO_LARGE', cid: id },
          `${id} is ${size} bytes; storage_get answers up to ${RPC_GET_MAX_BYTES}: GET /storage/${id} streams it`,
        );
      const parts: Uint8Array[] = [];
      for await (const p of d.store.get(cid)) parts.push(p);
      return { id, cid: id, size, data: toHex(Buffer.concat(parts)) };
    },
    storage_stat: async ([id]: [string]) => {
      if (isObjectId(id)) {
        const e = netOf(d).placement(id);
        if (e === undefined)
          throw new StorageNetError({ code: 'OBJECT_NOT_FOUND' }, `no distributed object ${id}`);
        return { ...placementToJSON(e.id, e.p), distributed: true };
      }
      return { ...(await d.store.stat(parseCid(id))), id };
    },
    storage_delete: async ([id]: [string]) => {
      if (!isObjectId(id))
        throw new StorageNetError(
          { code: 'INVALID_PARAMS' },
          'storage_delete takes a distributed object id (0x + 64 hex)',
        );
      return { id, ...(await netOf(d).delete(id)) };
    },
    storage_usage: async ([address]: [string]) => {
      const net = netOf(d);
      const a = Address.fromString(address);
      return { address: a.toString(), used: net.usage.get(a.toString()) ?? 0, quota: await net.quotaOf(a) };
    },
    storage_providers: async () => {
      const net = netOf(d);
      return [...net.providers.entries()].map(([a, r]) => providerToJSON(Address.fromString(a), r));
    },
  };
}
