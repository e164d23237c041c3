/**
 * The publish index's RPC (`publish_get(id|cid)`) and `GET /content/<cid>`: published content streamed
 * with the mime type its record gives, HTTP ranges included, from this node's local store.
 * (Fetching a CID this node does not hold from the providers in the DHT comes with the distributed
 * storage part.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CID } from 'multiformats/cid';
import { fromHex } from '../../util/bytes.js';
import { VosError } from '../../util/errors.js';
import { handleDownload, type StorageApiDeps } from '../storage/api.js';
import { parseCid } from '../storage/local.js';
import { cidIndexPrefix, recordKey } from './layout.js';
import { decodeRecord, type PublishRecord, recordToJSON } from './record.js';

export interface PublishApiDeps {
  getState(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The chain DB's mirror of indexed state (pub/ is indexed). */
  indexed(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export class PublishApiError extends VosError<{ code: 'INVALID_ID' | 'NOT_PUBLISHED' }> {}

/** The records of a CID (every publisher's), oldest first. */
export async function recordsOfCid(
  d: PublishApiDeps,
  cid: CID,
): Promise<{ id: Uint8Array; record: PublishRecord }[]> {
  const out: { id: Uint8Array; record: PublishRecord }[] = [];
  const prefix = cidIndexPrefix(cid.bytes);
  for await (const [key] of d.indexed(prefix)) {
    const id = key.subarray(prefix.length);
    const v = await d.getState(recordKey(id));
    if (v !== undefined) out.push({ id, record: decodeRecord(v) });
  }
  return out.sort((a, b) => a.record.publishedAt - b.record.publishedAt);
}

/** By id (0x + 64 hex): that record; by CID: its first publication. null when there is none. */
export async function getPublished(d: PublishApiDeps, idOrCid: string) {
  if (/^0x[0-9a-fA-F]{64}$/.test(idOrCid)) {
    const id = fromHex(idOrCid, 32);
    const v = await d.getState(recordKey(id));
    return v === undefined ? null : recordToJSON(id, decodeRecord(v));
  }
  let cid: CID;
  try {
    cid = parseCid(idOrCid);
  } catch {
    throw new PublishApiError({ code: 'INVALID_ID' }, 'expected a publish id (0x + 64 hex digits) or a CID');
  }
  const first = (await recordsOfCid(d, cid))[0];
  return first === undefined ? null : recordToJSON(first.id, first.record);
}

export async function handleContent(
  d: PublishApiDeps & { storage: StorageApiDeps },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const raw = decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\/content\//, ''));
  let mime = 'application/octet-stream';
  try {
    const first = (await recordsOfCid(d, parseCid(raw)))[0];
    if (first === undefined) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_PUBLISHED', message: `${raw} is not published` } }));
      return;
    }
    mime = first.record.mime;
  } catch (err) {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'INVALID_CID', message: (err as Error).message } }));
    return;
  }
  // Published elsewhere: fetched from the nodes that have it (DHT providers, peers), checked block by
  // block, then served from here (and provided by this node from now on).
  const cid = parseCid(raw);
  if (d.storage.net !== undefined && !(await d.storage.store.blocks.has(cid))) {
    try {
      await d.storage.net.fetchContent(cid);
    } catch (err) {
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: 'FETCH_FAILED', message: `${raw}: ${(err as Error).message}` } }),
      );
      return;
    }
  }
  await handleDownload(d.storage, req, res, { path: raw, contentType: mime });
}
