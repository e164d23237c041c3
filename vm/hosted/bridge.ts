/**
 * The synchronous bridge between a hosted app's worker and the node's thread. A host call that needs
 * the node (a chain read, distributed storage, a message, a search) posts a request and blocks on
 * Atomics.wait; the node does the async work, writes the answer into the shared buffer and notifies.
 *
 *   ctl[0]  0 idle · 1 answered with bytes · 2 answered null · 3 failed (the bytes are the message)
 *   ctl[1]  the answer's length; data: the answer (at most ANSWER_BYTES)
 */
export const ANSWER_BYTES = 1024 * 1024 + 64 * 1024;

export interface BridgeBuffers {
  ctl: Int32Array;
  data: Uint8Array;
}

export function newBridge(): { sab: SharedArrayBuffer; buffers: BridgeBuffers } {
  const sab = new SharedArrayBuffer(8 + ANSWER_BYTES);
  return { sab, buffers: buffersOf(sab) };
}

export function buffersOf(sab: SharedArrayBuffer): BridgeBuffers {
  return { ctl: new Int32Array(sab, 0, 2), data: new Uint8Array(sab, 8) };
}

/** Node side: write the answer and wake the worker. */
export function answer(b: BridgeBuffers, value: Uint8Array | null | Error): void {
  let state = 1;
  let bytes: Uint8Array = new Uint8Array(0);
  if (value === null) state = 2;
  else if (value instanceof Error) {
    state = 3;
    bytes = Buffer.from(value.message.slice(0, 500), 'utf8');
  } else if (value.length > ANSWER_BYTES) {
    state = 3;
    bytes = Buffer.from(`an answer of ${value.length} bytes (at most ${ANSWER_BYTES})`, 'utf8');
  } else bytes = value;
  b.data.set(bytes);
  Atomics.store(b.ctl, 1, bytes.length);
  Atomics.store(b.ctl, 0, state);
  Atomics.notify(b.ctl, 0);
}

/** Worker side: block until answered (the node's timer terminates a worker that waits too long). */
export function awaitAnswer(b: BridgeBuffers): Uint8Array | null {
  Atomics.wait(b.ctl, 0, 0);
  const state = Atomics.load(b.ctl, 0);
  const len = Atomics.load(b.ctl, 1);
  const bytes = Uint8Array.from(b.data.subarray(0, len));
  Atomics.store(b.ctl, 0, 0);
  if (state === 2) return null;
  if (state === 3) throw new Error(Buffer.from(bytes).toString('utf8'));
  return bytes;
}
