/**
 * `node:url`'s domainToASCII/domainToUnicode for the web app's bundle (web/build.mjs maps the import
 * here), built the way Node builds them: the WHATWG URL host parser (the browser's own URL, as Node's
 * is ada's) gives the ASCII form or refuses the domain; the Unicode form decodes the punycode of its
 * xn-- labels (RFC 3492). test/unit/web/platform.test.ts compares them with node:url.
 */
const PLACEHOLDER = 'placeholder.invalid';

/** The ASCII (punycode) serialization of a domain, or '' when the host parser refuses it. */
export function domainToASCII(domain: string): string {
  const u = new URL(`ws://${PLACEHOLDER}/`);
  try {
    u.hostname = domain;
  } catch {
    return '';
  }
  return u.hostname === PLACEHOLDER && domain !== PLACEHOLDER ? '' : u.hostname;
}

/** The Unicode serialization of a domain (xn-- labels decoded), or '' when it is not a valid domain. */
export function domainToUnicode(domain: string): string {
  const ascii = domainToASCII(domain);
  if (ascii === '') return '';
  const labels: string[] = [];
  for (const label of ascii.split('.')) {
    if (!label.startsWith('xn--')) {
      labels.push(label);
      continue;
    }
    const decoded = punycodeDecode(label.slice(4));
    if (decoded === null) return '';
    labels.push(decoded);
  }
  return labels.join('.');
}

// RFC 3492 parameters.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;
const MAX_CODE_POINT = 0x10ffff;

function adapt(delta: number, numPoints: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

function digitOf(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 26; // 0-9
  if (c >= 0x41 && c <= 0x5a) return c - 0x41; // A-Z
  if (c >= 0x61 && c <= 0x7a) return c - 0x61; // a-z
  return BASE;
}

/** The code points a punycode string (without xn--) stands for, or null when it is malformed. */
export function punycodeDecode(input: string): string | null {
  const output: number[] = [];
  const delim = input.lastIndexOf('-');
  const basicEnd = Math.max(0, delim);
  for (let j = 0; j < basicEnd; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return null;
    output.push(c);
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let pos = basicEnd > 0 ? basicEnd + 1 : 0; pos < input.length; ) {
    const oldi = i;
    for (let w = 1, k = BASE; ; k += BASE) {
      if (pos >= input.length) return null;
      const digit = digitOf(input.charCodeAt(pos++));
      if (digit >= BASE) return null;
      if (digit > Math.floor((MAX_CODE_POINT * 2 - i) / w)) return null;
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      if (w > Math.floor(Number.MAX_SAFE_INTEGER / (BASE - t))) return null;
      w *= BASE - t;
    }
    const len = output.length + 1;
    bias = adapt(i - oldi, len, oldi === 0);
    n += Math.floor(i / len);
    if (n > MAX_CODE_POINT) return null;
    i %= len;
    output.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...output);
}
