/**
 * Who may talk to the RPC port, checked on every HTTP request and WebSocket upgrade before any work:
 *
 * - `Host` (DNS rebinding: a web page on attacker.example re-resolves its name to 127.0.0.1 and its
 *   requests carry `Host: attacker.example`): allowed are IP addresses (a rebinding page always sends its
 *   own name, never an IP), `localhost`, the name the node listens on, and the names in `rpc.hosts`, on
 *   any port. `"*"` in `rpc.hosts` turns the check off (e.g. behind a proxy that checks it).
 * - `Origin` (a browser page of another site): requests without one (curl, scripts, the CLI) and
 *   same-origin ones (the node's own web app) pass; a cross-origin POST or WebSocket is refused unless
 *   its origin is in `rpc.corsOrigins` (`"*"` allows any). None by default.
 */
import { isIP } from 'node:net';

export interface AccessPolicy {
  /** Extra allowed Host names (`rpc.hosts`), lower case; "*" allows any. */
  hosts: readonly string[];
  /** Allowed cross-origin origins (`rpc.corsOrigins`), e.g. "https://app.example"; "*" allows any. */
  corsOrigins: readonly string[];
  /** The address the server listens on (allowed as a Host unless a wildcard address). */
  listenHost: string;
}

const HOST_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$/;

/** The host name of a Host header (lower case, no port, no trailing dot; IPv6 without brackets), or null. */
export function hostnameOf(header: string): string | null {
  const m = HOST_RE.exec(header);
  if (m === null) return null;
  let name = m[1].toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? null : name;
}

export function normaliseHostEntry(entry: string): string {
  const h = entry.trim().toLowerCase();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h.replace(/\.$/, '');
}

export function isHostAllowed(header: string | undefined, policy: AccessPolicy): boolean {
  if (policy.hosts.includes('*')) return true;
  if (header === undefined) return false;
  const name = hostnameOf(header);
  if (name === null) return false;
  if (isIP(name) !== 0 || name === 'localhost') return true;
  if (name === normaliseHostEntry(policy.listenHost)) return true;
  return policy.hosts.includes(name);
}

export type OriginVerdict =
  /** No Origin header: not a browser page (or a same-origin GET). */
  | 'none'
  | 'same-origin'
  /** Cross-origin and configured: answer with CORS headers for it. */
  | 'allowed'
  | 'refused';

/** Normalise a configured origin ("https://app.example:8443/" -> "https://app.example:8443"). */
export function normaliseOrigin(entry: string): string | null {
  if (entry === '*') return entry;
  try {
    const u = new URL(entry);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    if (u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '') return null;
    return u.origin;
  } catch {
    return null;
  }
}

export function checkOrigin(
  origin: string | undefined,
  hostHeader: string | undefined,
  policy: AccessPolicy,
): OriginVerdict {
  if (origin === undefined) return 'none';
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined; // "null" (sandboxed frames, file://) and garbage: cross-origin
  }
  if (parsed !== undefined && hostHeader !== undefined && parsed.host === hostHeader.toLowerCase())
    return 'same-origin';
  if (policy.corsOrigins.includes('*')) return 'allowed';
  if (parsed !== undefined && policy.corsOrigins.includes(parsed.origin)) return 'allowed';
  return 'refused';
}
