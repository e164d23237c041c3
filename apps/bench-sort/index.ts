// A CPU-bound benchmark app (bench/vm.bench.ts): `run(n)` fills an i32 array of n (at most 65,536,
// static memory, no allocation) from a xorshift32 PRNG seeded with a constant, sorts it with a
// hand-written quicksort (median of three, Hoare partition, insertion sort below 16 elements, recursion
// on the smaller side), and returns a checksum of the sorted array (h = h * 31 + a[i], wrapping), or -1
// if it is not sorted. The bench checks the checksum against the same array sorted in JS.

const MAX_N: i32 = 1 << 16;
const A: usize = memory.data(MAX_N << 2);

@inline function at(i: i32): usize {
  return A + (<usize>i << 2);
}

function insertion(lo: i32, hi: i32): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = load<i32>(at(i));
    let j = i - 1;
    while (j >= lo && load<i32>(at(j)) > v) {
      store<i32>(at(j + 1), load<i32>(at(j)));
      j--;
    }
    store<i32>(at(j + 1), v);
  }
}

@inline function swap(i: i32, j: i32): void {
  const t = load<i32>(at(i));
  store<i32>(at(i), load<i32>(at(j)));
  store<i32>(at(j), t);
}

function quicksort(lo: i32, hi: i32): void {
  while (hi - lo > 16) {
    const mid = lo + ((hi - lo) >> 1);
    if (load<i32>(at(mid)) < load<i32>(at(lo))) swap(mid, lo);
    if (load<i32>(at(hi)) < load<i32>(at(lo))) swap(hi, lo);
    if (load<i32>(at(hi)) < load<i32>(at(mid))) swap(hi, mid);
    const p = load<i32>(at(mid));
    let i = lo - 1;
    let j = hi + 1;
    while (true) {
      do i++;
      while (load<i32>(at(i)) < p);
      do j--;
      while (load<i32>(at(j)) > p);
      if (i >= j) break;
      swap(i, j);
    }
    // [lo, j] and [j + 1, hi]: recurse on the smaller, loop on the larger (depth <= log2 n).
    if (j - lo < hi - j) {
      quicksort(lo, j);
      lo = j + 1;
    } else {
      quicksort(j + 1, hi);
      hi = j;
    }
  }
  insertion(lo, hi);
}

export function run(n: i32): i32 {
  if (n > MAX_N) n = MAX_N;
  if (n < 1) return 0;
  let x: u32 = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    store<i32>(at(i), <i32>x);
  }
  quicksort(0, n - 1);
  let h: i32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<i32>(at(i));
    if (i > 0 && load<i32>(at(i - 1)) > v) return -1;
    h = h * 31 + v;
  }
  return h;
}
