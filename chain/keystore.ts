/**
 * Key file: scrypt + AES-256-GCM encrypted Ed25519 seed, or a plain seed explicitly marked insecure
 * (devnets, unattended local chains). Written with mode 0600.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { equalBytes, fromHex, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { PrivateKey } from './keys.js';

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;

export interface KeyFile {
  version: 1;
  address: string;
  publicKey: string;
  /** Present on plain key files: the seed is stored unencrypted. */
  insecure?: { reason: string; privateKey: string };
  crypto?: {
    kdf: 'scrypt';
    kdfparams: { n: number; r: number; p: number; salt: string };
    cipher: 'aes-256-gcm';
    iv: string;
    ciphertext: string;
    tag: string;
  };
}

export type KeystoreErrorCode =
  | 'KEY_FILE_UNREADABLE'
  | 'KEY_FILE_INVALID'
  | 'WRONG_PASSPHRASE'
  | 'PASSPHRASE_REQUIRED';
export class KeystoreError extends VosError<{ code: KeystoreErrorCode; file?: string }> {}

const SCRYPT = { n: 1 << 15, r: 8, p: 1 };
/** Bounds on the parameters a key file may ask for (ours: n 2^15, r 8, p 1 = 32 MiB, ~0.1 s). */
const SCRYPT_MAX = { n: 1 << 20, r: 32, p: 16 };
const SCRYPT_MAXMEM = 256 * 1024 * 1024;

export async function encryptKey(key: PrivateKey, passphrase: string): Promise<KeyFile> {
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const dk = await scrypt(passphrase, salt, 32, {
    N: SCRYPT.n,
    r: SCRYPT.r,
    p: SCRYPT.p,
    maxmem: SCRYPT_MAXMEM,
  });
  const cipher = createCipheriv('aes-256-gcm', dk, iv);
  const ciphertext = Buffer.concat([cipher.update(key.exportSeed()), cipher.final()]);
  return {
    version: 1,
    address: key.address.toString(),
    publicKey: toHex(key.publicKey),
    crypto: {
      kdf: 'scrypt',
      kdfparams: { ...SCRYPT, salt: toHex(salt) },
      cipher: 'aes-256-gcm',
      iv: toHex(iv),
      ciphertext: toHex(ciphertext),
      tag: toHex(cipher.getAuthTag()),
    },
  };
}

export function plainKeyFile(key: PrivateKey, reason: string): KeyFile {
  return {
    version: 1,
    address: key.address.toString(),
    publicKey: toHex(key.publicKey),
    insecure: { reason, privateKey: toHex(key.exportSeed()) },
  };
}

export async function decryptKeyFile(
  file: KeyFile,
  passphrase: string | undefined,
  path = 'key file',
): Promise<PrivateKey> {
  const invalid = (msg: string) =>
    new KeystoreError({ code: 'KEY_FILE_INVALID', file: path }, `${path}: ${msg}`);
  if (file?.version !== 1) throw invalid('unsupported version');
  let key: PrivateKey;
  if (file.insecure !== undefined) {
    try {
      key = PrivateKey.fromSeed(fromHex(file.insecure.privateKey, 32));
    } catch {
      throw invalid('bad privateKey');
    }
  } else if (file.crypto !== undefined) {
    if (passphrase === undefined) {
      throw new KeystoreError(
        { code: 'PASSPHRASE_REQUIRED', file: path },
        `${path} is encrypted: set VOS_PASSPHRASE`,
      );
    }
    const c = checkCrypto(file.crypto, invalid);
    let seed: Buffer;
    try {
      const dk = await scrypt(passphrase, c.salt, 32, { N: c.n, r: c.r, p: c.p, maxmem: SCRYPT_MAXMEM });
      const d = createDecipheriv('aes-256-gcm', dk, c.iv);
      d.setAuthTag(c.tag);
      seed = Buffer.concat([d.update(c.ciphertext), d.final()]);
    } catch {
      throw new KeystoreError(
        { code: 'WRONG_PASSPHRASE', file: path },
        `${path}: wrong passphrase or corrupted file`,
      );
    }
    key = PrivateKey.fromSeed(new Uint8Array(seed));
  } else {
    throw invalid('neither crypto nor insecure section');
  }
  if (key.address.toString() !== file.address) throw invalid('address does not match the key');
  let publicKey: Uint8Array | undefined;
  try {
    publicKey = fromHex(file.publicKey);
  } catch {}
  if (publicKey === undefined || !equalBytes(publicKey, key.publicKey))
    throw invalid('publicKey does not match the key');
  return key;
}

/**
 * The crypto section's shape and bounds, checked before the KDF runs: a corrupted or hostile file is
 * reported as invalid (not as a wrong passphrase) and cannot make scrypt run for hours (p) or try to
 * take gigabytes (n, r).
 */
function checkCrypto(c: unknown, invalid: (msg: string) => KeystoreError) {
  const o = (c ?? {}) as Partial<NonNullable<KeyFile['crypto']>>;
  if (o.kdf !== 'scrypt' || o.cipher !== 'aes-256-gcm') throw invalid('unsupported kdf or cipher');
  const { n, r, p } = (o.kdfparams ?? {}) as Partial<NonNullable<KeyFile['crypto']>['kdfparams']>;
  const int = (v: unknown, max: number): v is number =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
  if (!int(n, SCRYPT_MAX.n) || n < 2 || (n & (n - 1)) !== 0)
    throw invalid(`scrypt n must be a power of two up to ${SCRYPT_MAX.n}`);
  if (!int(r, SCRYPT_MAX.r)) throw invalid(`scrypt r must be 1..${SCRYPT_MAX.r}`);
  if (!int(p, SCRYPT_MAX.p)) throw invalid(`scrypt p must be 1..${SCRYPT_MAX.p}`);
  if (128 * n * r > SCRYPT_MAXMEM / 2) throw invalid('scrypt n x r needs too much memory');
  const hex = (v: unknown, name: string, min: number, max = min) => {
    let b: Uint8Array;
    try {
      b = fromHex(v as string);
    } catch {
      throw invalid(`${name} is not hex`);
    }
    if (b.length < min || b.length > max)
      throw invalid(`${name} must be ${min === max ? min : `${min}..${max}`} bytes`);
    return Buffer.from(b);
  };
  return {
    n,
    r,
    p,
    salt: hex(o.kdfparams?.salt, 'salt', 16, 64),
    iv: hex(o.iv, 'iv', 12),
    tag: hex(o.tag, 'tag', 16),
    ciphertext: hex(o.ciphertext, 'ciphertext', 32),
  };
}

export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}

export async function readKeyFile(path: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KeystoreError(
      { code: 'KEY_FILE_UNREADABLE', file: path },
      `cannot read ${path}: ${(err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as KeyFile;
  } catch {
    throw new KeystoreError({ code: 'KEY_FILE_INVALID', file: path }, `${path} is not valid JSON`);
  }
}

export async function loadKey(path: string, passphrase = process.env.VOS_PASSPHRASE): Promise<PrivateKey> {
  return decryptKeyFile(await readKeyFile(path), passphrase, path);
}
