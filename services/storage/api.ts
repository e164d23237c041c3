/**
 * Storage over the node's HTTP port and JSON-RPC:
 *   POST /storage          the request body (any size, streamed) -> {id, cid, size}; refused with 413
 *                          before any byte is read when Content-Length exceeds the space left
 *   GET  /storage/<cid>    the object streamed back (application/octet-stream), with HTTP ranges
 *   storage_put({data})    small objects as 0x-hex in JSON-RPC; storage_get(cid) up to 1 MiB;
 *   storage_stat(cid)      size and pin
 * `id` is the CID for local objects (distributed objects will have their own ids).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fromHex, toHex } from '../../util/bytes.js';
import { isVosError } from '../../util/errors.js';
import { StorageError } from './blockstore.js';
import { type LocalStore, parseCid } from './local.js';

/** storage_get answers objects up to this size; larger ones are read from GET /storage/<cid>. */
export const RPC_GET_MAX_BYTES = 1024 * 1024;

export interface StorageApiDeps {
  store: LocalStore;
  /** The local store's budget (config storage.maxBytes). */
  maxBytes: number;
}

const left = (d: StorageApiDeps) => Math.max(0, d.maxBytes - d.store.usedBytes);

function sendError(res: ServerResponse, err: unknown): void {
  const code = isVosError(err) ? String(err.code) : 'INTERNAL';
  const status =
    code === 'NOT_FOUND' || code === 'BLOCK_NOT_FOUND'
      ? 404
      : code === 'QUOTA_EXCEEDED'
        ? 413
        : code === 'INVALID_CID' || code === 'INVALID_RANGE'
          ? 400
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
  const room = left(d);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > room) {
    req.resume();
    return sendError(
      res,
      new StorageError(
        { code: 'QUOTA_EXCEEDED' },
        `${declared} bytes do not fit in the ${room} bytes left (storage.maxBytes)`,
      ),
    );
  }
  try {
    const r = await d.store.put(req, { maxBytes: room });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: r.cid.toString(), cid: r.cid.toString(), size: r.size }));
  } catch (err) {
    req.resume();
    sendError(res, err);
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
    const cid = parseCid(
      o.path ?? decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\/storage\//, '')),
    );
    const { size } = await d.store.stat(cid);
    const headers: Record<string, string | number> = {
      'Content-Type': o.contentType ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Accept-Ranges': 'bytes',
      ETag: `"${cid}"`,
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
    await pipeline(Readable.from(d.store.get(cid, range)), res);
  } catch (err) {
    sendError(res, err);
  }
}

export function storageRpc(d: StorageApiDeps) {
  return {
    storage_put: async ([o]: [{ data: string }]) => {
      const bytes = fromHex(o.data);
      if (bytes.length > left(d))
        throw new StorageError(
          { code: 'QUOTA_EXCEEDED' },
          `${bytes.length} bytes do not fit in the ${left(d)} bytes left`,
        );
      const r = await d.store.put(
        (async function* () {
          yield bytes;
        })(),
        { maxBytes: left(d) },
      );
      return { id: r.cid.toString(), cid: r.cid.toString(), size: r.size };
    },
    storage_get: async ([id]: [string]) => {
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
    storage_stat: async ([id]: [string]) => ({ ...(await d.store.stat(parseCid(id))), id }),
  };
}
