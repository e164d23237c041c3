/**
 * Hash routes (`#/block/12`): the node serves one index.html at `/`, so any route works on reload and
 * in a bookmark without the server knowing the routes. A route is a pattern with `:params`; the table
 * is routes.tsx (a new page = one entry there).
 */
import { useEffect, useState } from 'preact/hooks';

export type Params = Record<string, string>;

/** The params of `path` if it matches `pattern` (`/block/:id`), else null. */
export function matchPath(pattern: string, path: string): Params | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(got[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== got[i]) return null;
  }
  return params;
}

/** The current route path (`/block/12` for `#/block/12`; `/` for no hash). */
export function currentPath(): string {
  const h = location.hash.replace(/^#/, '');
  return h.startsWith('/') ? h.split('?')[0] : '/';
}

/** The href of a route path. */
export function href(path: string): string {
  return `#${path}`;
}

export function navigate(path: string): void {
  location.hash = path;
}

/** The current route path; re-renders on every hash change (a new `?query` on the same path too). */
export function usePath(): string {
  const [, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return currentPath();
}
