/** IP addresses as bytes (node:net's syntax checks; a zone id `%eth0` is left out). */
import { isIPv4, isIPv6 } from 'node:net';

/** The 4 bytes of an IPv4 address, or null when `s` is not one. */
export function ipv4Bytes(s: string): Uint8Array | null {
  return isIPv4(s) ? Uint8Array.from(s.split('.').map(Number)) : null;
}

/** The 16 bytes of an IPv6 address (`::` expanded, an embedded IPv4 tail included), or null. */
export function ipv6Bytes(s: string): Uint8Array | null {
  if (!isIPv6(s)) return null;
  const a = s.split('%')[0];
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const part = (x: string) => (x === '' ? [] : x.split(':'));
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const fix = (g: string[]) => {
    const b = g.length > 0 ? ipv4Bytes(g[g.length - 1]) : null;
    if (b !== null) g.splice(-1, 1, ((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16));
    return g;
  };
  const groups = tail === undefined ? fix(part(head)) : part(head);
  const back = tail === undefined ? [] : fix(part(tail));
  const fill = new Array(8 - groups.length - back.length).fill('0');
  const out = new Uint8Array(16);
  [...groups, ...fill, ...back].forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}
