/**
 * The DNS gateway on a real 4-validator devnet with real tools: names registered and updated through
 * node0's CLI, queried with Debian's `dig` on node2's gateway (A, AAAA, TXT, TLSA, SRV, SOA, NS,
 * NXDOMAIN/NODATA with the SOA in authority, EDNS echo, TC then TCP, REFUSED, FORMERR); load spread by
 * weight; a change visible on every node's gateway within 2 blocks of its commit; and Debian's
 * `unbound` with a stub zone for vos. answering from the gateway, the new address after an update
 * within the TTL cap + 2 blocks.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dnsPacket from 'dns-packet';
import {
  BIN,
  type DevnetInfo,
  heightOf,
  randomBasePort,
  sleep,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';

const run = promisify(execFile);

/** Tools CI installs: missing under CI=true is a failure, elsewhere the test says so and skips. */
function tool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name} || test -x /usr/sbin/${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${name} is required under CI=true (.ci/run installs it)`);
    process.stdout.write(`skipped: ${name} is not installed\n`);
    return false;
  }
}

async function vosJson<T>(args: string[]): Promise<T> {
  const r = await run(process.execPath, [BIN, ...args, '--json'], {
    env: { ...process.env },
    timeout: 120_000,
  });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

interface Dig {
  status: string;
  flags: string[];
  answer: string[][];
  authority: string[][];
  edns: string | null;
  raw: string;
}

/** `dig @127.0.0.1 -p PORT ...` parsed: status, header flags, ANSWER/AUTHORITY records, the EDNS line. */
async function dig(port: number, ...args: string[]): Promise<Dig> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', ...args], {
    timeout: 20_000,
  });
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1] ?? '';
  const flags = (/;; flags: ([a-z ]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/);
  const section = (name: string) => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(stdout);
    return m === null
      ? []
      : m[1]
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith(';'))
          .map((l) => l.split(/\s+/));
  };
  return {
    status,
    flags,
    answer: section('ANSWER'),
    authority: section('AUTHORITY'),
    edns: /; EDNS: ([^\n]*)/.exec(stdout)?.[1] ?? null,
    raw: stdout,
  };
}

const portOf = (hostPort: string) => Number(hostPort.replace(/^.*:/, ''));

describe('DNS gateway on a devnet (dig, unbound)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  let home0 = '';
  let dns2 = 0;
  let hasDig = false;

  beforeAll(async () => {
    hasDig = tool('dig');
    dir = await mkdtemp(join(tmpdir(), 'vos-dns-'));
    ({ proc: supervisor, info } = await startDevnet(dir, 4, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '300',
    }));
    home0 = info.nodes[0].home;
    dns2 = portOf(info.nodes[2].dns);
    await vosJson(['name', 'register', 'web', '--home', home0]);
    await vosJson(['name', 'register', 'big', '--home', home0]);
    await vosJson([
      'name',
      'update',
      'web',
      '--home',
      home0,
      '--a',
      '10.0.0.1=3',
      '--a',
      '10.0.0.2=1',
      '--aaaa',
      '2001:db8::7',
      '--multiaddr',
      '/ip4/10.0.0.9/tcp/443=5',
      '--txt',
      'v=vos1 hello',
      '--tlsa',
      `3 1 1 ${'ab'.repeat(32)}`,
    ]);
    await vosJson([
      'name',
      'update',
      'big',
      '--home',
      home0,
      ...Array.from({ length: 10 }, (_, i) => ['--txt', String(i).repeat(200)]).flat(),
    ]);
  }, 180_000);

  afterAll(async () => {
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('node_status.dns and devnet.json name the same port', async () => {
    const s = (await (
      await fetch(info.nodes[2].rpc, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node_status', params: [] }),
      })
    ).json()) as { result: { dns: number } };
    expect(s.result.dns).toBe(dns2);
  });

  it('dig on another node: A, AAAA, TXT, TLSA, SRV, SOA, NS, authoritative', async () => {
    if (!hasDig) return;
    const a = await dig(dns2, 'web.vos', 'A', '+norec');
    expect(a.status).toBe('NOERROR');
    expect(a.flags).toContain('aa');
    expect(a.answer.map((r) => r[4]).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(a.answer[0].slice(0, 4)).toEqual(['web.vos.', '5', 'IN', 'A']);
    expect((await dig(dns2, 'web.vos', 'AAAA')).answer[0][4]).toBe('2001:db8::7');
    expect((await dig(dns2, 'web.vos', 'TXT')).answer[0].slice(4).join(' ')).toBe('"v=vos1 hello"');
    const tlsa = await dig(dns2, '_443._tcp.web.vos', 'TLSA');
    expect(tlsa.answer[0].slice(3, 7)).toEqual(['TLSA', '3', '1', '1']);
    expect(tlsa.answer[0].slice(7).join('').toLowerCase()).toBe('ab'.repeat(32));
    const srv = await dig(dns2, '_https._tcp.web.vos', 'SRV');
    expect(srv.answer[0].slice(3)).toEqual(['SRV', '0', '5', '443', 'ep3.web.vos.']);
    expect((await dig(dns2, 'ep3.web.vos', 'A')).answer[0][4]).toBe('10.0.0.9');
    const soa = await dig(dns2, 'vos', 'SOA');
    expect(soa.flags).toContain('aa');
    expect(soa.answer[0].slice(3, 6)).toEqual(['SOA', 'ns.vos.', 'hostmaster.vos.']);
    expect(Number(soa.answer[0][6])).toBeGreaterThan(0);
    expect((await dig(dns2, 'vos', 'NS')).answer[0].slice(3)).toEqual(['NS', 'ns.vos.']);
  }, 60_000);

  it('dig: NXDOMAIN and NODATA with the SOA in authority; EDNS echoed; REFUSED outside vos.; FORMERR', async () => {
    if (!hasDig) return;
    const nx = await dig(dns2, 'nobody.vos', 'A');
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.flags).toContain('aa');
    expect(nx.authority[0].slice(0, 4)).toEqual(['vos.', '5', 'IN', 'SOA']);
    const nodata = await dig(dns2, 'web.vos', 'MX');
    expect(nodata.status).toBe('NOERROR');
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority[0][3]).toBe('SOA');
    const edns = await dig(dns2, 'web.vos', 'A', '+edns=0', '+bufsize=4096', '+dnssec');
    expect(edns.edns).toMatch(/version: 0, flags: do; udp: 1232/);
    expect((await dig(dns2, 'web.vos', 'A', '+noedns')).edns).toBeNull();
    const refused = await dig(dns2, 'example.com', 'A');
    expect(refused.status).toBe('REFUSED');
    expect(refused.flags).not.toContain('aa');
    // dig +header-only sends a query without a question: malformed.
    expect((await dig(dns2, '+header-only', 'web.vos')).status).toBe('FORMERR');
  }, 60_000);

  it('dig: TC over UDP when the answer does not fit, then the whole answer over TCP', async () => {
    if (!hasDig) return;
    const udp = await dig(dns2, 'big.vos', 'TXT', '+ignore', '+bufsize=1232');
    expect(udp.flags).toContain('tc');
    expect(udp.answer).toEqual([]);
    const tcp = await dig(dns2, 'big.vos', 'TXT', '+tcp');
    expect(tcp.flags).not.toContain('tc');
    expect(tcp.answer).toHaveLength(10);
  }, 30_000);

  it('garbage packets get FORMERR or nothing, and the gateway keeps answering', async () => {
    const sock = createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const garbage = [
      Buffer.from([1]),
      Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]),
      Buffer.from([0xab, 0xce, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61, 0x62]),
      Buffer.alloc(600, 0xff),
    ];
    for (const g of garbage) sock.send(g, dns2, '127.0.0.1');
    sock.send(
      dnsPacket.encode({ type: 'query', id: 77, questions: [{ type: 'A', name: 'web.vos' }] }),
      dns2,
      '127.0.0.1',
    );
    await waitFor(
      'the answer after the garbage',
      async () => replies.find((r) => r.readUInt16BE(0) === 77),
      5000,
    );
    sock.close();
    const byId = new Map(
      replies.map((r) => [
        r.readUInt16BE(0),
        dnsPacket.decode(r) as dnsPacket.DecodedPacket & { rcode: string },
      ]),
    );
    expect(byId.get(0xabcd)?.rcode).toBe('FORMERR');
    expect(byId.get(0xabce)?.rcode).toBe('FORMERR');
    expect(byId.get(77)?.answers).toHaveLength(2);
  });

  it('spreads load: the first A answer follows the weights 3:1 over 2,000 queries', async () => {
    const sock = createSocket('udp4');
    const first = new Map<string, number>();
    let got = 0;
    const n = 2000;
    const done = new Promise<void>((resolve) => {
      sock.on('message', (m) => {
        const a = dnsPacket.decode(m).answers?.[0] as dnsPacket.StringAnswer | undefined;
        if (a !== undefined) first.set(a.data, (first.get(a.data) ?? 0) + 1);
        if (++got === n) resolve();
      });
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    // In windows of 50 (a burst of thousands overflows the client's receive buffer).
    for (let i = 0; i < n; i++) {
      sock.send(
        dnsPacket.encode({ type: 'query', id: i, questions: [{ type: 'A', name: 'web.vos' }] }),
        dns2,
        '127.0.0.1',
      );
      if (i % 50 === 49) {
        const until = Date.now() + 2000;
        while (got < i - 5 && Date.now() < until) await sleep(1);
      }
    }
    await Promise.race([done, sleep(10_000)]);
    sock.close();
    expect(got).toBeGreaterThan(n * 0.95);
    // Expected 0.75; 3 standard deviations over 2,000 draws is 0.029.
    expect(Math.abs((first.get('10.0.0.1') ?? 0) / got - 0.75)).toBeLessThan(0.04);
  }, 30_000);

  it('a change is answered by every node within 2 blocks of its commit; a registered name is never NXDOMAIN', async () => {
    const ports = info.nodes.map((n) => portOf(n.dns));
    const ask = (port: number, name: string) =>
      new Promise<dnsPacket.DecodedPacket & { rcode: string }>((resolve, reject) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => {
          s.close();
          reject(new Error('no answer'));
        }, 2000);
        s.once('message', (m) => {
          clearTimeout(timer);
          s.close();
          resolve(dnsPacket.decode(m) as dnsPacket.DecodedPacket & { rcode: string });
        });
        s.send(
          dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name }] }),
          port,
          '127.0.0.1',
        );
      });
    const reg = await vosJson<{ height: number }>(['name', 'register', 'fresh', '--home', home0]);
    const up = await vosJson<{ height: number }>([
      'name',
      'update',
      'fresh',
      '--home',
      home0,
      '--a',
      '192.0.2.33',
    ]);
    // Each node, polled until it answers the new address: the node's height when it first does.
    const seenAt = await Promise.all(
      info.nodes.map((n, i) =>
        waitFor(
          `${n.name} answering the update`,
          async () => {
            const h = await heightOf(n.rpc);
            const r = await ask(ports[i], 'fresh.vos');
            // Registered since reg.height: from then on never NXDOMAIN on any node that has that block.
            if (h >= reg.height + 1) expect(r.rcode).not.toBe('NXDOMAIN');
            const a = r.answers?.[0] as dnsPacket.StringAnswer | undefined;
            return a?.data === '192.0.2.33' ? h : undefined;
          },
          20_000,
        ),
      ),
    );
    process.stdout.write(
      `gateways: update committed at ${up.height}; each node answered it at heights ${seenAt.join(', ')}\n`,
    );
    for (const h of seenAt) expect(h).toBeLessThanOrEqual(up.height + 2);
  }, 120_000);

  it('behind unbound (stub zone vos.): answers, and the new address after an update within TTL cap + 2 blocks', async () => {
    if (!tool('unbound') || !hasDig) return;
    const udir = join(dir, 'unbound');
    await run('mkdir', ['-p', udir]);
    const uport = randomBasePort();
    const conf = join(udir, 'unbound.conf');
    await writeFile(
      conf,
      [
        'server:',
        '  interface: 127.0.0.1',
        `  port: ${uport}`,
        '  do-daemonize: no',
        '  use-syslog: no',
        '  logfile: ""',
        '  username: ""',
        '  chroot: ""',
        `  directory: "${udir}"`,
        `  pidfile: "${udir}/unbound.pid"`,
        '  do-ip6: no',
        '  module-config: "iterator"',
        '  do-not-query-localhost: no',
        '  access-control: 127.0.0.0/8 allow',
        '  num-threads: 1',
        'remote-control:',
        '  control-enable: no',
        'stub-zone:',
        '  name: "vos"',
        `  stub-addr: 127.0.0.1@${dns2}`,
        '',
      ].join('\n'),
    );
    const unbound = spawn(
      existsSync('/usr/sbin/unbound') ? '/usr/sbin/unbound' : 'unbound',
      ['-d', '-c', conf],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let ulog = '';
    unbound.stderr.on('data', (d) => {
      ulog += String(d);
    });
    try {
      const first = await waitFor(
        'unbound answering web.vos',
        async () => {
          if (unbound.exitCode !== null) throw new Error(`unbound exited: ${ulog}`);
          const r = await dig(uport, 'web.vos', 'A').catch(() => undefined);
          return r?.status === 'NOERROR' && r.answer.length === 2 ? r : undefined;
        },
        20_000,
      );
      // A recursive answer: not authoritative, recursion available.
      expect(first.flags).toContain('ra');
      expect(first.answer.map((r) => r[4]).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
      expect((await dig(uport, 'nobody.vos', 'A')).status).toBe('NXDOMAIN');
      const up = await vosJson<{ height: number }>([
        'name',
        'update',
        'web',
        '--home',
        home0,
        '--a',
        '10.0.0.42',
      ]);
      const t0 = Date.now();
      // The moment 2 blocks have followed the update's block (on the node unbound asks).
      let twoBlocksAt = Number.POSITIVE_INFINITY;
      const seen = await waitFor(
        'unbound answering the new address',
        async () => {
          if (
            twoBlocksAt === Number.POSITIVE_INFINITY &&
            (await heightOf(info.nodes[2].rpc)) >= up.height + 2
          )
            twoBlocksAt = Date.now();
          const r = await dig(uport, 'web.vos', 'A');
          return r.answer.length === 1 && r.answer[0][4] === '10.0.0.42' ? Date.now() : undefined;
        },
        30_000,
      );
      process.stdout.write(
        `unbound: the new address ${((seen - t0) / 1000).toFixed(2)} s after the update's commit` +
          ` (2 blocks later at ${Number.isFinite(twoBlocksAt) ? ((twoBlocksAt - t0) / 1000).toFixed(2) : '-'} s)\n`,
      );
      // Within the TTL cap (5 s) after those 2 blocks, with 1 s for the polling.
      expect(seen).toBeLessThanOrEqual(twoBlocksAt + 5000 + 1000);
    } finally {
      unbound.kill('SIGTERM');
    }
  }, 120_000);
});
