/** The key file: scrypt + AES-256-GCM round trip, refusals with clear codes, the plain devnet format, 0600. */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../chain/keys.js';
import {
  decryptKeyFile,
  encryptKey,
  type KeyFile,
  loadKey,
  plainKeyFile,
  readKeyFile,
  writeKeyFile,
} from '../../../chain/keystore.js';
import { toHex } from '../../../util/bytes.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(42));
const PASS = 'correct horse battery staple';
let dir: string;
let encrypted: KeyFile;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vos-keystore-'));
  encrypted = await encryptKey(key, PASS);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A deep copy with one change. */
function tampered(edit: (f: KeyFile & { crypto: NonNullable<KeyFile['crypto']> }) => void): KeyFile {
  const f = structuredClone(encrypted) as KeyFile & { crypto: NonNullable<KeyFile['crypto']> };
  edit(f);
  return f;
}

function flipHex(hex: string): string {
  const last = hex.at(-1) === '0' ? '1' : '0';
  return hex.slice(0, -1) + last;
}

async function refusal(p: Promise<unknown>) {
  return p.then(
    () => {
      throw new Error('accepted');
    },
    (err: unknown) => err as Error & { code: string },
  );
}

describe('encrypted key file', () => {
  it('round-trips with the passphrase and holds no plain seed', async () => {
    const back = await decryptKeyFile(encrypted, PASS);
    expect(back.exportSeed()).toEqual(key.exportSeed());
    expect(encrypted).toMatchObject({
      version: 1,
      address: key.address.toString(),
      publicKey: toHex(key.publicKey),
      crypto: { kdf: 'scrypt', cipher: 'aes-256-gcm' },
    });
    expect(encrypted.insecure).toBeUndefined();
    const text = JSON.stringify(encrypted);
    expect(text).not.toContain(toHex(key.exportSeed()).slice(2));
  });

  it('uses a fresh salt and iv each time', async () => {
    const again = await encryptKey(key, PASS);
    expect(again.crypto?.kdfparams.salt).not.toBe(encrypted.crypto?.kdfparams.salt);
    expect(again.crypto?.iv).not.toBe(encrypted.crypto?.iv);
    expect(again.crypto?.ciphertext).not.toBe(encrypted.crypto?.ciphertext);
  });

  it('refuses a wrong passphrase with a clear error naming the file', async () => {
    const err = await refusal(decryptKeyFile(encrypted, 'wrong', '/keys/node.json'));
    expect(err.code).toBe('WRONG_PASSPHRASE');
    expect(err.message).toBe('/keys/node.json: wrong passphrase or corrupted file');
  });

  it('asks for a passphrase when none is given', async () => {
    const err = await refusal(decryptKeyFile(encrypted, undefined, 'k.json'));
    expect(err.code).toBe('PASSPHRASE_REQUIRED');
    expect(err.message).toMatch(/VOS_PASSPHRASE/);
  });

  it.each([
    [
      'ciphertext',
      (f: Parameters<Parameters<typeof tampered>[0]>[0]) =>
        (f.crypto.ciphertext = flipHex(f.crypto.ciphertext)),
    ],
    ['tag', (f: Parameters<Parameters<typeof tampered>[0]>[0]) => (f.crypto.tag = flipHex(f.crypto.tag))],
    ['iv', (f: Parameters<Parameters<typeof tampered>[0]>[0]) => (f.crypto.iv = flipHex(f.crypto.iv))],
    [
      'salt',
      (f: Parameters<Parameters<typeof tampered>[0]>[0]) =>
        (f.crypto.kdfparams.salt = flipHex(f.crypto.kdfparams.salt)),
    ],
  ])('refuses a file whose %s was changed (authenticated encryption)', async (_name, edit) => {
    const err = await refusal(decryptKeyFile(tampered(edit), PASS));
    expect(err.code).toBe('WRONG_PASSPHRASE');
  });

  it('refuses a file whose address or public key is not the key inside', async () => {
    const other = PrivateKey.fromSeed(new Uint8Array(32).fill(7));
    const wrongAddress = tampered((f) => {
      f.address = other.address.toString();
    });
    expect(await refusal(decryptKeyFile(wrongAddress, PASS))).toMatchObject({
      code: 'KEY_FILE_INVALID',
      message: expect.stringMatching(/address does not match/),
    });
    const wrongPub = tampered((f) => {
      f.publicKey = toHex(other.publicKey);
    });
    expect(await refusal(decryptKeyFile(wrongPub, PASS))).toMatchObject({
      code: 'KEY_FILE_INVALID',
      message: expect.stringMatching(/publicKey does not match/),
    });
  });

  it('reports malformed or out-of-bounds crypto parameters as an invalid file, before running scrypt', async () => {
    const cases: [string, (f: Parameters<Parameters<typeof tampered>[0]>[0]) => void, RegExp][] = [
      ['n not a power of two', (f) => (f.crypto.kdfparams.n = 3000), /power of two/],
      ['n too large', (f) => (f.crypto.kdfparams.n = 2 ** 24), /power of two up to/],
      ['p too large', (f) => (f.crypto.kdfparams.p = 17), /p must be/],
      ['r not an integer', (f) => (f.crypto.kdfparams.r = 1.5), /r must be/],
      ['salt not hex', (f) => (f.crypto.kdfparams.salt = 'zz'), /salt is not hex/],
      ['iv of the wrong length', (f) => (f.crypto.iv = `${f.crypto.iv}00`), /iv must be 12 bytes/],
      [
        'ciphertext of the wrong length',
        (f) => (f.crypto.ciphertext = f.crypto.ciphertext.slice(0, -2)),
        /ciphertext must be 32 bytes/,
      ],
      [
        'another cipher',
        (f) => ((f.crypto as { cipher: string }).cipher = 'aes-128-cbc'),
        /unsupported kdf or cipher/,
      ],
    ];
    for (const [name, edit, msg] of cases) {
      const err = await refusal(decryptKeyFile(tampered(edit), PASS, 'k.json'));
      expect({ name, code: err.code, ok: msg.test(err.message) }).toEqual({
        name,
        code: 'KEY_FILE_INVALID',
        ok: true,
      });
    }
  });

  it('refuses an unknown version or a file with neither section', async () => {
    expect(await refusal(decryptKeyFile({ ...encrypted, version: 2 as 1 }, PASS))).toMatchObject({
      code: 'KEY_FILE_INVALID',
    });
    const { crypto: _c, ...bare } = encrypted;
    expect(await refusal(decryptKeyFile(bare, PASS))).toMatchObject({
      code: 'KEY_FILE_INVALID',
      message: expect.stringMatching(/neither crypto nor insecure/),
    });
  });
});

describe('plain (devnet) key file', () => {
  it('marks itself insecure with its reason and loads without a passphrase', async () => {
    const f = plainKeyFile(key, 'devnet');
    expect(f.insecure?.reason).toBe('devnet');
    expect(f.crypto).toBeUndefined();
    expect((await decryptKeyFile(f, undefined)).address.equals(key.address)).toBe(true);
  });

  it('refuses a bad seed', async () => {
    const f = plainKeyFile(key, 'devnet');
    f.insecure = { reason: 'devnet', privateKey: '0x1234' };
    expect(await refusal(decryptKeyFile(f, undefined))).toMatchObject({ code: 'KEY_FILE_INVALID' });
  });
});

describe('key files on disk', () => {
  it('writes mode 0600, never overwrites, and loads back', async () => {
    const path = join(dir, 'node.json');
    await writeKeyFile(path, encrypted);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expect(writeKeyFile(path, plainKeyFile(key, 'x'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect((await loadKey(path, PASS)).address.equals(key.address)).toBe(true);
    expect(await readKeyFile(path)).toEqual(encrypted);
  });

  it('reports a missing file and a file that is not JSON', async () => {
    expect(await refusal(readKeyFile(join(dir, 'missing.json')))).toMatchObject({
      code: 'KEY_FILE_UNREADABLE',
    });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{not json');
    expect(await refusal(loadKey(bad, PASS))).toMatchObject({
      code: 'KEY_FILE_INVALID',
      message: `${bad} is not valid JSON`,
    });
  });
});
