/**
 * The messenger: this node's identity, its conversations by peer (newest first, live over the node's
 * `messages` topic), one conversation at `#/messages/<name or address>` with text, pictures, files and
 * voice or video clips recorded in the page, and the delivery ticks (✓ sent and held by mailboxes,
 * ✓✓ delivered). Messages are the node's: the page shows what the node that served it sent and
 * received (comm_history), sends through it (comm_send) and opens attachments through it
 * (comm_attachment, then GET /storage/<cid>).
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { bytes, shortAddress, time } from '../format.js';
import {
  type ClipKind,
  kindOf,
  type MediaKind,
  openAttachment,
  Recording,
  recordingUnavailable,
} from '../messenger/media.js';
import {
  type Conversation,
  type Entry,
  errorText,
  MAX_ATTACHMENTS,
  type Messenger,
  messengerOf,
  type Peer,
} from '../messenger/store.js';
import { href, navigate } from '../router.js';
import type { Result } from '../rpc.js';
import { AccountLink, ErrorBox, type Loaded, Loading, useLoad, useNode } from '../ui.js';
import './messenger.css';

/** The page's messenger store, re-rendering this component on every change. */
function useMessenger(): Messenger {
  const { rpc } = useNode();
  const m = useMemo(() => messengerOf(rpc), [rpc]);
  const [, setTick] = useState(0);
  useEffect(() => m.listen(() => setTick((t) => t + 1)), [m]);
  return m;
}

const peerPath = (p: string) => `/messages/${encodeURIComponent(p)}`;

/** 14:03 today, else the date and time. */
function when(ms: number): string {
  const d = new Date(ms);
  const now = new Date();
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === now.toDateString()) return hm;
  return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${hm}`;
}

const KIND_LABEL: Record<MediaKind, string> = {
  image: 'picture',
  audio: 'voice clip',
  video: 'video clip',
  file: 'file',
};

/** Line icons drawn here (no icon font: the page loads nothing but its bundle). */
const ICONS = {
  attach:
    'M20 11.5l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l8.9-8.9a3.7 3.7 0 0 1 5.2 5.2l-8.9 8.9a1.8 1.8 0 0 1-2.6-2.6l8.2-8.2',
  mic: 'M12 2.5a3 3 0 0 0-3 3v6.5a3 3 0 0 0 6 0V5.5a3 3 0 0 0-3-3zM18.5 11a6.5 6.5 0 0 1-13 0M12 17.5V21.5M8.5 21.5h7',
  video:
    'M3.5 6.5h11a1.5 1.5 0 0 1 1.5 1.5v8a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 2 16V8a1.5 1.5 0 0 1 1.5-1.5zM16 10.5l5.5-3.5v10l-5.5-3.5',
  image:
    'M4.5 3.5h15a1 1 0 0 1 1 1v15a1 1 0 0 1-1 1h-15a1 1 0 0 1-1-1v-15a1 1 0 0 1 1-1zM20.5 15l-5-5-11 10.5M9 7.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z',
  file: 'M13.5 2.5H6.5a2 2 0 0 0-2 2v15a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V8.5zM13.5 2.5v6h6',
  stop: 'M7 7h10v10H7z',
} as const;

const KIND_ICON: Record<MediaKind, keyof typeof ICONS> = {
  image: 'image',
  audio: 'mic',
  video: 'video',
  file: 'file',
};

function Icon({ name }: { name: keyof typeof ICONS }) {
  return (
    <svg class={`msgr-icon ${name}`} viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
      <path d={ICONS[name]} />
    </svg>
  );
}

function Preview({ e }: { e: Entry }) {
  const text = e.text.trim().replace(/\s+/g, ' ');
  const first = e.attachments[0];
  const k = first === undefined ? undefined : kindOf(first.mime, first.name);
  const more = e.attachments.length > 1 ? ` +${e.attachments.length - 1}` : '';
  return (
    <>
      {e.direction === 'out' && (
        <>
          <Tick e={e} /> You:{' '}
        </>
      )}
      {k !== undefined && (
        <>
          <Icon name={KIND_ICON[k]} /> {KIND_LABEL[k][0].toUpperCase() + KIND_LABEL[k].slice(1)}
          {more}
          {text !== '' ? ' · ' : ''}
        </>
      )}
      {text.length > 60 ? `${text.slice(0, 60)}…` : text}
    </>
  );
}

const display = (name: string | null, address: string) => name ?? shortAddress(address);

function Avatar({ name, address }: { name: string | null; address: string }) {
  const letter = (name ?? address.slice(4)).slice(0, 1).toUpperCase();
  // A hue of the address: the same peer keeps its colour.
  let h = 0;
  for (const c of address) h = (h * 31 + c.charCodeAt(0)) % 360;
  return (
    <span class={`msgr-avatar hue-${h % 12}`} aria-hidden="true">
      {letter}
    </span>
  );
}

// ---- ticks ----

function Tick({ e }: { e: Entry }) {
  let mark: string;
  let title: string;
  let cls: string;
  switch (e.status) {
    case 'delivered':
      mark = '✓✓';
      cls = 'delivered';
      title = `delivered${e.deliveredAt ? ` ${time(e.deliveredAt)}` : ''}${e.via === 'mailbox' ? ' (from a mailbox)' : e.via === 'direct' ? ' (directly)' : ''}`;
      break;
    case 'held':
      mark = '✓';
      cls = 'held';
      title = `sent: held by ${e.holders ?? 'the'} mailbox node${e.holders === 1 ? '' : 's'} until the recipient is online`;
      break;
    case 'failed':
      mark = '✗';
      cls = 'failed';
      title = 'not delivered: the recipient was unreachable and no mailbox node took the message';
      break;
    default:
      mark = '✓';
      cls = 'sending';
      title = 'sending';
  }
  return (
    <span class={`msgr-tick ${cls}`} title={title} data-testid="tick" data-status={e.status}>
      {mark}
      <span class="msgr-hidden"> {title}</span>
    </span>
  );
}

// ---- attachments of a message ----

function AttachmentView({
  id,
  index,
  a,
  onMedia,
}: {
  id: string;
  index: number;
  a: Entry['attachments'][number];
  onMedia: () => void;
}) {
  const { rpc } = useNode();
  const [again, setAgain] = useState(0);
  const v = useLoad(() => openAttachment(rpc, id, index), [rpc, id, index, again]);
  const kind = kindOf(a.mime, a.name);
  const label = a.name || KIND_LABEL[kind];
  if (v.state === 'loading')
    return (
      <div class={`msgr-att loading ${kind}`} data-testid="attachment" data-state="loading">
        Fetching {label} ({bytes(a.size)})…
      </div>
    );
  if (v.state === 'error')
    return (
      <div class="msgr-att failed" data-testid="attachment" data-state="error" role="alert">
        Cannot open {label}: {v.error}.{' '}
        <button type="button" class="link" onClick={() => setAgain((x) => x + 1)}>
          Try again
        </button>
      </div>
    );
  const o = v.value;
  const caption = (
    <a class="msgr-att-caption" href={o.url} download={o.name || `attachment-${index}`}>
      {o.name || KIND_LABEL[o.kind]} · {bytes(o.size)}
    </a>
  );
  let media: ComponentChildren;
  if (o.kind === 'image')
    media = <img src={o.url} alt={o.name || 'picture'} data-testid="att-image" onLoad={onMedia} />;
  else if (o.kind === 'audio')
    media = (
      // biome-ignore lint/a11y/useMediaCaption: a clip recorded by a user has no captions to offer
      <audio controls preload="metadata" src={o.url} data-testid="att-audio" onLoadedMetadata={onMedia} />
    );
  else if (o.kind === 'video')
    media = (
      // biome-ignore lint/a11y/useMediaCaption: a clip recorded by a user has no captions to offer
      <video
        controls
        playsInline
        preload="metadata"
        src={o.url}
        data-testid="att-video"
        onLoadedMetadata={onMedia}
      />
    );
  else
    return (
      <div class="msgr-att file" data-testid="attachment" data-state="ready" data-kind="file">
        <a href={o.url} download={o.name || `attachment-${index}`} data-testid="att-file">
          <Icon name="file" /> {o.name || 'file'}
        </a>{' '}
        <span class="muted small">
          {o.mime || 'unknown type'} · {bytes(o.size)}
        </span>
      </div>
    );
  return (
    <figure class={`msgr-att ${o.kind}`} data-testid="attachment" data-state="ready" data-kind={o.kind}>
      {media}
      <figcaption>{caption}</figcaption>
    </figure>
  );
}

function Bubble({ e, onMedia }: { e: Entry; onMedia: () => void }) {
  return (
    <li
      class={`msgr-msg ${e.direction}`}
      data-testid="message"
      data-direction={e.direction}
      data-id={e.id}
      data-status={e.status}
    >
      <div class="msgr-bubble">
        {e.attachments.map((a, i) => (
          <AttachmentView key={`${e.id}/${i}`} id={e.id} index={i} a={a} onMedia={onMedia} />
        ))}
        {e.text !== '' && (
          <p class="msgr-text" data-testid="message-text">
            {e.text}
          </p>
        )}
        <div class="msgr-meta">
          <time dateTime={new Date(e.at).toISOString()} title={time(e.at)}>
            {when(e.at)}
          </time>
          {e.direction === 'out' && <Tick e={e} />}
        </div>
      </div>
    </li>
  );
}

// ---- the composer ----

interface Pending {
  key: number;
  file: File;
  kind: MediaKind;
  /** blob: URL of a picture's thumbnail. */
  thumb?: string;
}

let pendingKey = 0;

function RecordingBar({ r, onStop, onCancel }: { r: Recording; onStop: () => void; onCancel: () => void }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, []);
  const s = r.seconds;
  return (
    <div class="msgr-recording" data-testid="recording" data-kind={r.kind}>
      {r.kind === 'video' && (
        <video
          class="msgr-rec-preview"
          muted
          autoPlay
          playsInline
          ref={(el) => {
            if (el !== null && el.srcObject !== r.stream) el.srcObject = r.stream;
          }}
        />
      )}
      <span class="msgr-rec-dot" aria-hidden="true" />
      <span>
        Recording {r.kind === 'video' ? 'video' : 'voice'} {Math.floor(s / 60)}:
        {String(s % 60).padStart(2, '0')}
      </span>
      <button type="button" onClick={onStop} data-testid="record-stop">
        <Icon name="stop" /> Stop
      </button>
      <button type="button" class="secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

/** Longest clip: the recorder stops by itself after this. */
const MAX_RECORDING_S = 300;

function Composer({ m, peer }: { m: Messenger; peer: Peer }) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<Pending[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [recording, setRecording] = useState<Recording | null>(null);
  const [starting, setStarting] = useState(false);
  const filesRef = useRef(files);
  filesRef.current = files;
  const recRef = useRef(recording);
  recRef.current = recording;
  const cannotRecord = useMemo(() => recordingUnavailable(), []);
  const to = peer.name ?? peer.address;

  // Leaving the page: no camera left on, no thumbnails kept.
  useEffect(
    () => () => {
      recRef.current?.cancel();
      for (const p of filesRef.current) if (p.thumb) URL.revokeObjectURL(p.thumb);
    },
    [],
  );

  const add = (list: Iterable<File>) => {
    const room = MAX_ATTACHMENTS - filesRef.current.length;
    const all = [...list];
    if (all.length > room) setError(`at most ${MAX_ATTACHMENTS} attachments per message`);
    const next: Pending[] = all.slice(0, Math.max(0, room)).map((file) => {
      const kind = kindOf(file.type, file.name);
      return {
        key: pendingKey++,
        file,
        kind,
        thumb: kind === 'image' ? URL.createObjectURL(file) : undefined,
      };
    });
    if (next.length > 0) {
      filesRef.current = [...filesRef.current, ...next];
      setFiles(filesRef.current);
    }
  };

  const remove = (key: number) => {
    for (const p of filesRef.current) if (p.key === key && p.thumb) URL.revokeObjectURL(p.thumb);
    filesRef.current = filesRef.current.filter((p) => p.key !== key);
    setFiles(filesRef.current);
  };

  const stop = useCallback(async () => {
    const r = recRef.current;
    if (r === null) return;
    setRecording(null);
    try {
      add([await r.stop()]);
    } catch (err) {
      setError(errorText(err));
    }
  }, []);

  useEffect(() => {
    if (recording === null) return;
    const t = setTimeout(() => void stop(), MAX_RECORDING_S * 1000);
    return () => clearTimeout(t);
  }, [recording, stop]);

  const record = async (kind: ClipKind) => {
    setError(null);
    setStarting(true);
    try {
      setRecording(await Recording.start(kind));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setStarting(false);
    }
  };

  const send = async () => {
    if (busy !== null || recording !== null) return;
    const pending = files;
    if (text.trim() === '' && pending.length === 0) return;
    setError(null);
    setBusy('sending…');
    try {
      await m.send(
        to,
        text,
        pending.map((p) => p.file),
        (what) => setBusy(what),
      );
      setText('');
      for (const p of pending) if (p.thumb) URL.revokeObjectURL(p.thumb);
      filesRef.current = filesRef.current.filter((p) => !pending.includes(p));
      setFiles(filesRef.current);
    } catch (err) {
      setError(`Not sent: ${errorText(err)}`);
    } finally {
      setBusy(null);
    }
  };

  const empty = text.trim() === '' && files.length === 0;
  return (
    <form
      class="msgr-compose"
      aria-label={`message to ${display(peer.name, peer.address)}`}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {files.length > 0 && (
        <ul class="msgr-pending" aria-label="attachments to send">
          {files.map((p) => (
            <li key={p.key} data-testid="pending" data-kind={p.kind}>
              {p.thumb ? (
                <img src={p.thumb} alt="" />
              ) : (
                <span class="msgr-pending-icon">
                  <Icon name={KIND_ICON[p.kind]} />
                </span>
              )}
              <span class="msgr-pending-name" title={p.file.name}>
                {p.file.name}
              </span>
              <span class="muted small">{bytes(p.file.size)}</span>
              <button
                type="button"
                class="link"
                aria-label={`remove ${p.file.name}`}
                disabled={busy !== null}
                onClick={() => remove(p.key)}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      {recording !== null && (
        <RecordingBar
          r={recording}
          onStop={() => void stop()}
          onCancel={() => {
            recording.cancel();
            setRecording(null);
          }}
        />
      )}
      <div class="msgr-compose-row">
        <textarea
          data-testid="message-input"
          aria-label="Message"
          placeholder={`Message ${display(peer.name, peer.address)} (Enter sends, Shift+Enter for a new line)`}
          rows={2}
          value={text}
          disabled={busy !== null}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" data-testid="send" disabled={busy !== null || recording !== null || empty}>
          Send
        </button>
      </div>
      <div class="msgr-tools">
        <label class="msgr-tool" title="Attach pictures or any files">
          <Icon name="attach" /> Attach
          <input
            type="file"
            multiple
            class="msgr-hidden"
            data-testid="file-input"
            disabled={busy !== null}
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              if (input.files) add([...input.files]);
              input.value = '';
            }}
          />
        </label>
        {cannotRecord === null ? (
          <>
            <button
              type="button"
              class="msgr-tool"
              data-testid="record-audio"
              disabled={recording !== null || starting || busy !== null}
              onClick={() => void record('audio')}
            >
              <Icon name="mic" /> Record voice
            </button>
            <button
              type="button"
              class="msgr-tool"
              data-testid="record-video"
              disabled={recording !== null || starting || busy !== null}
              onClick={() => void record('video')}
            >
              <Icon name="video" /> Record video
            </button>
          </>
        ) : (
          <>
            <label class="msgr-tool" title="Attach a voice or video clip recorded with another program">
              <Icon name="video" /> Attach a clip
              <input
                type="file"
                accept="audio/*,video/*"
                capture="user"
                class="msgr-hidden"
                data-testid="clip-input"
                disabled={busy !== null}
                onChange={(e) => {
                  const input = e.target as HTMLInputElement;
                  if (input.files) add([...input.files]);
                  input.value = '';
                }}
              />
            </label>
            <span class="muted small" data-testid="no-recording">
              Recording in the page is off: {cannotRecord}.
            </span>
          </>
        )}
        {busy !== null && (
          <span class="muted small" data-testid="busy" aria-live="polite">
            {busy}
          </span>
        )}
      </div>
      {error !== null && (
        <div data-testid="send-error">
          <ErrorBox error={error} />
        </div>
      )}
    </form>
  );
}

// ---- one conversation ----

function Thread({ m, peer }: { m: Messenger; peer: Peer }) {
  const entries = m.thread(peer.address);
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const toBottom = useCallback(() => {
    const el = list.current;
    if (el !== null && stick.current) el.scrollTop = el.scrollHeight;
  }, []);
  useEffect(() => {
    void m.refresh(peer.address);
  }, [m, peer.address]);
  const last = entries[entries.length - 1];
  // A new last message scrolls down (and so does a picture or clip loading while at the bottom).
  useEffect(() => {
    stick.current = true;
    toBottom();
  }, [entries.length, last?.id, toBottom]);
  return (
    <div class="msgr-conv" data-testid="conversation-view" data-peer={peer.address}>
      <header class="msgr-conv-head">
        <Avatar name={peer.name} address={peer.address} />
        <div>
          <div class="msgr-conv-name" data-testid="peer-name">
            {peer.name ?? 'no name'}
          </div>
          <div class="muted small">
            <AccountLink address={peer.address} short={false} />
            {peer.name !== null && (
              <>
                {' · '}
                <a href={href(`/name/${encodeURIComponent(peer.name)}`)}>name records</a>
              </>
            )}
          </div>
        </div>
      </header>
      <ol
        class="msgr-thread"
        ref={list}
        aria-label={`messages with ${display(peer.name, peer.address)}`}
        aria-live="polite"
        data-testid="thread"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
        }}
      >
        {entries.length === 0 && (
          <li class="msgr-empty muted">
            {m.loaded
              ? `No messages with ${display(peer.name, peer.address)} yet: write the first one below.`
              : 'Loading the messages…'}
          </li>
        )}
        {entries.map((e) => (
          <Bubble key={e.id} e={e} onMedia={toBottom} />
        ))}
      </ol>
      <Composer m={m} peer={peer} />
    </div>
  );
}

// ---- the side: identity, new conversation, the list ----

function NewConversation({ m, me }: { m: Messenger; me: string | undefined }) {
  const [q, setQ] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="msgr-new"
      aria-label="start a conversation"
      onSubmit={async (e) => {
        e.preventDefault();
        const s = q.trim();
        if (s === '' || busy) return;
        setBusy(true);
        setError(null);
        try {
          const p = await m.resolvePeer(s);
          if (p.address === me) throw new Error('that is this node itself: write to another node');
          setQ('');
          navigate(peerPath(s));
        } catch (err) {
          setError(errorText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for="msgr-new-peer" class="small muted">
        New conversation
      </label>
      <div class="msgr-new-row">
        <input
          id="msgr-new-peer"
          data-testid="new-peer"
          placeholder="name or vos1… address"
          autocomplete="off"
          spellcheck={false}
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        />
        <button type="submit" data-testid="open-conversation" disabled={busy || q.trim() === ''}>
          Open
        </button>
      </div>
      {error !== null && (
        <p class="error small" role="alert" data-testid="new-peer-error">
          {error}
        </p>
      )}
    </form>
  );
}

function ConversationList({ list, current }: { list: Conversation[]; current: string | undefined }) {
  return (
    <ul class="msgr-list" data-testid="conversations" aria-label="conversations">
      {list.map((c) => (
        <li key={c.peer}>
          <a
            href={href(peerPath(c.peer))}
            data-testid="conversation"
            data-peer={c.peer}
            data-name={c.peerName ?? ''}
            aria-current={c.peer === current ? 'page' : undefined}
          >
            <Avatar name={c.peerName} address={c.peer} />
            <span class="msgr-list-body">
              <span class="msgr-list-top">
                <span class="msgr-list-name">{display(c.peerName, c.peer)}</span>
                <time class="muted small" title={time(c.last.at)}>
                  {when(c.last.at)}
                </time>
              </span>
              <span class="msgr-list-preview muted small">
                <Preview e={c.last} />
              </span>
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}

function Identity({ me, live }: { me: Loaded<Result<'comm_info'>>; live: boolean }) {
  if (me.state === 'loading') return <Loading what="this node's identity" />;
  if (me.state === 'error') return <ErrorBox error={`cannot read this node's identity: ${me.error}`} />;
  const { name, address, mailbox } = me.value;
  return (
    <div class="msgr-me" data-testid="me">
      <Avatar name={name} address={address} />
      <div>
        <div>
          Writing as <strong data-testid="me-name">{name ?? 'this node (no name)'}</strong>{' '}
          <span class="muted small" title={live ? 'new messages arrive over the WebSocket' : 'reconnecting'}>
            <span class={live ? 'dot live' : 'dot'} aria-hidden="true" />
            {live ? 'live' : 'reconnecting…'}
          </span>
        </div>
        <div class="mono small muted" data-testid="me-address">
          {address}
        </div>
        {name === null && (
          <div class="small muted">
            Others can write to this address; with a name (<code>vos name register NAME</code>) they can write
            to the name.
          </div>
        )}
        {mailbox.held > 0 && (
          <div class="small muted">Holding {mailbox.held} messages for offline nodes (mailbox).</div>
        )}
      </div>
    </div>
  );
}

export function MessengerPage({ peer }: { peer?: string }) {
  const { rpc } = useNode();
  const m = useMessenger();
  const me = useLoad(() => rpc.call('comm_info'), [rpc]);
  const target = useLoad<Peer | null>(
    () => (peer === undefined ? Promise.resolve(null) : m.resolvePeer(peer)),
    [m, peer],
  );
  const list = m.conversations();
  const current = target.state === 'ok' ? target.value?.address : undefined;
  const meAddress = me.state === 'ok' ? me.value.address : undefined;
  let main: ComponentChildren;
  if (peer === undefined)
    main = (
      <div class="msgr-welcome">
        <h2>Your messages</h2>
        <p class="muted">
          Pick a conversation, or start one with a node's name or address. Messages are sealed to the
          recipient's key on chain and signed by this node; a recipient that is offline gets them from its
          mailbox nodes when it comes back. Pictures, files and clips recorded here travel the same way,
          encrypted.
        </p>
      </div>
    );
  else if (target.state === 'loading') main = <Loading what={`the conversation with ${peer}`} />;
  else if (target.state === 'error')
    main = (
      <div class="msgr-welcome" data-testid="peer-error">
        <ErrorBox error={target.error} />
      </div>
    );
  else if (target.value !== null && target.value.address === meAddress)
    main = (
      <div class="msgr-welcome" data-testid="peer-error">
        <ErrorBox error={`${peer} is this node itself: write to another node`} />
      </div>
    );
  else if (target.value !== null) main = <Thread key={target.value.address} m={m} peer={target.value} />;
  return (
    <section class="messenger">
      <h1>Messages</h1>
      <div class="msgr">
        <aside class="msgr-side">
          <Identity me={me} live={m.live} />
          <NewConversation m={m} me={meAddress} />
          {m.error !== undefined && <ErrorBox error={m.error} />}
          {!m.loaded && m.error === undefined ? (
            <Loading what="the conversations" />
          ) : list.length === 0 ? (
            <p class="muted small msgr-none">No conversations yet.</p>
          ) : (
            <ConversationList list={list} current={current} />
          )}
        </aside>
        <div class="msgr-main">{main}</div>
      </div>
    </section>
  );
}
