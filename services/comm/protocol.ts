/**
 * `/vos/<chainId>/comm/1`: messages and streams between nodes. One request per stream, length-prefixed
 * frames (p2p/framing.ts), RLP:
 *
 *   deliver -> [1, envelope]             the recipient itself: reply [0] once it has the message (the
 *                                        transport authenticates the recipient: a delivery receipt)
 *   deposit -> [2, envelope]             a mailbox holder keeps it for the recipient: reply [0]
 *   collect -> [3]                       the holder answers the envelopes it holds for the asking peer
 *                                        (its peer id is its key: the recipient's address), one frame
 *                                        each, then an empty frame
 *   ack     -> [4, [id...]]              the recipient took these: the holder drops them, reply [0]
 *   stream  -> [5, topic, claimed name]  a byte stream for an app: reply [0], then raw bytes both ways
 *                                        until either side closes (libp2p backpressure)
 * Errors: [1, code, text]. The handler runs on limited (relayed) connections too: a node behind NAT is
 * reached through a relay, whose connection carries noise ciphertext only.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { asBytes, asList, asNumber, asString, decodeRlp, encodeRlp } from '../../chain/codec.js';
import { openStream } from '../../p2p/connections.js';
import { readFrame, readFrames, sendFrame } from '../../p2p/framing.js';
import type { VosHost } from '../../p2p/host.js';
import { fromUtf8 } from '../../util/bytes.js';
import { PeerAction, VosError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { CommError, type CommErrorCode } from './envelope.js';
import { MAX_COLLECT, MAX_FRAME, MAX_NAME_BYTES } from './limits.js';

export enum Op {
  Deliver = 1,
  Deposit = 2,
  Collect = 3,
  Ack = 4,
  Stream = 5,
}

const IDLE_MS = 15_000;

export interface CommServerHooks {
  /** A message or receipt for this node, from `peer` (its sender, or a holder forwarding it). */
  deliver(bytes: Uint8Array, peer: PeerId): Promise<void>;
  deposit(bytes: Uint8Array, peer: PeerId): Promise<void>;
  collect(peer: PeerId): Promise<Uint8Array[]>;
  ack(ids: Uint8Array[], peer: PeerId): Promise<void>;
  /** Accepts (returns a handler) or throws CommError. */
  stream(topic: string, claimedName: string, peer: PeerId): Promise<(s: Stream, peer: PeerId) => void>;
  penalise(peer: PeerId, err: unknown): void;
  logger?: Logger;
}

const send = (stream: Stream, bytes: Uint8Array) => sendFrame(stream, bytes, IDLE_MS);

const ok = () => encodeRlp([0]);
const refusal = (code: string, text: string) => encodeRlp([1, code, text.slice(0, 300)]);

/** The error a reply carries, thrown as a CommError with the remote's code. */
function checkReply(bytes: Uint8Array | undefined): void {
  if (bytes === undefined)
    throw new CommError({ code: 'COMM_UNREACHABLE' }, 'the peer closed without an answer');
  const f = asList(decodeRlp(bytes, 'comm reply'), 'comm reply');
  if (asNumber(f[0], 'status') === 0) return;
  const code = fromUtf8(asBytes(f[1], 'code')) as CommErrorCode;
  throw new CommError({ code }, `the peer refused: ${fromUtf8(asBytes(f[2], 'text'))}`);
}

export class CommProtocol {
  readonly protocol: string;

  constructor(
    private readonly host: VosHost,
    chainId: string,
    private readonly hooks: CommServerHooks,
  ) {
    this.protocol = `/vos/${chainId}/comm/1`;
  }

  async start(): Promise<void> {
    await this.host.handle(this.protocol, (stream, conn) => void this.#serve(stream, conn), {
      maxInboundStreams: 128,
      maxOutboundStreams: 128,
      runOnLimitedConnection: true,
    });
  }

  async stop(): Promise<void> {
    await this.host.unhandle(this.protocol).catch(() => undefined);
  }

  async #serve(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer;
    try {
      const first = await readFrame(stream, MAX_FRAME, IDLE_MS);
      if (first === undefined)
        throw new CommError({ code: 'COMM_MALFORMED' }, 'empty request', { peerAction: PeerAction.Reject });
      const f = asList(decodeRlp(first, 'comm request'), 'comm request');
      const op = asNumber(f[0], 'op');
      if (op === Op.Stream) {
        const topic = asString(f[1], 'topic', 128);
        const name = asString(f[2], 'claimed name', MAX_NAME_BYTES);
        let handler: (s: Stream, peer: PeerId) => void;
        try {
          handler = await this.hooks.stream(topic, name, peer);
        } catch (err) {
          await this.#refuse(stream, err, peer);
          return;
        }
        await send(stream, ok());
        handler(stream, peer);
        return;
      }
      try {
        if (op === Op.Deliver || op === Op.Deposit) {
          const bytes = asBytes(f[1], 'envelope');
          if (op === Op.Deliver) await this.hooks.deliver(bytes, peer);
          else await this.hooks.deposit(bytes, peer);
          await send(stream, ok());
        } else if (op === Op.Collect) {
          const held = await this.hooks.collect(peer);
          for (const e of held.slice(0, MAX_COLLECT)) await send(stream, e);
          await send(stream, new Uint8Array(0));
        } else if (op === Op.Ack) {
          const ids = asList(f[1], 'ids').map((i) => asBytes(i, 'id', 16));
          if (ids.length > MAX_COLLECT) throw new CommError({ code: 'COMM_MALFORMED' }, 'too many ids');
          await this.hooks.ack(ids, peer);
          await send(stream, ok());
        } else
          throw new CommError({ code: 'COMM_MALFORMED' }, `unknown op ${op}`, {
            peerAction: PeerAction.Reject,
          });
      } catch (err) {
        await this.#refuse(stream, err, peer);
        return;
      }
      await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
    } catch (err) {
      this.hooks.penalise(peer, err);
      this.hooks.logger?.debug(
        { peer: peer.toString(), err: String((err as Error)?.message ?? err) },
        'comm request failed',
      );
      stream.abort(err as Error);
    }
  }

  /** Answers the error; a peer whose input was invalid is penalised. */
  async #refuse(stream: Stream, err: unknown, peer: PeerId): Promise<void> {
    const code = err instanceof VosError ? String(err.code) : 'COMM_FAILED';
    if (err instanceof VosError && err.peerAction === PeerAction.Reject) this.hooks.penalise(peer, err);
    this.hooks.logger?.debug(
      { peer: peer.toString(), code, err: String((err as Error)?.message ?? err) },
      'comm request refused',
    );
    await send(stream, refusal(code, (err as Error)?.message ?? String(err))).catch(() => undefined);
    await stream
      .close({ signal: AbortSignal.timeout(IDLE_MS) })
      .catch(() => stream.abort(new Error('closed')));
  }

  // ---- client side ----

  /** A stream on an unlimited connection when there is one, else a relayed (limited) one. */
  async #open(peer: PeerId, signal: AbortSignal): Promise<Stream> {
    return (await openStream(this.host, peer, this.protocol, 'tcp', signal, { limited: true })).stream;
  }

  async #request(peer: PeerId, req: Uint8Array, timeoutMs: number): Promise<Uint8Array | undefined> {
    const signal = AbortSignal.timeout(timeoutMs);
    const stream = await this.#open(peer, signal);
    try {
      await send(stream, req);
      const reply = await readFrame(stream, MAX_FRAME, timeoutMs);
      await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
      return reply;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  async deliver(peer: PeerId, envelope: Uint8Array, timeoutMs = 10_000): Promise<void> {
    checkReply(await this.#request(peer, encodeRlp([Op.Deliver, envelope]), timeoutMs));
  }

  async deposit(peer: PeerId, envelope: Uint8Array, timeoutMs = 10_000): Promise<void> {
    checkReply(await this.#request(peer, encodeRlp([Op.Deposit, envelope]), timeoutMs));
  }

  async ack(peer: PeerId, ids: Uint8Array[], timeoutMs = 10_000): Promise<void> {
    checkReply(await this.#request(peer, encodeRlp([Op.Ack, ids]), timeoutMs));
  }

  /** The envelopes `peer` holds for this node. */
  async collect(peer: PeerId, timeoutMs = 15_000): Promise<Uint8Array[]> {
    const signal = AbortSignal.timeout(timeoutMs);
    const stream = await this.#open(peer, signal);
    const out: Uint8Array[] = [];
    try {
      await send(stream, encodeRlp([Op.Collect]));
      for await (const f of readFrames(stream, MAX_FRAME)) {
        if (f.length === 0) break;
        // A refusal is an RLP list [1, code, text]; an envelope is a list starting with its version (1)
        // too, but has 7 fields.
        const item = decodeRlp(f, 'collect answer');
        if (Array.isArray(item) && item.length === 3) checkReply(f);
        out.push(f);
        if (out.length > MAX_COLLECT)
          throw new CommError({ code: 'COMM_MALFORMED' }, 'too many envelopes', {
            peerAction: PeerAction.Reject,
          });
      }
      await stream.close({ signal: AbortSignal.timeout(IDLE_MS) }).catch(() => undefined);
      return out;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** A byte stream to `peer` for `topic`, claiming `name` (or ''). */
  async openStream(peer: PeerId, topic: string, name: string, timeoutMs = 10_000): Promise<Stream> {
    const stream = await this.#open(peer, AbortSignal.timeout(timeoutMs));
    try {
      await send(stream, encodeRlp([Op.Stream, topic, name]));
      const reply = await readFrame(stream, MAX_FRAME, timeoutMs);
      checkReply(reply);
      return stream;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }
}
