/**
 * The messenger's state in the page: this node's sent and received messages (comm_history), kept live
 * by the node's `messages` topic (comm_subscribe) on a WebSocket of its own, grouped into conversations
 * by peer address. Sending uploads each attachment with POST /storage first and passes the CIDs to
 * comm_send, which seals them for the recipient.
 *
 * One store per page load (messengerOf): it outlives the messenger's pages, so going back to a
 * conversation shows it at once and only asks the node for what changed.
 */
import { type Result, type Rpc, RpcCallError, RpcSocket, type SocketState } from '../rpc.js';

export type Entry = Result<'comm_history'>[number];
export type SendResult = Result<'comm_send'>;

type CommEvent =
  | ({ type: 'message' } & Entry)
  | { type: 'receipt'; id: string; peer: string; peerName: string | null; deliveredAt: number };

export interface Conversation {
  peer: string;
  peerName: string | null;
  last: Entry;
  count: number;
}

export interface Peer {
  address: string;
  name: string | null;
}

/** As the node's comm limits (services/comm/limits.ts). */
export const MAX_ATTACHMENTS = 16;
export const MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024;
export const MAX_TEXT_BYTES = 32 * 1024;

export const ADDRESS_RE = /^vos1[02-9ac-hj-np-z]{38}$/;

const HISTORY_LIMIT = 500;

/** One line for an error of the node, of the network or of the page. */
export function errorText(err: unknown): string {
  if (err instanceof RpcCallError) {
    const code = (err.data as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** `POST /storage`: the bytes into this node's local store; its CID. */
export async function upload(file: Blob, signal?: AbortSignal): Promise<{ cid: string; size: number }> {
  let res: Response;
  try {
    res = await fetch('/storage', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: file,
      signal,
    });
  } catch (err) {
    throw new Error(`the upload did not reach the node: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: { cid?: string; size?: number; error?: { code?: string; message?: string } } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // an answer that is not JSON: reported by status below
  }
  if (!res.ok || typeof body.cid !== 'string') {
    const why = body.error?.message ?? `HTTP ${res.status}`;
    throw new Error(`the node refused the upload: ${why}${body.error?.code ? ` (${body.error.code})` : ''}`);
  }
  return { cid: body.cid, size: body.size ?? file.size };
}

export class Messenger {
  readonly rpc: Rpc;
  readonly #socket: RpcSocket;
  readonly #entries = new Map<string, Entry>();
  /** Receipts of messages not loaded yet (a direct delivery's receipt comes before comm_send answers). */
  readonly #receipts = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  #unsubscribe: (() => void) | undefined;
  #socketState: SocketState = 'closed';
  #wasOpen = false;
  #loaded = false;
  #error: string | undefined;
  #refreshing: Promise<void> | undefined;
  /** Bumped on every change: a cheap "did anything change" for the pages. */
  version = 0;

  constructor(rpc: Rpc, socketUrl: string) {
    this.rpc = rpc;
    this.#socket = new RpcSocket(socketUrl);
    this.#socket.onState((s) => {
      this.#socketState = s;
      if (s === 'open') {
        // Events missed while the socket was down: asked for again.
        if (this.#wasOpen) void this.refresh();
        this.#wasOpen = true;
      }
      this.#emit();
    });
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  get error(): string | undefined {
    return this.#error;
  }

  get live(): boolean {
    return this.#socketState === 'open';
  }

  /** Listen to changes; the first listener subscribes to the node's messages and loads the history. */
  listen(fn: () => void): () => void {
    this.#listeners.add(fn);
    if (this.#unsubscribe === undefined) {
      this.#unsubscribe = this.#socket.subscribe('messages', (e) => this.#onEvent(e as CommEvent));
      void this.refresh();
    }
    return () => {
      this.#listeners.delete(fn);
      if (this.#listeners.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    };
  }

  #emit(): void {
    this.version++;
    for (const fn of this.#listeners) fn();
  }

  #put(e: Entry): void {
    const r = this.#receipts.get(e.id);
    if (r !== undefined) {
      this.#receipts.delete(e.id);
      if (e.direction === 'out' && e.status !== 'delivered')
        e = { ...e, status: 'delivered', deliveredAt: r };
    }
    const had = this.#entries.get(e.id);
    // A receipt seen here first is not undone by an older answer of comm_history.
    if (had?.status === 'delivered' && e.status !== 'delivered')
      e = { ...e, status: 'delivered', deliveredAt: had.deliveredAt };
    this.#entries.set(e.id, e);
  }

  #onEvent(e: CommEvent): void {
    if (e === null || typeof e !== 'object') return;
    if (e.type === 'message') {
      const { type: _type, ...entry } = e;
      this.#put(entry as Entry);
    } else if (e.type === 'receipt') {
      const had = this.#entries.get(e.id);
      if (had === undefined) this.#receipts.set(e.id, e.deliveredAt);
      else this.#entries.set(e.id, { ...had, status: 'delivered', deliveredAt: e.deliveredAt });
    } else return;
    this.#emit();
  }

  /** Load the latest history (of one peer address when given); merged into what the page has. */
  refresh(peer?: string): Promise<void> {
    const run = async () => {
      try {
        const list = await this.rpc.call('comm_history', [
          peer === undefined ? { limit: HISTORY_LIMIT } : { peer, limit: HISTORY_LIMIT },
        ]);
        for (const e of list) this.#put(e);
        this.#loaded = true;
        this.#error = undefined;
      } catch (err) {
        this.#error = `cannot load the messages: ${errorText(err)}`;
      }
      this.#emit();
    };
    // One at a time: answers merge in the order they were asked for.
    const prev = this.#refreshing ?? Promise.resolve();
    const next = prev.then(run, run);
    this.#refreshing = next;
    return next;
  }

  /** Conversations by peer address, the most recent first. */
  conversations(): Conversation[] {
    const by = new Map<string, Conversation>();
    for (const e of this.#entries.values()) {
      const c = by.get(e.peer);
      if (c === undefined) by.set(e.peer, { peer: e.peer, peerName: e.peerName, last: e, count: 1 });
      else {
        c.count++;
        if (e.at > c.last.at) c.last = e;
        if (e.peerName !== null && (c.peerName === null || e.at >= c.last.at)) c.peerName = e.peerName;
      }
    }
    return [...by.values()].sort((a, b) => b.last.at - a.last.at);
  }

  /** One conversation, oldest first. */
  thread(address: string): Entry[] {
    return [...this.#entries.values()].filter((e) => e.peer === address).sort((a, b) => a.at - b.at);
  }

  /** A name or address as a peer: its address and name; an error for a name nobody holds. */
  async resolvePeer(q: string): Promise<Peer> {
    const s = q.trim();
    if (s === '') throw new Error('type a name or a vos1… address');
    if (ADDRESS_RE.test(s)) {
      const r = await this.rpc.call('name_reverse', [s]).catch(() => null);
      return { address: s, name: r?.name ?? null };
    }
    if (/^vos1/i.test(s) && s.length > 30) throw new Error(`${s} is not a valid address`);
    let a: Result<'name_resolve'>;
    try {
      a = await this.rpc.call('name_resolve', [s]);
    } catch (err) {
      if (err instanceof RpcCallError && err.code === -32602)
        throw new Error(`${s} is neither a name nor an address: ${err.message}`);
      throw err;
    }
    if (a.status === 'free' || a.owner === null)
      throw new Error(`unknown recipient: the name ${a.name} is not registered`);
    return { address: a.owner, name: a.name };
  }

  /** Upload the files (POST /storage), then comm_send with their CIDs; the new entry is loaded. */
  async send(
    to: string,
    text: string,
    files: File[],
    progress: (what: string) => void = () => undefined,
  ): Promise<SendResult> {
    if (files.length > MAX_ATTACHMENTS) throw new Error(`at most ${MAX_ATTACHMENTS} attachments per message`);
    for (const f of files)
      if (f.size > MAX_ATTACHMENT_BYTES)
        throw new Error(
          `${f.name} is over the ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB an attachment may be`,
        );
    if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES)
      throw new Error(`the text is over ${MAX_TEXT_BYTES / 1024} KiB`);
    const attachments: { cid: string; name: string; mime: string }[] = [];
    for (const [i, f] of files.entries()) {
      progress(`uploading ${f.name}${files.length > 1 ? ` (${i + 1} of ${files.length})` : ''}…`);
      const { cid } = await upload(f);
      attachments.push({ cid, name: f.name.slice(0, 255), mime: baseMime(f.type).slice(0, 127) });
    }
    progress('sending…');
    const r = await this.rpc.call(
      'comm_send',
      attachments.length > 0 ? [to, text, { attachments }] : [to, text],
    );
    await this.refresh(r.address);
    return r;
  }
}

/** `video/webm;codecs=vp8,opus` -> `video/webm` (what the recipient's element needs). */
export function baseMime(type: string): string {
  return type.split(';')[0].trim().toLowerCase();
}

let shared: Messenger | undefined;

/** The page's one messenger store (created on first use). */
export function messengerOf(rpc: Rpc): Messenger {
  if (shared === undefined || shared.rpc !== rpc)
    shared = new Messenger(rpc, `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
  return shared;
}
