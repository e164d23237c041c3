/**
 * VOS name rules: one pure normalization used by the ledger, the RPC, the CLI and the DNS gateway.
 *
 * A name is one DNS label of `[a-z0-9-]`, 3-63 characters, no leading or trailing `-`, and no `--` at
 * positions 3-4 unless it is an `xn--` label (IDNA's reserved form). An `xn--` label is accepted only
 * when its punycode round-trips (decode, encode again: the same label), it decodes to non-ASCII text,
 * its letters stay in one script (Han may mix with Hiragana/Katakana, Hangul or Bopomofo, as UTS #39's
 * "highly restrictive" level allows), and it is not confusable with an ASCII name (a label made only of
 * Cyrillic or Greek letters that look like Latin ones, or a Latin label using a look-alike such as the
 * dotless i). Input may be Unicode (`münchen`), upper case, or end with `.vos`; the output is the
 * canonical ASCII form (`xn--mnchen-3ya`).
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { VosError } from '../../util/errors.js';

export const NAME_MIN = 3;
export const NAME_MAX = 63;

export type NameErrorCode =
  | 'NAME_EMPTY'
  | 'NAME_LENGTH'
  | 'NAME_CHARACTERS'
  | 'NAME_HYPHEN'
  | 'NAME_PUNYCODE'
  | 'NAME_MIXED_SCRIPT'
  | 'NAME_CONFUSABLE';

export class NameError extends VosError<{ code: NameErrorCode; name: string }> {
  constructor(code: NameErrorCode, name: string, message: string) {
    super({ code, name }, `invalid name "${name.slice(0, 80)}": ${message}`);
    this.name = 'NameError';
  }
}

const LABEL_RE = /^[a-z0-9-]+$/;

/** Scripts told apart (letters of any other script are refused as unsupported). */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Thai',
  'Lao',
  'Georgian',
  'Ethiopic',
  'Khmer',
  'Hangul',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
] as const;
type Script = (typeof SCRIPTS)[number];
const SCRIPT_RE = new Map<Script, RegExp>(SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')]));
const NEUTRAL_RE = /[\p{Script=Common}\p{Script=Inherited}]/u;

/** Script sets that may share one label (besides a single script). */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<Script>> = [
  new Set<Script>(['Han', 'Hiragana', 'Katakana']),
  new Set<Script>(['Han', 'Hangul']),
  new Set<Script>(['Han', 'Bopomofo']),
];

/**
 * Lower-case letters of other scripts that look like ASCII letters (a subset of Unicode's
 * confusables.txt for Cyrillic and Greek; names are lower case after IDNA mapping), and Latin
 * look-alikes of ASCII letters.
 */
const LOOKS_ASCII = new Set([
  // Cyrillic lower case: а с е һ і ј о р ѕ у х ԁ ԛ ԝ ӏ look like a c e h i j o p s y x d q w l
  ...'асеһіјорѕухԁԛԝӏ',
  // Greek lower case: α ι κ ν ο ρ υ χ look like a i k v o p u x
  ...'ικνορυχα',
]);
const LATIN_LOOKALIKES = new Set([...'ıɩɑɡʟɪʀꜱᴏᴄᴠᴡᴢƖǀ']);

function scriptOf(ch: string): Script | 'neutral' | 'other' {
  if (NEUTRAL_RE.test(ch)) return 'neutral';
  for (const [s, re] of SCRIPT_RE) if (re.test(ch)) return s;
  return 'other';
}

/** Check the Unicode form of an xn-- label: one script (or an allowed mix), not ASCII-confusable. */
function checkUnicode(label: string, unicode: string): void {
  const scripts = new Set<Script>();
  for (const ch of unicode) {
    const s = scriptOf(ch);
    if (s === 'other') throw new NameError('NAME_CHARACTERS', label, `"${ch}" is of an unsupported script`);
    if (s !== 'neutral') scripts.add(s);
  }
  if (scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.has(s)))) {
    throw new NameError('NAME_MIXED_SCRIPT', label, `mixes scripts (${[...scripts].join(', ')})`);
  }
  const letters = [...unicode].filter((ch) => scriptOf(ch) !== 'neutral');
  if (scripts.has('Latin')) {
    const bad = letters.find((ch) => LATIN_LOOKALIKES.has(ch));
    if (bad !== undefined)
      throw new NameError('NAME_CONFUSABLE', label, `"${bad}" looks like an ASCII letter`);
  } else if (letters.length > 0 && letters.every((ch) => LOOKS_ASCII.has(ch))) {
    throw new NameError('NAME_CONFUSABLE', label, `"${unicode}" can be mistaken for an ASCII name`);
  }
}

/** The canonical form of a name, or a NameError saying which rule it breaks. */
export function normalizeName(input: string): string {
  if (typeof input !== 'string' || input.length === 0)
    throw new NameError('NAME_EMPTY', String(input), 'empty');
  if (input.length > 4 * NAME_MAX)
    throw new NameError('NAME_LENGTH', input, `longer than ${NAME_MAX} characters`);
  let s = input.normalize('NFC').trim();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s.toLowerCase().endsWith('.vos')) s = s.slice(0, -4);
  if (s.includes('.')) throw new NameError('NAME_CHARACTERS', input, 'a name is a single label (no dots)');
  const ascii = /^[\x21-\x7e]*$/.test(s) ? s.toLowerCase() : domainToASCII(s);
  if (ascii === '') throw new NameError('NAME_CHARACTERS', input, 'not a valid label (IDNA refuses it)');
  if (ascii.length < NAME_MIN || ascii.length > NAME_MAX)
    throw new NameError('NAME_LENGTH', input, `${ascii.length} characters, must be ${NAME_MIN}-${NAME_MAX}`);
  if (!LABEL_RE.test(ascii))
    throw new NameError('NAME_CHARACTERS', input, 'only a-z, 0-9 and - are allowed (or an xn-- label)');
  if (ascii.startsWith('-') || ascii.endsWith('-'))
    throw new NameError('NAME_HYPHEN', input, 'must not start or end with -');
  if (ascii.slice(2, 4) === '--') {
    if (!ascii.startsWith('xn--'))
      throw new NameError('NAME_HYPHEN', input, '-- at positions 3-4 is reserved for xn-- labels');
    const unicode = domainToUnicode(ascii);
    if (unicode === '' || domainToASCII(unicode) !== ascii || !/[^\p{ASCII}]/u.test(unicode))
      throw new NameError('NAME_PUNYCODE', input, 'the punycode does not round-trip');
    checkUnicode(ascii, unicode);
  }
  return ascii;
}

/** normalizeName, or null when the input is not a valid name. */
export function tryNormalizeName(input: string): string | null {
  try {
    return normalizeName(input);
  } catch {
    return null;
  }
}

/** The Unicode display form of a canonical name (xn-- decoded). */
export function displayName(name: string): string {
  return name.startsWith('xn--') ? domainToUnicode(name) || name : name;
}
