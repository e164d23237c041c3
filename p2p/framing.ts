/**
 * Length-prefixed frames on a libp2p stream: u32 big-endian length, then the payload. A frame above
 * the protocol's limit is a protocol violation (the caller penalises the peer and closes the stream).
 *
 * PERF: reading is linear in the bytes received: `it-length-prefixed` keeps the received chunks in a
 * list (Uint8ArrayList) and copies a frame's bytes once, when the frame is complete (the previous
 * reader concatenated the whole buffer on every chunk: quadratic for a frame of many chunks). The
 * length is checked against the limit as soon as its 4 bytes are in, before any payload is buffered.
 */
import type { Stream } from '@libp2p/interface';
import { decode, type LengthDecoderFunction } from 'it-length-prefixed';
import { PeerAction, VosError } from '../util/errors.js';

export class FrameError extends VosError<{ code: 'FRAME_TOO_LARGE' | 'FRAME_TRUNCATED'; size: number }> {}

const PREFIX = 4;
type Uint8ArrayList = Parameters<LengthDecoderFunction>[0];

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREFIX + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, PREFIX);
  return out;
}

/** Input: a libp2p stream, or any source of chunks (tests). */
type Source = Stream | AsyncIterable<Uint8Array | { subarray(): Uint8Array }>;

/** Yields the frames of `stream`; throws FrameError on an oversize frame or a cut-off last frame. */
export async function* readFrames(stream: Source, maxBytes: number): AsyncGenerator<Uint8Array> {
  let declared = 0;
  // Called on the buffered chunks; a RangeError means "not enough bytes yet".
  const u32: LengthDecoderFunction = Object.assign(
    (buf: Uint8ArrayList) => {
      if (buf.byteLength < PREFIX) throw new RangeError('short length prefix');
      declared = buf.getUint32(0);
      return declared;
    },
    { bytes: PREFIX },
  );
  const frames = decode(stream as AsyncIterable<Uint8Array>, {
    lengthDecoder: u32,
    maxDataLength: maxBytes,
    maxLengthLength: PREFIX,
  });
  try {
    for await (const f of frames) yield f.subarray();
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'InvalidDataLengthError')
      throw new FrameError({ code: 'FRAME_TOO_LARGE', size: declared }, `frame of ${declared} bytes`, {
        peerAction: PeerAction.Reject,
      });
    if (name === 'UnexpectedEOFError')
      throw new FrameError({ code: 'FRAME_TRUNCATED', size: declared }, 'stream ended inside a frame', {
        peerAction: PeerAction.Reject,
      });
    throw err;
  }
}

/** Writes one frame, waiting (up to `timeoutMs`) for the stream to drain when its buffer is full. */
export async function sendFrame(stream: Stream, payload: Uint8Array, timeoutMs: number): Promise<void> {
  if (!stream.send(frame(payload))) await stream.onDrain({ signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * Reads exactly one frame from the head of a stream and puts back (`unshift`) the bytes after it, so
 * the stream can go on carrying raw bytes (a handshake, then an app's stream). Undefined when the
 * stream ends first; FrameError above `maxBytes`; FrameError FRAME_TRUNCATED after `timeoutMs`.
 */
export function readFrame(
  stream: Stream,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(0);
    const done = (err: Error | null, value?: Uint8Array) => {
      clearTimeout(timer);
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('close', onEnd);
      stream.removeEventListener('remoteCloseWrite', onEnd);
      if (err !== null) reject(err);
      else resolve(value);
    };
    const onMessage = (evt: { data: Uint8Array | { subarray(): Uint8Array } }) => {
      const chunk = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
      const joined = new Uint8Array(buf.length + chunk.length);
      joined.set(buf);
      joined.set(chunk, buf.length);
      buf = joined;
      if (buf.length < PREFIX) return;
      const size = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
      if (size > maxBytes)
        return done(
          new FrameError({ code: 'FRAME_TOO_LARGE', size }, `frame of ${size} bytes`, {
            peerAction: PeerAction.Reject,
          }),
        );
      if (buf.length < PREFIX + size) return;
      const rest = buf.subarray(PREFIX + size);
      done(null, buf.slice(PREFIX, PREFIX + size));
      if (rest.length > 0) stream.unshift(rest);
    };
    const onEnd = () => done(null, undefined);
    const timer = setTimeout(
      () =>
        done(
          new FrameError({ code: 'FRAME_TRUNCATED', size: buf.length }, `no whole frame in ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    stream.addEventListener('message', onMessage as never);
    stream.addEventListener('close', onEnd);
    stream.addEventListener('remoteCloseWrite', onEnd);
  });
}
