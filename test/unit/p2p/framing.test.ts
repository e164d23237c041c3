/** Length-prefixed framing: frames across any chunking, the limit checked before buffering, cut-off ends. */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameError, frame, readFrames } from '../../../p2p/framing.js';
import { PeerAction } from '../../../util/errors.js';
import { propertyParams } from '../../fc-params.js';

async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (c <= at || c >= bytes.length) continue;
    yield bytes.subarray(at, c);
    at = c;
  }
  yield bytes.subarray(at);
}

async function collect(src: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const f of readFrames(src, max)) out.push(Uint8Array.from(f));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

describe('framing', () => {
  it('yields the frames whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(3000), { maxLength: 40 }),
        async (payloads, cuts) => {
          const wire = concat(payloads.map(frame));
          if (wire.length === 0) return;
          expect(await collect(chunked(wire, cuts), 300)).toEqual(payloads);
        },
      ),
      propertyParams('framing chunking', 200),
    );
  });

  it('a 4 MiB frame in 1,024 chunks', async () => {
    const payload = Uint8Array.from({ length: 4 << 20 }, (_, i) => i & 0xff);
    const wire = frame(payload);
    const cuts = Array.from({ length: 1023 }, (_, i) => (i + 1) * 4096);
    const [got] = await collect(chunked(wire, cuts), 4 << 20);
    expect(Buffer.compare(got, payload)).toBe(0);
  });

  it('refuses an oversize frame as soon as its length is read, before any payload', async () => {
    const header = frame(new Uint8Array(0));
    new DataView(header.buffer).setUint32(0, 64 * 1024 * 1024);
    async function* src(): AsyncGenerator<Uint8Array> {
      yield header;
      await new Promise(() => undefined); // a reader that waited for the payload would hang here
    }
    const err = await collect(src(), 1024).catch((e) => e);
    expect(err).toBeInstanceOf(FrameError);
    expect(err.type).toEqual({ code: 'FRAME_TOO_LARGE', size: 64 * 1024 * 1024 });
    expect(err.peerAction).toBe(PeerAction.Reject);
  });

  it('a stream that ends inside a frame is a protocol error, not a silent end', async () => {
    const wire = concat([frame(Uint8Array.of(1, 2, 3)), frame(new Uint8Array(100)).subarray(0, 50)]);
    const got: Uint8Array[] = [];
    const err = await (async () => {
      for await (const f of readFrames(chunked(wire, [3, 9]), 1024)) got.push(Uint8Array.from(f));
    })().catch((e) => e);
    expect(got).toEqual([Uint8Array.of(1, 2, 3)]);
    expect(err).toBeInstanceOf(FrameError);
    expect(err.code).toBe('FRAME_TRUNCATED');
  });
});
