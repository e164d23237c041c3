/**
 * `/vos/<chainId>/storage/1`: shards between nodes. One request per stream, length-prefixed frames
 * (p2p/framing.ts; a frame above MAX_FRAME is a protocol violation):
 *
 *   put    -> [1, index, size]  then data frames, then an empty frame; reply [0, rlp([cid, root])] (what
 *             the provider computed over the bytes), then the client sends [id 32] (the object id, known
 *             once every shard is out) and the reply is [0, hold signature 64]; errors are [1, code, text]
 *   repair -> [4, id 32, index, shard cid, root 32, size]  then the data; the bytes must match the failed
 *             shard's CID and root on chain; the receiver then takes the shard over on chain (reply [0, ""])
 *   get    -> [2, shard cid, offset, length]              reply: data frames, then an empty frame
 *   drop   -> [3, shard cid]                              the uploader takes back a shard not yet placed
 *   block  -> [5, block cid]                              reply [0, block bytes] (content this node stores:
 *             the IPFS blocks of a published CID; the asker checks them against their CIDs)
 *   receipt-> [6, epoch, bytes, signature 64]            the asker attests the bytes this node served it
 *             in an epoch (services/control/receipts.ts); reply [0, ""] or a refusal
 *
 * A peer that sends bytes that do not match the CID, an oversize or malformed frame, or more bytes than
 * it declared is penalised and its stream reset; the node goes on.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { CID } from 'multiformats/cid';
import {
  asBoundedBytes,
  asBytes,
  asList,
  asNumber,
  asString,
  decodeRlp,
  encodeRlp,
} from '../../chain/codec.js';
import { openStream } from '../../p2p/connections.js';
import { readFrames, sendFrame } from '../../p2p/framing.js';
import type { VosHost } from '../../p2p/host.js';
import { PeerAction, VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { MAX_SHARD_SIZE, MAX_SHARDS, PIECE } from './limits.js';
import { shardCidField } from './prov.js';
import type { ShardStore } from './shards.js';

/** A data frame carries at most one piece (plus room for the control frames). */
export const MAX_FRAME = PIECE + 1024;
const IDLE_MS = 30_000;

function blockCidField(b: Uint8Array): CID {
  try {
    return CID.decode(b);
  } catch (err) {
    throw new StorageProtocolError({ code: 'BAD_REQUEST' }, `not a CID (${(err as Error).message})`, {
      peerAction: PeerAction.Reject,
    });
  }
}

export enum Op {
  Put = 1,
  Get = 2,
  Drop = 3,
  Repair = 4,
  Block = 5,
  Receipt = 6,
}

export class StorageProtocolError extends VosError<{ code: string }> {}

export interface ShardHeader {
  id: Uint8Array;
  index: number;
  cid: CID;
  root: Uint8Array;
  size: number;
}

export interface StorageServerHooks {
  /** Undefined on a node that is not a provider (it refuses shards, still serves content blocks). */
  shards: ShardStore | undefined;
  /** Null when this node takes shards; else why not (not a provider, ...). */
  refusePut(h: ShardHeader, op: Op.Put | Op.Repair): Promise<string | null>;
  /** A put's bytes are stored (pending until a placement lists them). */
  received(h: ShardHeader, peer: PeerId): void;
  /** After a put was stored: the hold signature; after a repair: the takeover tx is sent. */
  stored(h: ShardHeader, op: Op.Put | Op.Repair, peer: PeerId): Promise<Uint8Array>;
  /** May `peer` drop this shard (it uploaded it and no placement lists it)? */
  mayDrop(cid: CID, peer: PeerId): boolean;
  dropped(cid: CID): void;
  /** A block of local content (any block this node stores), or undefined. */
  block(cid: CID): Promise<Uint8Array | undefined>;
  penalise(peer: PeerId, err: unknown): void;
  /** Client side: `peer` served this many bytes (shard data, a content block). */
  served?(peer: PeerId, bytes: number): void;
  /** Server side: a served-bytes receipt from `peer`; why it is refused, or null. */
  receipt?(peer: PeerId, epoch: number, bytes: number, signature: Uint8Array): Promise<string | null>;
  logger?: Logger;
}

function header(f: unknown[]): ShardHeader {
  const l = f as Parameters<typeof asBytes>[0][];
  if (l.length === 3)
    return {
      id: new Uint8Array(0),
      index: asNumber(l[1], 'index', MAX_SHARDS - 1),
      cid: undefined as unknown as CID,
      root: new Uint8Array(0),
      size: asNumber(l[2], 'size', MAX_SHARD_SIZE),
    };
  return {
    id: asBytes(l[1], 'id', 32),
    index: asNumber(l[2], 'index', MAX_SHARDS - 1),
    cid: shardCidField(asBoundedBytes(l[3], 'shard cid', 64)),
    root: asBytes(l[4], 'root', 32),
    size: asNumber(l[5], 'size', MAX_SHARD_SIZE),
  };
}

const send = (stream: Stream, bytes: Uint8Array) => sendFrame(stream, bytes, IDLE_MS);

const ok = (payload: Uint8Array) => encodeRlp([0, payload]);
const refusal = (code: string, text: string) => encodeRlp([1, code, text.slice(0, 300)]);

export class StorageProtocol {
  readonly protocol: string;

  constructor(
    private readonly host: VosHost,
    chainId: string,
    private readonly hooks: StorageServerHooks,
  ) {
    this.protocol = `/vos/${chainId}/storage/1`;
  }

  async start(): Promise<void> {
    await this.host.handle(this.protocol, (stream, conn) => void this.#serve(stream, conn), {
      maxInboundStreams: 64,
      maxOutboundStreams: 64,
    });
  }

  async stop(): Promise<void> {
    await this.host.unhandle(this.protocol).catch(() => undefined);
  }

  async #serve(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer;
    const frames = readFrames(stream, MAX_FRAME)[Symbol.asyncIterator]();
    try {
      const first = await frames.next();
      if (first.done)
        throw new StorageProtocolError({ code: 'BAD_REQUEST' }, 'empty request', {
          peerAction: PeerAction.Reject,
        });
      const f = asList(decodeRlp(first.value, 'storage request'), 'storage request');
      const op = asNumber(f[0], 'op');
      if (op === Op.Put || op === Op.Repair) await this.#put(stream, frames, header(f), op, peer);
      else if (op === Op.Get) await this.#get(stream, f);
      else if (op === Op.Block) {
        const cid = blockCidField(asBoundedBytes(f[1], 'block cid', 128));
        const bytes = await this.hooks.block(cid);
        await send(stream, bytes === undefined ? refusal('NOT_FOUND', `no block ${cid} here`) : ok(bytes));
      } else if (op === Op.Receipt) {
        const epoch = asNumber(f[1], 'epoch');
        const bytes = asNumber(f[2], 'bytes');
        const signature = asBytes(f[3], 'signature', 64);
        const why =
          this.hooks.receipt === undefined
            ? 'not taken here'
            : await this.hooks.receipt(peer, epoch, bytes, signature);
        await send(stream, why === null ? ok(new Uint8Array(0)) : refusal('RECEIPT_REFUSED', why));
      } else if (op === Op.Drop) {
        const cid = shardCidField(asBoundedBytes(f[1], 'shard cid', 64));
        if (!this.hooks.mayDrop(cid, peer))
          await send(stream, refusal('NOT_YOURS', 'not a pending shard of yours'));
        else {
          await this.hooks.shards?.remove(cid);
          this.hooks.dropped(cid);
          await send(stream, ok(new Uint8Array(0)));
        }
      } else
        throw new StorageProtocolError({ code: 'BAD_REQUEST' }, `unknown op ${op}`, {
          peerAction: PeerAction.Reject,
        });
      await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
    } catch (err) {
      const action = err instanceof VosError ? err.peerAction : PeerAction.Reject;
      if (
        action === PeerAction.Reject ||
        (err as { code?: string })?.code === 'INVALID_RLP' ||
        (err as { code?: string })?.code === 'INVALID_FIELD'
      )
        this.hooks.penalise(peer, err);
      this.hooks.logger?.debug(
        { peer: peer.toString(), err: String((err as Error)?.message ?? err) },
        'storage request failed',
      );
      stream.abort(err as Error);
    }
  }

  async #put(
    stream: Stream,
    frames: AsyncIterator<Uint8Array>,
    h: ShardHeader,
    op: Op.Put | Op.Repair,
    peer: PeerId,
  ) {
    const why = await this.hooks.refusePut(h, op);
    if (why !== null) {
      await send(stream, refusal('REFUSED', why));
      return;
    }
    const expect = op === Op.Repair ? { cid: h.cid, root: h.root } : undefined;
    const w = await (this.hooks.shards as ShardStore).writer(h.size, expect).catch(async (err) => {
      await send(stream, refusal((err as { code?: string }).code ?? 'REFUSED', (err as Error).message));
      return null;
    });
    if (w === null) return;
    let got: { cid: CID; root: Uint8Array };
    try {
      for (;;) {
        const next = await frames.next();
        if (next.done)
          throw new StorageProtocolError({ code: 'TRUNCATED' }, 'stream ended before the end frame', {
            peerAction: PeerAction.Reject,
          });
        if (next.value.length === 0) break;
        await w.write(next.value);
      }
      got = await w.finish();
    } catch (err) {
      await w.abort();
      throw err;
    }
    const full: ShardHeader = { ...h, cid: got.cid, root: got.root };
    if (op === Op.Put) {
      this.hooks.received(full, peer);
      await send(stream, ok(encodeRlp([got.cid.bytes, got.root])));
      const idFrame = await frames.next();
      if (idFrame.done) return; // the client gave up: the shard stays pending until dropped or expired
      full.id = asBytes(decodeRlp(idFrame.value, 'object id'), 'id', 32);
    }
    const sig = await this.hooks.stored(full, op, peer);
    await send(stream, ok(sig));
  }

  async #get(stream: Stream, f: ReturnType<typeof asList>) {
    const cid = shardCidField(asBoundedBytes(f[1], 'shard cid', 64));
    const offset = asNumber(f[2], 'offset', MAX_SHARD_SIZE);
    const length = asNumber(f[3], 'length', MAX_SHARD_SIZE);
    const size = await this.hooks.shards?.size(cid);
    if (size === undefined || offset + length > size) {
      await send(stream, refusal('NOT_FOUND', `no shard ${cid} of that range here`));
      return;
    }
    await send(stream, ok(new Uint8Array(0)));
    if (length > 0)
      for await (const chunk of (this.hooks.shards as ShardStore).read(cid, offset, length))
        for (let off = 0; off < chunk.length; off += PIECE)
          await send(stream, chunk.subarray(off, off + PIECE));
    await send(stream, new Uint8Array(0));
  }

  // Client side.

  async #open(peer: PeerId): Promise<Stream> {
    return (await openStream(this.host, peer, this.protocol, 'tcp', AbortSignal.timeout(10_000))).stream;
  }

  static reply(bytes: Uint8Array, max = 1024): Uint8Array {
    const f = asList(decodeRlp(bytes, 'storage reply'), 'storage reply');
    const status = asNumber(f[0], 'status', 1);
    if (status === 0) return asBoundedBytes(f[1], 'payload', max);
    throw new StorageProtocolError(
      { code: asString(f[1], 'code', 64) },
      `provider refused: ${asString(f[2], 'message', 1200)}`,
      { peerAction: PeerAction.Ignore },
    );
  }

  /**
   * A writer for one shard to `peer`: `write` each piece (awaits the peer's backpressure), `end` for the
   * CID and root the provider computed, then `sign(id)` for its hold signature. `abort` resets the
   * stream. A repair (`expect` given) ends with the provider's takeover instead of a signature.
   */
  async putShard(
    peer: PeerId,
    index: number,
    size: number,
    expect?: { id: Uint8Array; cid: CID; root: Uint8Array },
  ) {
    const stream = await this.#open(peer);
    const replies = readFrames(stream, MAX_FRAME)[Symbol.asyncIterator]();
    const next = async () => {
      const r = await replies.next();
      if (r.done) throw new StorageProtocolError({ code: 'NO_REPLY' }, 'the provider closed without a reply');
      return StorageProtocol.reply(r.value);
    };
    await send(
      stream,
      encodeRlp(
        expect === undefined
          ? [Op.Put, index, size]
          : [Op.Repair, expect.id, index, expect.cid.bytes, expect.root, size],
      ),
    );
    return {
      write: (bytes: Uint8Array) => send(stream, bytes),
      end: async (): Promise<{ cid: CID; root: Uint8Array } | undefined> => {
        await send(stream, new Uint8Array(0));
        const payload = await next();
        if (expect !== undefined) {
          await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
          return undefined;
        }
        const f = asList(decodeRlp(payload, 'shard digest'), 'shard digest', 2);
        return { cid: shardCidField(asBoundedBytes(f[0], 'shard cid', 64)), root: asBytes(f[1], 'root', 32) };
      },
      sign: async (id: Uint8Array): Promise<Uint8Array> => {
        await send(stream, encodeRlp(id));
        const sig = await next();
        await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
        return sig;
      },
      abort: (err: Error) => stream.abort(err),
    };
  }

  /** Streams bytes [offset, offset + length) of a shard from `peer`. */
  async *getShard(peer: PeerId, cid: CID, offset: number, length: number): AsyncGenerator<Uint8Array> {
    const stream = await this.#open(peer);
    try {
      await send(stream, encodeRlp([Op.Get, cid.bytes, offset, length]));
      const frames = readFrames(stream, MAX_FRAME)[Symbol.asyncIterator]();
      const head = await frames.next();
      if (head.done) throw new StorageProtocolError({ code: 'NO_REPLY' }, 'no reply');
      StorageProtocol.reply(head.value);
      let got = 0;
      for (;;) {
        const next = await frames.next();
        if (next.done)
          throw new StorageProtocolError({ code: 'TRUNCATED' }, 'shard stream cut', {
            peerAction: PeerAction.Reject,
          });
        if (next.value.length === 0) break;
        got += next.value.length;
        if (got > length)
          throw new StorageProtocolError({ code: 'TOO_MUCH' }, 'more bytes than asked', {
            peerAction: PeerAction.Reject,
          });
        this.hooks.served?.(peer, next.value.length);
        yield next.value;
      }
      if (got !== length)
        throw new StorageProtocolError({ code: 'TRUNCATED' }, `${got} of ${length} bytes`, {
          peerAction: PeerAction.Reject,
        });
      await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** One block of content from `peer` (unchecked: the caller checks it against the CID). */
  async getBlock(peer: PeerId, cid: CID): Promise<Uint8Array> {
    const bytes = await this.#ask(peer, encodeRlp([Op.Block, cid.bytes]), MAX_FRAME);
    if (bytes === undefined) throw new StorageProtocolError({ code: 'NO_REPLY' }, 'no reply');
    return bytes;
  }

  /** Sends a served-bytes receipt to the peer that served the bytes. */
  async sendReceipt(peer: PeerId, r: { epoch: number; bytes: number; signature: Uint8Array }): Promise<void> {
    await this.#ask(peer, encodeRlp([Op.Receipt, r.epoch, r.bytes, r.signature]));
  }

  async dropShard(peer: PeerId, cid: CID): Promise<void> {
    await this.#ask(peer, encodeRlp([Op.Drop, cid.bytes]));
  }

  /** One request, one reply frame (undefined when the peer closed without one); refusals throw. */
  async #ask(peer: PeerId, request: Uint8Array, max?: number): Promise<Uint8Array | undefined> {
    const stream = await this.#open(peer);
    try {
      await send(stream, request);
      let reply: Uint8Array | undefined;
      for await (const f of readFrames(stream, MAX_FRAME)) {
        reply = StorageProtocol.reply(f, max);
        break;
      }
      await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
      return reply;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }
}
