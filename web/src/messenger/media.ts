/**
 * Attachments and clips in the page:
 * - an attachment of a message is decrypted by the node into its store (comm_attachment) and read
 *   back from `GET /storage/<cid>`, which answers application/octet-stream with nosniff: pictures and
 *   clips are read into a Blob of the attachment's type and shown from a blob: URL (the page's CSP
 *   allows blob: for img and media); other files are a download link to /storage/<cid>;
 * - a voice or video clip is recorded with getUserMedia + MediaRecorder when the browser has them
 *   (a secure context: https, or http on localhost / 127.0.0.1).
 */
import type { Rpc } from '../rpc.js';
import { baseMime } from './store.js';

export type MediaKind = 'image' | 'audio' | 'video' | 'file';

export interface Opened {
  kind: MediaKind;
  cid: string;
  name: string;
  mime: string;
  size: number;
  /** blob: URL for pictures and clips; /storage/<cid> for other files. */
  url: string;
}

/** Media read into memory at most this large; a larger one is a download link. */
const INLINE_MAX_BYTES = 64 * 1024 * 1024;

export function kindOf(mime: string, name = ''): MediaKind {
  const m = baseMime(mime);
  if (m.startsWith('image/') && m !== 'image/svg+xml') return 'image';
  if (m.startsWith('audio/')) return 'audio';
  if (m.startsWith('video/')) return 'video';
  if (m === '' || m === 'application/octet-stream') {
    const ext = name.toLowerCase().split('.').pop() ?? '';
    if (['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif'].includes(ext)) return 'image';
    if (['mp3', 'ogg', 'oga', 'opus', 'wav', 'm4a'].includes(ext)) return 'audio';
    if (['webm', 'mp4', 'mov', 'ogv'].includes(ext)) return 'video';
  }
  return 'file';
}

/** A type the page can hand to the element for a file without one. */
function typeFor(kind: MediaKind, mime: string, name: string): string {
  const m = baseMime(mime);
  if (m !== '' && m !== 'application/octet-stream') return m;
  const ext = name.toLowerCase().split('.').pop() ?? '';
  const guess: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    avif: 'image/avif',
    webm: kind === 'audio' ? 'audio/webm' : 'video/webm',
    mp4: 'video/mp4',
    ogg: 'audio/ogg',
    mp3: 'audio/mpeg',
    wav: 'audio/wav',
  };
  return guess[ext] ?? 'application/octet-stream';
}

const opened = new Map<string, Promise<Opened>>();

/**
 * Attachment `index` of message `id`, ready to show. Asked once per page load (a failure is forgotten,
 * so it can be tried again).
 */
export function openAttachment(rpc: Rpc, id: string, index: number): Promise<Opened> {
  const key = `${id}/${index}`;
  let p = opened.get(key);
  if (p === undefined) {
    p = (async () => {
      const a = await rpc.call('comm_attachment', [id, index]);
      const kind = kindOf(a.mime, a.name);
      const path = `/storage/${encodeURIComponent(a.cid)}`;
      if (kind === 'file' || a.size > INLINE_MAX_BYTES) return { ...a, kind, url: path };
      const res = await fetch(path);
      if (!res.ok) throw new Error(`GET ${path} answered HTTP ${res.status}`);
      const blob = new Blob([await res.arrayBuffer()], { type: typeFor(kind, a.mime, a.name) });
      return { ...a, kind, url: URL.createObjectURL(blob) };
    })();
    opened.set(key, p);
    p.catch(() => opened.delete(key));
  }
  return p;
}

// ---- recording ----

export type ClipKind = 'audio' | 'video';

/** Why recording is not offered here, or null when it is. */
export function recordingUnavailable(): string | null {
  if (typeof MediaRecorder === 'undefined') return 'this browser has no MediaRecorder';
  if (navigator.mediaDevices?.getUserMedia === undefined)
    return window.isSecureContext
      ? 'this browser cannot open a microphone or camera'
      : 'microphone and camera need a secure page (https, or http on localhost)';
  return null;
}

const CANDIDATES: Record<ClipKind, string[]> = {
  video: ['video/webm;codecs=vp9,opus', 'video/webm;codecs=vp8,opus', 'video/webm', 'video/mp4'],
  audio: ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'],
};

function pickType(kind: ClipKind): string | undefined {
  return CANDIDATES[kind].find((t) => MediaRecorder.isTypeSupported?.(t));
}

function deviceError(kind: ClipKind, err: unknown): Error {
  const name = (err as { name?: string })?.name;
  const what = kind === 'video' ? 'camera and microphone' : 'microphone';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return new Error(`the ${what} permission was refused: allow it for this page, or attach a file instead`);
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return new Error(`no ${what} found: attach a file instead`);
  if (name === 'NotReadableError') return new Error(`the ${what} is in use by another program`);
  return new Error(`cannot record: ${(err as Error)?.message ?? String(err)}`);
}

/** A recording in progress: `stop()` resolves with the clip as a File. */
export class Recording {
  readonly kind: ClipKind;
  readonly stream: MediaStream;
  readonly startedAt = Date.now();
  readonly #recorder: MediaRecorder;
  readonly #chunks: Blob[] = [];
  readonly #done: Promise<File>;

  private constructor(kind: ClipKind, stream: MediaStream) {
    this.kind = kind;
    this.stream = stream;
    const type = pickType(kind);
    this.#recorder = new MediaRecorder(stream, type === undefined ? undefined : { mimeType: type });
    this.#done = new Promise<File>((resolve, reject) => {
      this.#recorder.ondataavailable = (e) => {
        if (e.data.size > 0) this.#chunks.push(e.data);
      };
      this.#recorder.onerror = (e) => {
        this.#release();
        reject(new Error(`the recording failed: ${(e as ErrorEvent).message ?? 'MediaRecorder error'}`));
      };
      this.#recorder.onstop = () => {
        this.#release();
        const mime = baseMime(this.#recorder.mimeType || type || `${kind}/webm`);
        const ext = mime.includes('mp4') ? 'mp4' : mime.includes('ogg') ? 'ogg' : 'webm';
        const stamp = new Date(this.startedAt).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
        const blob = new Blob(this.#chunks, { type: mime });
        if (blob.size === 0) reject(new Error('the recording is empty'));
        else
          resolve(
            new File([blob], `${kind === 'video' ? 'video' : 'voice'}-${stamp}.${ext}`, { type: mime }),
          );
      };
    });
    // Chunks every 250 ms: a stop right after the start still has data.
    this.#recorder.start(250);
  }

  static async start(kind: ClipKind): Promise<Recording> {
    const why = recordingUnavailable();
    if (why !== null) throw new Error(`cannot record here: ${why}`);
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(
        kind === 'video'
          ? { audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } }
          : { audio: true },
      );
    } catch (err) {
      throw deviceError(kind, err);
    }
    try {
      return new Recording(kind, stream);
    } catch (err) {
      for (const t of stream.getTracks()) t.stop();
      throw new Error(`cannot record: ${(err as Error).message}`);
    }
  }

  get seconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }

  stop(): Promise<File> {
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    return this.#done;
  }

  /** Stop without keeping the clip. */
  cancel(): void {
    this.#done.catch(() => undefined);
    if (this.#recorder.state !== 'inactive') this.#recorder.stop();
    this.#release();
  }

  #release(): void {
    for (const t of this.stream.getTracks()) t.stop();
  }
}
