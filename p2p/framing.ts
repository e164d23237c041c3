/**
 * Length-prefixed frames on a libp2p stream: u32 big-endian length, then the payload. A frame above
 * the protocol's limit is a protocol violation (the caller penalises the peer and closes the stream).
 */
import type { Stream } from '@libp2p/interface';
import { PeerAction, VosError } from '../util/errors.js';

export class FrameError extends VosError<{ code: 'FRAME_TOO_LARGE'; size: number }> {}

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Yields the frames of `stream`; throws FrameError on an oversize frame. */
export async function* readFrames(stream: Stream, maxBytes: number): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    buf = buf.length === 0 ? bytes : Buffer.concat([buf, bytes]);
    for (;;) {
      if (buf.length < 4) break;
      const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (len > maxBytes)
        throw new FrameError({ code: 'FRAME_TOO_LARGE', size: len }, `frame of ${len} bytes`, {
          peerAction: PeerAction.Reject,
        });
      if (buf.length < 4 + len) break;
      yield buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
    }
  }
}
