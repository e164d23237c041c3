/**
 * The content browser: search what the network published (full text, with kind / mime / publisher
 * filters, answered by this node's index of the ledger) and open an item with a preview played from
 * `GET /content/<cid>` (text, image, audio, video), its record and its publisher's name.
 * The search lives in the URL (`#/content?q=cat&kind=image`), so a search is a link.
 */
import { useState } from 'preact/hooks';
import { bytes, groupDigits } from '../format.js';
import { href, navigate } from '../router.js';
import type { Result, Rpc } from '../rpc.js';
import { AccountLink, BlockLink, ErrorBox, Fields, Mono, NameLink, Show, useLoad, useNode } from '../ui.js';
import './content.css';

const KINDS = ['text', 'image', 'audio', 'video', 'executable', 'other', 'name'] as const;
const ADDRESS_RE = /^vos1[02-9ac-hj-np-z]{38}$/;
const PAGE = 20;
/** How much of a text item the preview shows. */
const TEXT_PREVIEW_BYTES = 64 * 1024;

type Hit = Result<'search_query'>['results'][number];
type PublishRecord = NonNullable<Result<'publish_get'>>;

export interface ContentSearch {
  q: string;
  kind: string;
  mime: string;
  /** A publisher: an address or a VOS name. */
  owner: string;
}

/** The search in the hash's query part (`#/content?q=...`). */
export function searchFromHash(hash: string): ContentSearch {
  const i = hash.indexOf('?');
  const p = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  return {
    q: p.get('q') ?? '',
    kind: p.get('kind') ?? '',
    mime: p.get('mime') ?? '',
    owner: p.get('owner') ?? '',
  };
}

function searchHref(s: ContentSearch): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v.trim() !== '') p.set(k, v.trim());
  return `/content?${p.toString()}`;
}

export function contentUrl(cid: string): string {
  return `/content/${encodeURIComponent(cid)}`;
}

/** The publisher filter as an address: an address as is, a name through name_resolve (its owner). */
async function ownerAddress(rpc: Rpc, owner: string): Promise<string | undefined> {
  const o = owner.trim();
  if (o === '') return undefined;
  if (ADDRESS_RE.test(o)) return o;
  const a = await rpc.call('name_resolve', [o]);
  if (a.owner === null || a.status === 'free') throw new Error(`no publisher named "${o}"`);
  return a.owner;
}

/** name_reverse answers, one call per address per page load. */
const names = new Map<string, Promise<string | null>>();
function nameOf(rpc: Rpc, address: string): Promise<string | null> {
  let p = names.get(address);
  if (p === undefined) {
    p = rpc.call('name_reverse', [address]).then(
      (r) => r?.name ?? null,
      () => null,
    );
    names.set(address, p);
  }
  return p;
}

function Publisher({ address }: { address: string }) {
  const { rpc } = useNode();
  const v = useLoad(() => nameOf(rpc, address), [rpc, address]);
  const name = v.state === 'ok' ? v.value : null;
  return (
    <span data-testid="publisher">
      {name !== null && (
        <>
          <NameLink name={name} />{' '}
        </>
      )}
      <AccountLink address={address} />
    </span>
  );
}

function SearchForm({ initial }: { initial: ContentSearch }) {
  const [s, setS] = useState(initial);
  const field = (k: keyof ContentSearch) => ({
    value: s[k],
    onInput: (e: Event) => setS({ ...s, [k]: (e.currentTarget as HTMLInputElement).value }),
  });
  return (
    <form
      class="content-search"
      aria-label="search published items"
      onSubmit={(e) => {
        e.preventDefault();
        if (s.q.trim() !== '') navigate(searchHref(s));
      }}
    >
      <input
        type="search"
        placeholder="words to find"
        aria-label="words"
        data-testid="content-q"
        {...field('q')}
      />
      <select aria-label="kind" data-testid="content-kind" {...field('kind')}>
        <option value="">any kind</option>
        {KINDS.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      <input placeholder="mime (image/png)" aria-label="mime type" {...field('mime')} />
      <input placeholder="publisher: name or vos1…" aria-label="publisher" {...field('owner')} />
      <button type="submit">Search</button>
    </form>
  );
}

function Thumb({ hit }: { hit: Hit }) {
  if (hit.cid === null) return <div class="thumb">name</div>;
  if (hit.kind === 'image')
    return <img class="thumb" src={contentUrl(hit.cid)} alt="" loading="lazy" data-testid="thumb" />;
  return <div class="thumb">{hit.kind}</div>;
}

function Results({ search }: { search: ContentSearch }) {
  const { rpc } = useNode();
  const [pages, setPages] = useState<string[]>([]);
  const cursor = pages.at(-1);
  const v = useLoad(async () => {
    const owner = await ownerAddress(rpc, search.owner);
    const query = {
      q: search.q,
      limit: PAGE,
      ...(search.kind ? { kind: search.kind } : {}),
      ...(search.mime ? { mime: search.mime } : {}),
      ...(owner ? { owner } : {}),
      ...(cursor ? { cursor } : {}),
    };
    return rpc.call('search_query', [query]);
  }, [rpc, search.q, search.kind, search.mime, search.owner, cursor]);
  return (
    <Show v={v} what="results">
      {(r) =>
        r.results.length === 0 ? (
          <p class="muted" data-testid="no-results">
            Nothing found.
          </p>
        ) : (
          <>
            <ul class="results" data-testid="results">
              {r.results.map((h) => (
                <li key={h.id} data-testid="result">
                  <Thumb hit={h} />
                  <div>
                    <a href={h.kind === 'name' ? href(`/name/${h.title}`) : href(`/content/${h.id}`)}>
                      {h.title || '(untitled)'}
                    </a>{' '}
                    <span class="badge">{h.kind}</span>
                    {h.mime && <span class="muted small"> {h.mime}</span>}
                    <div class="small">
                      by <Publisher address={h.owner} />
                    </div>
                  </div>
                </li>
              ))}
            </ul>
            <p>
              {pages.length > 0 && (
                <button type="button" onClick={() => setPages(pages.slice(0, -1))}>
                  Previous
                </button>
              )}{' '}
              {r.cursor !== null && (
                <button type="button" onClick={() => setPages([...pages, r.cursor as string])}>
                  Next
                </button>
              )}
            </p>
          </>
        )
      }
    </Show>
  );
}

export function ContentIndexPage({ search }: { search: ContentSearch }) {
  return (
    <section>
      <h1>Published content</h1>
      <SearchForm initial={search} key={searchHref(search)} />
      {search.q.trim() === '' ? (
        <p class="muted">
          Search titles, descriptions and tags of everything published on the chain, or names. Filters narrow
          it to one kind, one mime type or one publisher.
        </p>
      ) : (
        <Results search={search} key={searchHref(search)} />
      )}
    </section>
  );
}

function TextPreview({ cid }: { cid: string }) {
  const v = useLoad(async () => {
    const res = await fetch(contentUrl(cid), { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } });
    if (!res.ok) throw new Error(`GET ${contentUrl(cid)}: HTTP ${res.status}`);
    return new TextDecoder().decode(await res.arrayBuffer());
  }, [cid]);
  return (
    <Show v={v} what="the text">
      {(t) => (
        <pre class="text-preview" data-testid="preview-text">
          {t}
        </pre>
      )}
    </Show>
  );
}

function Preview({ rec }: { rec: PublishRecord }) {
  const src = contentUrl(rec.cid);
  const [failed, setFailed] = useState(false);
  if (failed)
    return <ErrorBox error={`the node could not serve ${rec.cid} (its content may be unavailable)`} />;
  const onError = () => setFailed(true);
  switch (rec.kind) {
    case 'image':
      return <img class="preview" src={src} alt={rec.title} onError={onError} data-testid="preview-image" />;
    case 'audio':
      return (
        // biome-ignore lint/a11y/useMediaCaption: published audio comes without captions
        <audio
          class="preview"
          controls
          preload="metadata"
          src={src}
          onError={onError}
          data-testid="preview-audio"
        />
      );
    case 'video':
      return (
        // biome-ignore lint/a11y/useMediaCaption: published video comes without captions
        <video
          class="preview"
          controls
          preload="metadata"
          src={src}
          onError={onError}
          data-testid="preview-video"
        />
      );
    case 'text':
      return <TextPreview cid={rec.cid} />;
    case 'executable':
      return (
        <p>
          A WASM app: install it from the <a href={href('/apps')}>app store</a>.
        </p>
      );
    default:
      return <p class="muted">No preview for {rec.mime}.</p>;
  }
}

export function ContentPage({ id }: { id: string }) {
  const { rpc } = useNode();
  const v = useLoad(() => rpc.call('publish_get', [id]), [rpc, id]);
  return (
    <section>
      <Show v={v} what="the item">
        {(rec) =>
          rec === null ? (
            <ErrorBox error={`nothing was published as ${id}`} />
          ) : (
            <>
              <h1 data-testid="content-title">{rec.title || '(untitled)'}</h1>
              {rec.description && <p>{rec.description}</p>}
              <div class="preview-box">
                <Preview rec={rec} />
              </div>
              <p>
                <a href={contentUrl(rec.cid)} download>
                  Download
                </a>{' '}
                <span class="muted small">({bytes(rec.size)})</span>
              </p>
              <Fields
                rows={[
                  ['Publisher', <Publisher key="p" address={rec.owner} />],
                  ['Kind', rec.kind],
                  ['Type', <Mono key="m">{rec.mime}</Mono>],
                  ['Size', `${groupDigits(rec.size)} bytes`],
                  ['CID', <Mono key="c">{rec.cid}</Mono>],
                  ['Record', <Mono key="i">{rec.id}</Mono>],
                  [
                    'Tags',
                    rec.tags.length === 0
                      ? '—'
                      : rec.tags.map((t) => (
                          <span class="badge" key={t}>
                            {t}
                          </span>
                        )),
                  ],
                  ['Published at', <BlockLink key="h" height={rec.publishedAt} />],
                  ['Updated at', <BlockLink key="u" height={rec.updatedAt} />],
                ]}
              />
            </>
          )
        }
      </Show>
    </section>
  );
}
