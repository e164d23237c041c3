/** The shell: connects to the node that served the page, then the navigation and the routed page. */
import { useEffect, useState } from 'preact/hooks';
import { HeadFeed } from './live.js';
import { href, matchPath, navigate, usePath } from './router.js';
import { routes } from './routes.js';
import { Rpc, RpcSocket } from './rpc.js';
import { ErrorBox, Loading, Node, type NodeContext, useFeed } from './ui.js';

/** Where a query of the search box leads: a height, a tx or block hash, an address or a name. */
async function locate(rpc: Rpc, q: string): Promise<string> {
  if (/^[0-9]+$/.test(q)) return `/block/${q}`;
  if (/^vos1[02-9ac-hj-np-z]{38}$/.test(q)) return `/account/${q}`;
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    const tx = await rpc.call('tx_get', [q]).catch(() => null);
    return tx === null ? `/block/${q}` : `/tx/${q}`;
  }
  return `/name/${encodeURIComponent(q)}`;
}

function SearchBox({ rpc }: { rpc: Rpc }) {
  const [q, setQ] = useState('');
  return (
    <form
      class="search"
      aria-label="search"
      onSubmit={async (e) => {
        e.preventDefault();
        const s = q.trim();
        if (s !== '') navigate(await locate(rpc, s));
      }}
    >
      <input
        aria-label="Height, hash, address or name"
        placeholder="height, hash, address or name"
        value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
      />
    </form>
  );
}

function HeadBadge({ ctx }: { ctx: NodeContext }) {
  const feed = useFeed(ctx.feed);
  return (
    <span class="head-badge" title={feed.socketState === 'open' ? 'live' : 'reconnecting'}>
      <span class={feed.socketState === 'open' ? 'dot live' : 'dot'} aria-hidden="true" />#
      {feed.latest?.height ?? '…'}
    </span>
  );
}

function Shell({ ctx }: { ctx: NodeContext }) {
  const path = usePath();
  let page = null;
  let section = '';
  let title = 'Not found';
  for (const r of routes) {
    const p = matchPath(r.pattern, path);
    if (p !== null) {
      page = r.render(p);
      section = r.section ?? '';
      title = r.title(p);
      break;
    }
  }
  useEffect(() => {
    document.title = `${title} · VOS ${ctx.status.chainId}`;
  }, [title, ctx.status.chainId]);
  return (
    <Node.Provider value={ctx}>
      <header class="top">
        <a class="brand" href={href('/')}>
          VOS
        </a>
        <nav aria-label="Main">
          {routes
            .filter((r) => r.nav !== undefined)
            .map((r) => (
              <a
                key={r.pattern}
                href={href(r.pattern)}
                aria-current={section === r.section ? 'page' : undefined}
              >
                {r.nav}
              </a>
            ))}
        </nav>
        <SearchBox rpc={ctx.rpc} />
        <HeadBadge ctx={ctx} />
      </header>
      <main>
        {page ?? (
          <section>
            <h1>Not found</h1>
            <p>
              No page at <code>{path}</code>. <a href={href('/')}>Back to the explorer</a>.
            </p>
          </section>
        )}
      </main>
      <footer class="muted small">
        Node {ctx.status.moniker} · {ctx.status.address} · chain {ctx.status.chainId} · served by this node,
        no CDN.
      </footer>
    </Node.Provider>
  );
}

export function App() {
  const [ctx, setCtx] = useState<NodeContext | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const rpc = new Rpc('/');
    const socket = new RpcSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
    let tries = 0;
    const connect = async () => {
      try {
        const [status, doc] = await Promise.all([rpc.call('node_status'), rpc.call('rpc.discover')]);
        const methods = new Set(doc.methods.map((m) => String(m.name)));
        setCtx({ rpc, feed: new HeadFeed(rpc, socket), status, methods });
        setError(null);
      } catch (err) {
        setError(`cannot reach the node: ${(err as Error).message}`);
        setTimeout(connect, Math.min(10_000, 500 * 2 ** tries++));
      }
    };
    void connect();
  }, []);
  if (ctx === null)
    return <main>{error ? <ErrorBox error={`${error} (retrying)`} /> : <Loading what="the node" />}</main>;
  return <Shell ctx={ctx} />;
}
