import { describe, expect, it } from '@jest/globals';
import * as dnsPacket from 'dns-packet';
import { DNS_QUERY_TYPES, DnsGateway } from '../../../services/naming/dns/gateway.js';
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

  it('DNS queries by qtype and rcode from the gateway; storage bytes by kind; audits by role and result', async () => {
    const m = createMetrics(undefined, { defaultMetrics: false });
    const gw = new DnsGateway({ host: '127.0.0.1', port: 0, gracePeriod: 10 });
    const ask = (type: 'A' | 'AAAA' | 'TXT' | 'MX', name: string) =>
      gw.answer(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type, name }] }), 'udp');
    ask('A', 'nobody.vos');
    ask('A', 'nobody.vos');
    ask('AAAA', 'vos');
    ask('MX', 'vos');
    m.probe.dns = { stats: () => gw.stats, names: () => gw.size, queryTypes: DNS_QUERY_TYPES };
    m.probe.storage = { bytes: () => ({ local: 1234, held: 56 }) };
    m.storageAudits.inc({ role: 'holder', result: 'proved' });
    const text = await m.register.metrics();
    expect(text).toContain('vos_dns_queries_total{type="A",rcode="NXDOMAIN"} 2');
    expect(text).toContain('vos_dns_queries_total{type="AAAA",rcode="NOERROR"} 1');
    expect(text).toContain('vos_dns_queries_total{type="OTHER",rcode="NOERROR"} 1');
    expect(text).toContain('vos_storage_bytes{kind="local"} 1234');
    expect(text).toContain('vos_storage_bytes{kind="held"} 56');
    expect(text).toContain('vos_storage_audits_total{role="holder",result="proved"} 1');
  });
});
