/**
 * Double-sign protection (CometBFT's "last sign state"). Before a signature leaves the guard, the
 * (height, round, step, sign bytes, signature) it covers is written to disk atomically (temp file,
 * fsync, rename, fsync dir). The guard refuses to sign at a lower (height, round, step) and, at the same
 * one, anything but the identical bytes (for which it returns the stored signature). A corrupt state
 * file is a hard error: never silently reset, an operator must decide.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { equalBytes, fromHex, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { syncDir } from './wal.js';

export interface Hrs {
  height: number;
  round: number;
  /** 1 propose, 2 prevote, 3 precommit */
  step: number;
}

export interface LastSigned extends Hrs {
  signBytes: Uint8Array;
  signature: Uint8Array;
}

export type SignerGuardErrorCode = 'SIGN_REGRESSION' | 'DOUBLE_SIGN_REFUSED' | 'SIGNER_STATE_CORRUPT';
export class SignerGuardError extends VosError<{ code: SignerGuardErrorCode } & Partial<Hrs>> {}

export function compareHrs(a: Hrs, b: Hrs): number {
  return a.height - b.height || a.round - b.round || a.step - b.step;
}

/**
 * The guard's rule, pure (also used by the simulator's in-memory guard): 'sign' when (hrs) is past the
 * last signed step, 'reuse' for the identical bytes at the same step; throws for anything else.
 */
export function checkSignRequest(
  last: { height: number; round: number; step: number; signBytes: Uint8Array } | null,
  hrs: Hrs,
  signBytes: Uint8Array,
): 'sign' | 'reuse' {
  if (last === null) return 'sign';
  const c = compareHrs(hrs, last);
  if (c < 0) {
    throw new SignerGuardError(
      { code: 'SIGN_REGRESSION', ...hrs },
      `refusing to sign ${fmt(hrs)}: already signed at ${fmt(last)}`,
    );
  }
  if (c > 0) return 'sign';
  if (equalBytes(signBytes, last.signBytes)) return 'reuse';
  throw new SignerGuardError(
    { code: 'DOUBLE_SIGN_REFUSED', ...hrs },
    `refusing to sign different bytes at ${fmt(hrs)} (double sign)`,
  );
}

export class SignerGuard {
  readonly file: string;
  #last: LastSigned | null;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(file: string, last: LastSigned | null) {
    this.file = file;
    this.#last = last;
  }

  static async open(file: string): Promise<SignerGuard> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new SignerGuard(file, null);
      throw err;
    }
    return new SignerGuard(file, parseState(text, file));
  }

  get lastSigned(): LastSigned | null {
    return this.#last;
  }

  sign(hrs: Hrs, signBytes: Uint8Array, signFn: (bytes: Uint8Array) => Uint8Array): Promise<Uint8Array> {
    const run = this.#chain.then(() => this.#sign(hrs, signBytes, signFn));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #sign(
    hrs: Hrs,
    signBytes: Uint8Array,
    signFn: (bytes: Uint8Array) => Uint8Array,
  ): Promise<Uint8Array> {
    const last = this.#last;
    if (checkSignRequest(last, hrs, signBytes) === 'reuse') return last!.signature;
    const signature = signFn(signBytes);
    const next: LastSigned = { ...hrs, signBytes: Uint8Array.from(signBytes), signature };
    await this.#persist(next);
    this.#last = next;
    return signature;
  }

  async #persist(s: LastSigned): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const body = JSON.stringify({
      height: s.height,
      round: s.round,
      step: s.step,
      signBytes: toHex(s.signBytes),
      signature: toHex(s.signature),
    });
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${body}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    await syncDir(dirname(this.file));
  }
}

function fmt(h: Hrs): string {
  return `height ${h.height} round ${h.round} step ${h.step}`;
}

function parseState(text: string, file: string): LastSigned {
  const corrupt = (why: string) =>
    new SignerGuardError(
      { code: 'SIGNER_STATE_CORRUPT' },
      `signer state ${file} is corrupt (${why}); refusing to sign. Restore it, or delete it only if you are sure this key never signed at a later height`,
    );
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  const int = (k: string, min: number) => {
    const v = j[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw corrupt(`bad ${k}`);
    return v;
  };
  try {
    return {
      height: int('height', 0),
      round: int('round', 0),
      step: int('step', 1),
      signBytes: fromHex(String(j.signBytes)),
      signature: fromHex(String(j.signature), 64),
    };
  } catch (err) {
    if (err instanceof SignerGuardError) throw err;
    throw corrupt('bad bytes');
  }
}
