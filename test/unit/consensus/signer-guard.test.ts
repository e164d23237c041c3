import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PrivateKey } from '../../../chain/keys.js';
import { SignerGuard } from '../../../consensus/signer-guard.js';
import { equalBytes, utf8 } from '../../../util/bytes.js';
import { propertyParams } from '../../fc-params.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(3));
let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vos-guard-'));
  file = join(dir, 'signer-state.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('signer guard', () => {
  it('re-signing identical bytes returns the stored signature without signing again', async () => {
    const g = await SignerGuard.open(file);
    const sig = await g.sign({ height: 5, round: 0, step: 2 }, utf8('vote-a'), (b) => key.sign(b));
    let calls = 0;
    const again = await g.sign({ height: 5, round: 0, step: 2 }, utf8('vote-a'), (b) => {
      calls++;
      return key.sign(b);
    });
    expect(calls).toBe(0);
    expect(equalBytes(sig, again)).toBe(true);
  });

  it('refuses conflicting bytes at the same step and any lower step', async () => {
    const g = await SignerGuard.open(file);
    await g.sign({ height: 5, round: 1, step: 2 }, utf8('a'), (b) => key.sign(b));
    await expect(g.sign({ height: 5, round: 1, step: 2 }, utf8('b'), (b) => key.sign(b))).rejects.toThrow(
      'double sign',
    );
    await expect(g.sign({ height: 5, round: 0, step: 3 }, utf8('c'), (b) => key.sign(b))).rejects.toThrow(
      'refusing to sign',
    );
    await expect(g.sign({ height: 4, round: 9, step: 3 }, utf8('d'), (b) => key.sign(b))).rejects.toThrow(
      'refusing to sign',
    );
    await g.sign({ height: 5, round: 1, step: 3 }, utf8('e'), (b) => key.sign(b));
  });

  it('survives a restart: no double sign after reopening', async () => {
    const g = await SignerGuard.open(file);
    await g.sign({ height: 7, round: 2, step: 3 }, utf8('precommit-x'), (b) => key.sign(b));
    const g2 = await SignerGuard.open(file);
    await expect(
      g2.sign({ height: 7, round: 2, step: 3 }, utf8('precommit-y'), (b) => key.sign(b)),
    ).rejects.toThrow('double sign');
    await expect(
      g2.sign({ height: 7, round: 2, step: 2 }, utf8('prevote'), (b) => key.sign(b)),
    ).rejects.toThrow();
    expect(g2.lastSigned?.height).toBe(7);
  });

  it('a corrupt state file is a hard error', async () => {
    await writeFile(file, '{"height": "x"');
    await expect(SignerGuard.open(file)).rejects.toThrow('corrupt');
  });

  it('concurrent sign calls are serialised (exactly one of two conflicting calls wins)', async () => {
    const g = await SignerGuard.open(file);
    const hrs = { height: 1, round: 0, step: 2 };
    const results = await Promise.allSettled([
      g.sign(hrs, utf8('one'), (b) => key.sign(b)),
      g.sign(hrs, utf8('two'), (b) => key.sign(b)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
  });

  it('never signs two different bytes at one step, nor backwards, across random restarts', async () => {
    const step = fc.record({
      height: fc.integer({ min: 1, max: 4 }),
      round: fc.integer({ min: 0, max: 2 }),
      step: fc.integer({ min: 1, max: 3 }),
      payload: fc.constantFrom('x', 'y'),
      restart: fc.boolean(),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (ops) => {
        const f = join(dir, `p-${run++}.json`);
        let g = await SignerGuard.open(f);
        const signed = new Map<string, string>();
        let max = [0, 0, 0];
        for (const op of ops) {
          if (op.restart) g = await SignerGuard.open(f);
          const id = `${op.height}/${op.round}/${op.step}`;
          try {
            await g.sign(op, utf8(op.payload), (b) => key.sign(b));
            const prev = signed.get(id);
            expect(prev === undefined || prev === op.payload).toBe(true);
            const cur = [op.height, op.round, op.step];
            const cmp = cur[0] - max[0] || cur[1] - max[1] || cur[2] - max[2];
            expect(cmp).toBeGreaterThanOrEqual(0);
            max = cur;
            signed.set(id, op.payload);
          } catch (err) {
            expect(String(err)).toMatch(/refusing/);
          }
        }
      }),
      propertyParams('signer guard never double signs', 200),
    );
  });
});
