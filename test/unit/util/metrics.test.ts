import { describe, expect, it } from '@jest/globals';
import { createMetrics } from '../../../util/metrics.js';

describe('metrics', () => {
  it('default metrics carry one vos_ prefix, and back-to-back scrapes print no NaN or INT64_MAX lag', async () => {
    const m = createMetrics();
    // No timer phase runs between these scrapes: the event-loop window of the second one is empty.
    await m.register.metrics();
    const text = await m.register.metrics();
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.filter((l) => l.startsWith('vos_process_process_'))).toEqual([]);
    expect(text).toContain('vos_process_cpu_seconds_total');
    expect(samples.filter((l) => /\s(nan|[+-]?inf)$/i.test(l) && !l.includes('le="+Inf"'))).toEqual([]);
    const lag = samples.filter((l) => l.startsWith('vos_nodejs_eventloop_lag_'));
    expect(lag.length).toBe(8);
    for (const l of lag) expect([l, Number(l.split(' ').pop()) < 3600]).toEqual([l, true]);
  });
});
