/** Display helpers (amounts stay decimal strings: they can exceed 2^53). */

export function groupDigits(decimal: string | number | bigint): string {
  const s = String(decimal);
  if (!/^-?[0-9]+$/.test(s)) return s;
  const neg = s.startsWith('-');
  const digits = neg ? s.slice(1) : s;
  return (neg ? '-' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function shortHash(h: string, n = 8): string {
  return h.length <= 2 + 2 * n ? h : `${h.slice(0, 2 + n)}…${h.slice(-n)}`;
}

export function shortAddress(a: string): string {
  return a.length <= 20 ? a : `${a.slice(0, 10)}…${a.slice(-6)}`;
}

export function bytes(n: string | number): string {
  const v = Number(n);
  if (!Number.isFinite(v)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = v;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${u === 0 ? x : x.toFixed(x >= 100 ? 0 : 1)} ${units[u]}`;
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function time(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** `part` of `total` as a percentage with one decimal. */
export function share(part: string | bigint, total: string | bigint): string {
  const t = BigInt(total);
  if (t === 0n) return '0%';
  const permille = (BigInt(part) * 1000n) / t;
  return `${(Number(permille) / 10).toFixed(1)}%`;
}
