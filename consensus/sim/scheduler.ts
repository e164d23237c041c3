/**
 * Virtual time for the simulator: a priority queue of (time, seq) events. Ties run in insertion order,
 * so a run depends only on the seed. Time is in milliseconds of simulated clock.
 */
interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

export class Scheduler {
  #now = 0;
  #seq = 0;
  #heap: Scheduled[] = [];
  /** Events run so far (a bound on work per run). */
  steps = 0;

  get now(): number {
    return this.#now;
  }

  get pending(): number {
    return this.#heap.length;
  }

  at(time: number, fn: () => void): void {
    this.#push({ at: Math.max(time, this.#now), seq: this.#seq++, fn });
  }

  after(delayMs: number, fn: () => void): void {
    this.at(this.#now + delayMs, fn);
  }

  /** Run events until `done()` holds, the queue is empty, or `until` (time) / `maxSteps` is reached. */
  run(opts: { until: number; maxSteps: number; done?: () => boolean }): void {
    while (this.#heap.length > 0 && this.steps < opts.maxSteps) {
      if (opts.done?.()) return;
      const top = this.#heap[0];
      if (top.at > opts.until) break;
      this.#pop();
      this.#now = top.at;
      this.steps++;
      top.fn();
    }
    if (this.#heap.length === 0 || this.#heap[0].at > opts.until) this.#now = Math.max(this.#now, opts.until);
  }

  // PERF: binary heap; a 7-validator run schedules tens of thousands of deliveries.
  #push(e: Scheduled): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
