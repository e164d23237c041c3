/**
 * Reed-Solomon k-of-n over an object's (encrypted) bytes with `@ronomon/reed-solomon` (a prebuilt x86-64
 * binding; it encodes RS(4,4) at GB/s here, `npm run bench -- storage`): k data shards of equal size
 * (a multiple of 8 bytes, the tail zero-padded) and m parity shards; any k of the k + m rebuild all.
 */
import { createRequire } from 'node:module';
import { VosError } from '../../util/errors.js';

interface ReedSolomonBinding {
  MAX_K: number;
  MAX_M: number;
  create(k: number, m: number): unknown;
  encode(
    ctx: unknown,
    sources: number,
    targets: number,
    buffer: Buffer,
    bufferOffset: number,
    bufferSize: number,
    parity: Buffer,
    parityOffset: number,
    paritySize: number,
    cb: (err: Error | undefined) => void,
  ): void;
}

const RS = createRequire(import.meta.url)('@ronomon/reed-solomon') as ReedSolomonBinding;

export type ErasureErrorCode = 'NOT_ENOUGH_SHARDS' | 'INVALID_SHARDS' | 'INVALID_PARAMS';
export class ErasureError extends VosError<{ code: ErasureErrorCode }> {}

const contexts = new Map<string, unknown>();
function context(k: number, m: number): unknown {
  if (
    !Number.isInteger(k) ||
    !Number.isInteger(m) ||
    k < 1 ||
    m < 1 ||
    k > RS.MAX_K ||
    m > RS.MAX_M ||
    k + m > 31
  )
    throw new ErasureError(
      { code: 'INVALID_PARAMS' },
      `k and m must be 1..${RS.MAX_K} and 1..${RS.MAX_M} (k + m <= 31)`,
    );
  const key = `${k}/${m}`;
  let c = contexts.get(key);
  if (c === undefined) {
    c = RS.create(k, m);
    contexts.set(key, c);
  }
  return c;
}

/** The shard size for `length` bytes in k shards: ceil(length / k) rounded up to 8 (at least 8). */
export function shardSizeFor(length: number, k: number): number {
  return Math.max(8, Math.ceil(Math.ceil(length / k) / 8) * 8);
}

function run(
  k: number,
  m: number,
  sources: number,
  targets: number,
  data: Buffer,
  parity: Buffer,
): Promise<void> {
  return new Promise((resolve, reject) =>
    RS.encode(context(k, m), sources, targets, data, 0, data.length, parity, 0, parity.length, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/** k data shards then m parity shards. */
export async function encodeShards(bytes: Uint8Array, k: number, m: number): Promise<Buffer[]> {
  context(k, m);
  const size = shardSizeFor(bytes.length, k);
  // PERF: no zeroing of what is overwritten (the bytes; parity is all targets); only the tail pad.
  const data = Buffer.allocUnsafe(size * k);
  data.set(bytes);
  data.fill(0, bytes.length);
  const parity = Buffer.allocUnsafe(size * m);
  let sources = 0;
  for (let i = 0; i < k; i++) sources |= 1 << i;
  let targets = 0;
  for (let i = k; i < k + m; i++) targets |= 1 << i;
  await run(k, m, sources, targets, data, parity);
  const out: Buffer[] = [];
  for (let i = 0; i < k; i++) out.push(data.subarray(i * size, (i + 1) * size));
  for (let i = 0; i < m; i++) out.push(parity.subarray(i * size, (i + 1) * size));
  return out;
}

/**
 * All k + m shards from any k of them (null = missing): what repair places again. Fewer than k present
 * is NOT_ENOUGH_SHARDS; shards of different sizes are INVALID_SHARDS.
 */
export async function reconstructShards(
  shards: (Uint8Array | null)[],
  k: number,
  m: number,
): Promise<Buffer[]> {
  context(k, m);
  if (shards.length !== k + m)
    throw new ErasureError({ code: 'INVALID_SHARDS' }, `expected ${k + m} shard slots, got ${shards.length}`);
  const present = shards.filter((s): s is Uint8Array => s !== null);
  if (present.length < k)
    throw new ErasureError(
      { code: 'NOT_ENOUGH_SHARDS' },
      `${present.length} of ${k + m} shards available; ${k} are needed to rebuild the object`,
    );
  const size = present[0].length;
  if (size % 8 !== 0 || present.some((s) => s.length !== size))
    throw new ErasureError(
      { code: 'INVALID_SHARDS' },
      'shards differ in size or are not a multiple of 8 bytes',
    );
  const data = Buffer.alloc(size * k);
  const parity = Buffer.alloc(size * m);
  let sources = 0;
  let targets = 0;
  shards.forEach((s, i) => {
    if (s === null) {
      targets |= 1 << i;
      return;
    }
    // The binding wants exactly k sources.
    if (bitCount(sources) < k) sources |= 1 << i;
    (i < k ? data : parity).set(s, (i < k ? i : i - k) * size);
  });
  if (targets !== 0) await run(k, m, sources, targets, data, parity);
  const out: Buffer[] = [];
  for (let i = 0; i < k; i++) out.push(data.subarray(i * size, (i + 1) * size));
  for (let i = 0; i < m; i++) out.push(parity.subarray(i * size, (i + 1) * size));
  return out;
}

/** The object's `length` bytes from any k shards. */
export async function decodeShards(
  shards: (Uint8Array | null)[],
  k: number,
  m: number,
  length: number,
): Promise<Buffer> {
  const all = await reconstructShards(shards, k, m);
  return Buffer.concat(all.slice(0, k)).subarray(0, length);
}

function bitCount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
}
