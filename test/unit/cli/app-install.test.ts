/** `vos app install` reads the published module within MAX_DEPLOY_BYTES and stops reading past it. */
import { describe, expect, it } from '@jest/globals';
import { MAX_TX_BYTES } from '../../../chain/tx/tx.js';
import { readCode } from '../../../cli/commands/app.js';

const MAX_DEPLOY_BYTES = MAX_TX_BYTES - 512;

describe('app install download', () => {
  it('reads a module that fits', async () => {
    const code = new Uint8Array(1000).fill(3);
    expect(await readCode(new Response(code), 'bafy')).toEqual(code);
  });

  it('stops reading an endless body past MAX_DEPLOY_BYTES', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 4096;
        c.enqueue(new Uint8Array(4096));
      },
    });
    const err = await readCode(new Response(body), 'bafy').catch((e) => e);
    expect(err).toMatchObject({ code: 'TOO_LARGE' });
    expect(err.message).toBe(
      `bafy is over ${MAX_DEPLOY_BYTES} bytes: one deploy tx carries at most ${MAX_DEPLOY_BYTES} bytes of code`,
    );
    expect(pulled).toBeLessThan(MAX_DEPLOY_BYTES + 3 * 4096);
  });

  it('refuses a declared length over the limit before reading', async () => {
    const res = new Response(new Uint8Array(10), {
      headers: { 'content-length': String(MAX_DEPLOY_BYTES + 1) },
    });
    await expect(readCode(res, 'bafy')).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });
});
