/** Shared pieces of the pages: the node context, data loading, links to chain objects, tables. */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { shortAddress, shortHash } from './format.js';
import type { HeadFeed } from './live.js';
import { href } from './router.js';
import type { Result, Rpc } from './rpc.js';

export interface NodeContext {
  rpc: Rpc;
  feed: HeadFeed;
  status: Result<'node_status'>;
  /** Method names of the node's rpc.discover (methods newer than this page show up here). */
  methods: ReadonlySet<string>;
}

export const Node = createContext<NodeContext | null>(null);

export function useNode(): NodeContext {
  const n = useContext(Node);
  if (n === null) throw new Error('no node context');
  return n;
}

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: string } | { state: 'ok'; value: T };

/** Run `load` when `deps` change; the latest run wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [v, setV] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    setV({ state: 'loading' });
    load().then(
      (value) => live && setV({ state: 'ok', value }),
      (err: unknown) => live && setV({ state: 'error', error: (err as Error).message ?? String(err) }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return v;
}

/** Re-render on every change of the head feed. */
export function useFeed(feed: HeadFeed): HeadFeed {
  const [, setTick] = useState(0);
  useEffect(() => feed.listen(() => setTick((t) => t + 1)), [feed]);
  return feed;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}

export function ErrorBox({ error }: { error: string }) {
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

/** Loading / error / the value. */
export function Show<T>({
  v,
  what,
  children,
}: {
  v: Loaded<T>;
  what: string;
  children: (value: T) => ComponentChildren;
}) {
  if (v.state === 'loading') return <Loading what={what} />;
  if (v.state === 'error') return <ErrorBox error={v.error} />;
  return <>{children(v.value)}</>;
}

export function BlockLink({ height }: { height: number }) {
  return <a href={href(`/block/${height}`)}>{height}</a>;
}

export function TxLink({ hash, short = true }: { hash: string; short?: boolean }) {
  return (
    <a class="mono" href={href(`/tx/${hash}`)} title={hash}>
      {short ? shortHash(hash) : hash}
    </a>
  );
}

export function AccountLink({ address, short = true }: { address: string; short?: boolean }) {
  return (
    <a class="mono" href={href(`/account/${address}`)} title={address}>
      {short ? shortAddress(address) : address}
    </a>
  );
}

export function NameLink({ name }: { name: string }) {
  return <a href={href(`/name/${name}`)}>{name}</a>;
}

export function Mono({ children, title }: { children: ComponentChildren; title?: string }) {
  return (
    <span class="mono" title={title}>
      {children}
    </span>
  );
}

/** A two-column table of labelled values. */
export function Fields({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="fields">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
