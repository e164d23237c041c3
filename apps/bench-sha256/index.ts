// A CPU-bound benchmark app (bench/vm.bench.ts): SHA-256 written out in AssemblyScript (no host calls,
// no allocation: every buffer is static memory). `run(iterations)` fills a 64 KiB buffer with a fixed
// pattern, then hashes it `iterations` times, each digest written over the buffer's first 32 bytes
// before the next hash (so no hash can be skipped); it returns the first digest word (big-endian) and
// `digestWord(i)` reads word i of the last digest, for the bench to check against node:crypto.

const BUF_LEN: i32 = 64 * 1024;
const BUF: usize = memory.data(64 * 1024);
/** The padding of the last block(s). */
const PAD: usize = memory.data(128);
/** The message schedule: 64 words. */
const W: usize = memory.data(256);
/** The hash state: 8 words. */
const H: usize = memory.data(32);
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function compress(block: usize): void {
  for (let i: usize = 0; i < 16; i++) store<u32>(W + (i << 2), bswap<u32>(load<u32>(block + (i << 2))));
  for (let i: usize = 16; i < 64; i++) {
    const w15 = load<u32>(W + ((i - 15) << 2));
    const w2 = load<u32>(W + ((i - 2) << 2));
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(W + (i << 2), load<u32>(W + ((i - 16) << 2)) + s0 + load<u32>(W + ((i - 7) << 2)) + s1);
  }
  let a = load<u32>(H, 0);
  let b = load<u32>(H, 4);
  let c = load<u32>(H, 8);
  let d = load<u32>(H, 12);
  let e = load<u32>(H, 16);
  let f = load<u32>(H, 20);
  let g = load<u32>(H, 24);
  let h = load<u32>(H, 28);
  for (let i: usize = 0; i < 64; i++) {
    const s1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + s1 + ch + load<u32>(K + (i << 2)) + load<u32>(W + (i << 2));
    const s0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  store<u32>(H, load<u32>(H, 0) + a, 0);
  store<u32>(H, load<u32>(H, 4) + b, 4);
  store<u32>(H, load<u32>(H, 8) + c, 8);
  store<u32>(H, load<u32>(H, 12) + d, 12);
  store<u32>(H, load<u32>(H, 16) + e, 16);
  store<u32>(H, load<u32>(H, 20) + f, 20);
  store<u32>(H, load<u32>(H, 24) + g, 24);
  store<u32>(H, load<u32>(H, 28) + h, 28);
}

/** SHA-256 of [ptr, ptr + len) into H (host-order words). */
function sha256(ptr: usize, len: usize): void {
  store<u32>(H, 0x6a09e667, 0);
  store<u32>(H, 0xbb67ae85, 4);
  store<u32>(H, 0x3c6ef372, 8);
  store<u32>(H, 0xa54ff53a, 12);
  store<u32>(H, 0x510e527f, 16);
  store<u32>(H, 0x9b05688c, 20);
  store<u32>(H, 0x1f83d9ab, 24);
  store<u32>(H, 0x5be0cd19, 28);
  let off: usize = 0;
  for (; off + 64 <= len; off += 64) compress(ptr + off);
  const rem = len - off;
  for (let i: usize = 0; i < 128; i += 8) store<u64>(PAD + i, 0);
  for (let i: usize = 0; i < rem; i++) store<u8>(PAD + i, load<u8>(ptr + off + i));
  store<u8>(PAD + rem, 0x80);
  const padLen: usize = rem < 56 ? 64 : 128;
  store<u64>(PAD + padLen - 8, bswap<u64>(<u64>len << 3));
  compress(PAD);
  if (padLen === 128) compress(PAD + 64);
}

export function run(iterations: i32): i32 {
  for (let i = 0; i < BUF_LEN; i++) store<u8>(BUF + <usize>i, <u8>((i * 131 + 7) & 0xff));
  for (let n = 0; n < iterations; n++) {
    sha256(BUF, <usize>BUF_LEN);
    for (let i: usize = 0; i < 8; i++) store<u32>(BUF + (i << 2), bswap<u32>(load<u32>(H + (i << 2))));
  }
  return <i32>load<u32>(H, 0);
}

/** Word i (0..7) of the last digest, as a big-endian i32. */
export function digestWord(i: i32): i32 {
  return <i32>load<u32>(H + (<usize>(i & 7) << 2));
}
