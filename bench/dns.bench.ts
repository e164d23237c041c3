/**
 * The DNS gateway under dnsperf, beside Debian's NSD serving the same names from a zone file in the
 * same run: one process each, then all cores each (dns.workers / server-count = the core count):
 *  - queries/s for a mix (70% A hits, 15% TXT hits, 15% NXDOMAIN) and for A hits only, over 100,000
 *    names (VOS_BENCH_DNS_NAMES), loaded into the gateway as a node loads them at start (NameSink.load);
 *  - the ceiling of one Node.js process: a bare UDP echo server (no DNS work) under the same load;
 *  - name registered (reveal committed) and name updated -> answered by every node's gateway on a real
 *    4-validator devnet (`vos devnet`): blocks after the commit and seconds after the CLI saw it.
 * Needs `dnsperf` and `nsd` (apt-get install -y dnsperf nsd).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { PrivateKey } from '../chain/keys.js';
import { DnsGateway } from '../services/naming/dns/gateway.js';
import { DnsWorkerPool } from '../services/naming/dns/workers.js';
import { EMPTY_RECORDS, type NameEntry } from '../services/naming/records.js';
import { BIN, freePort } from './throughput.bench.js';

const exec = promisify(execFile);
const NAMES = Number(process.env.VOS_BENCH_DNS_NAMES ?? 100_000);
const SECONDS = Number(process.env.VOS_BENCH_DNS_SECONDS ?? 10);

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function entries(n: number): NameEntry[] {
  const key = PrivateKey.fromSeed(new Uint8Array(32).fill(5));
  return Array.from({ length: n }, (_, i) => ({
    name: `name-${i}`,
    owner: key.address,
    ownerKey: key.publicKey,
    registeredAt: 1,
    expires: 1_000_000,
    records: {
      ...EMPTY_RECORDS,
      endpoints: [{ kind: 'ip4' as const, value: ipOf(i), weight: 1 }],
      txt: [`v=vos1 id=${i}`],
    },
    transfer: null,
  }));
}

function queryFile(n: number, mix: boolean): string {
  const lines: string[] = [];
  for (let k = 0; k < 50_000; k++) {
    const i = Math.floor(Math.random() * n);
    const r = Math.random();
    if (!mix || r < 0.7) lines.push(`name-${i}.vos A`);
    else if (r < 0.85) lines.push(`name-${i}.vos TXT`);
    else lines.push(`absent-${i}.vos A`);
  }
  return `${lines.join('\n')}\n`;
}

function zoneFile(n: number): string {
  const out = [
    '$ORIGIN vos.',
    '$TTL 5',
    '@ IN SOA ns.vos. hostmaster.vos. 1 60 30 3600 5',
    '@ IN NS ns.vos.',
    'ns IN A 127.0.0.1',
  ];
  for (let i = 0; i < n; i++) out.push(`name-${i} IN A ${ipOf(i)}`, `name-${i} IN TXT "v=vos1 id=${i}"`);
  return `${out.join('\n')}\n`;
}

interface Perf {
  qps: number;
  lostPercent: number;
  rcodes: string;
}

async function dnsperf(port: number, file: string): Promise<Perf> {
  const { stdout } = await exec(
    'dnsperf',
    ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(SECONDS), '-q', '200', '-t', '2'],
    { timeout: (SECONDS + 30) * 1000, maxBuffer: 1 << 20 },
  );
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN),
    lostPercent: Number(/Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(stdout)?.[1] ?? Number.NaN),
    rcodes: /Response codes:\s+([^\n]*)/.exec(stdout)?.[1]?.trim() ?? '',
  };
}

function ask(port: number, name: string, type: dnsPacket.RecordType = 'A', timeoutMs = 1000) {
  return new Promise<dnsPacket.DecodedPacket | null>((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.once('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.send(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type, name }] }), port, '127.0.0.1');
  });
}

async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms: number,
  every = 50,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** NSD on the same names from a zone file, `servers` processes, response rate limiting off. */
async function withNsd<T>(dir: string, servers: number, fn: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const conf = join(dir, `nsd-${servers}.conf`);
  await writeFile(
    conf,
    [
      'server:',
      `  ip-address: 127.0.0.1@${port}`,
      `  server-count: ${servers}`,
      `  zonesdir: "${dir}"`,
      '  database: ""',
      `  zonelistfile: "${dir}/zone-${servers}.list"`,
      `  xfrdfile: "${dir}/xfrd-${servers}.state"`,
      `  xfrdir: "${dir}"`,
      `  pidfile: "${dir}/nsd-${servers}.pid"`,
      '  username: ""',
      '  chroot: ""',
      `  logfile: "${dir}/nsd.log"`,
      '  do-ip6: no',
      // Response rate limiting off: it answers a flood from one address with TC or drops.
      '  rrl-ratelimit: 0',
      '  rrl-whitelist-ratelimit: 0',
      'remote-control:',
      '  control-enable: no',
      'zone:',
      '  name: vos',
      '  zonefile: vos.zone',
      '',
    ].join('\n'),
  );
  const nsdBin = existsSync('/usr/sbin/nsd') ? '/usr/sbin/nsd' : 'nsd';
  const nsd = spawn(nsdBin, ['-d', '-c', conf], { stdio: 'ignore' });
  try {
    await waitUntil(
      'nsd serving the zone',
      async () => {
        if (nsd.exitCode !== null)
          throw new Error(`nsd exited: ${await readFile(join(dir, 'nsd.log'), 'utf8')}`);
        const r = await ask(port, 'name-1.vos', 'A', 300);
        return r !== null && (r.answers ?? []).length === 1 ? true : undefined;
      },
      120_000,
      200,
    );
    return await fn(port);
  } finally {
    nsd.kill('SIGTERM');
    await new Promise((r) => (nsd.exitCode !== null ? r(null) : nsd.once('exit', r)));
  }
}

async function throughput(dir: string) {
  const list = entries(NAMES);
  const mix = join(dir, 'mix.txt');
  const hits = join(dir, 'hits.txt');
  await writeFile(mix, queryFile(NAMES, true));
  await writeFile(hits, queryFile(NAMES, false));
  await writeFile(join(dir, 'vos.zone'), zoneFile(NAMES));
  const both = async (port: number) => ({ mix: await dnsperf(port, mix), hits: await dnsperf(port, hits) });

  // One process: the node's own gateway (dns.workers = 0).
  const gateway = new DnsGateway({ host: '127.0.0.1', port: 0, gracePeriod: 0 });
  const t0 = performance.now();
  gateway.load(list, 1);
  const loadMs = performance.now() - t0;
  const one = await both((await gateway.listen()).port);
  await gateway.close();
  // All cores: dns.workers = availableParallelism() processes sharing the socket.
  const cores = availableParallelism();
  const pool = new DnsWorkerPool({ host: '127.0.0.1', port: 0, gracePeriod: 0, workers: cores });
  pool.load(list, 1);
  const all = await both((await pool.listen()).port);
  await pool.close();
  // The ceiling of one Node.js process: a UDP echo (no DNS work at all) under the same load.
  const echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  const echoHits = await dnsperf(echo.address().port, hits);
  echo.close();

  const nsdOne = await withNsd(dir, 1, both);
  const nsdAll = await withNsd(dir, cores, both);
  return {
    names: NAMES,
    gatewayLoadMs: Math.round(loadMs),
    vosMixQps: Math.round(one.mix.qps),
    baselineNsdMixQps: Math.round(nsdOne.mix.qps),
    ratioMixToNsd: one.mix.qps / nsdOne.mix.qps,
    vosHitsQps: Math.round(one.hits.qps),
    baselineNsdHitsQps: Math.round(nsdOne.hits.qps),
    ratioHitsToNsd: one.hits.qps / nsdOne.hits.qps,
    cores,
    vosAllCoresMixQps: Math.round(all.mix.qps),
    baselineNsdAllCoresMixQps: Math.round(nsdAll.mix.qps),
    ratioAllCoresMixToNsd: all.mix.qps / nsdAll.mix.qps,
    vosAllCoresHitsQps: Math.round(all.hits.qps),
    baselineNsdAllCoresHitsQps: Math.round(nsdAll.hits.qps),
    ratioAllCoresHitsToNsd: all.hits.qps / nsdAll.hits.qps,
    nodeUdpEchoQps: Math.round(echoHits.qps),
    ratioEchoToNsd: echoHits.qps / nsdOne.hits.qps,
    lostPercent: {
      vosMix: one.mix.lostPercent,
      vosAllCoresMix: all.mix.lostPercent,
      nsdMix: nsdOne.mix.lostPercent,
      nsdAllCoresMix: nsdAll.mix.lostPercent,
    },
    vosMixRcodes: one.mix.rcodes,
    nsdMixRcodes: nsdOne.mix.rcodes,
  };
}

/** A name update on node0 of a devnet, then every node's gateway polled until it answers the new address. */
async function freshness(dir: string) {
  const base = 30_000 + Math.floor(Math.random() * 20_000);
  const devnet: ChildProcess = spawn(
    process.execPath,
    [BIN, 'devnet', '--validators', '4', '--dir', dir, '--base-port', String(base)],
    { stdio: 'ignore', env: { ...process.env, VOS_EMPTY_BLOCK_INTERVAL_MS: '1000' } },
  );
  try {
    const info = await waitUntil(
      'devnet.json',
      async () => {
        if (devnet.exitCode !== null) throw new Error(`vos devnet exited ${devnet.exitCode}`);
        const f = join(dir, 'devnet.json');
        return existsSync(f)
          ? (JSON.parse(await readFile(f, 'utf8')) as { nodes: { home: string; rpc: string; dns: string }[] })
          : undefined;
      },
      90_000,
      200,
    );
    const home0 = info.nodes[0].home;
    const vos = async (args: string[]) =>
      JSON.parse((await exec(process.execPath, [BIN, ...args, '--json'], { timeout: 120_000 })).stdout) as {
        height: number;
      };
    const ports = info.nodes.map((n) => Number(n.dns.replace(/^.*:/, '')));
    const heightOf = async (rpc: string) => {
      const r = await fetch(rpc, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node_status', params: [] }),
      });
      return ((await r.json()) as { result: { height: number } }).result.height;
    };
    /** Every gateway polled until `ok` holds for its answer: the worst node's blocks and seconds. */
    const everyGateway = async (
      name: string,
      ok: (r: dnsPacket.DecodedPacket) => boolean,
      height: number,
    ) => {
      const t0 = performance.now();
      const each = await Promise.all(
        ports.map((p, i) =>
          waitUntil(
            'a gateway answering',
            async () => {
              const h = await heightOf(info.nodes[i].rpc);
              const r = await ask(p, name);
              return r !== null && ok(r)
                ? { blocks: h - height, s: (performance.now() - t0) / 1000 }
                : undefined;
            },
            30_000,
            20,
          ),
        ),
      );
      return { blocks: Math.max(...each.map((e) => e.blocks)), s: Math.max(...each.map((e) => e.s)) };
    };
    // Registration: NXDOMAIN before; after the reveal's commit every gateway knows the name (NODATA
    // for A until records are set, never NXDOMAIN).
    const regBlocks: number[] = [];
    const regSeconds: number[] = [];
    for (let k = 0; k < 3; k++) {
      const name = `fresh-${k}`;
      const reg = await vos(['name', 'register', name, '--home', home0]);
      const r = await everyGateway(
        `${name}.vos`,
        (a) => (a as { rcode?: string }).rcode === 'NOERROR',
        reg.height,
      );
      regBlocks.push(r.blocks);
      regSeconds.push(r.s);
    }
    const blocks: number[] = [];
    const seconds: number[] = [];
    for (let k = 0; k < 5; k++) {
      const ip = `192.0.2.${10 + k}`;
      const up = await vos(['name', 'update', 'fresh-0', '--home', home0, '--a', ip]);
      const r = await everyGateway(
        'fresh-0.vos',
        (a) => (a.answers?.[0] as dnsPacket.StringAnswer | undefined)?.data === ip,
        up.height,
      );
      blocks.push(r.blocks);
      seconds.push(r.s);
    }
    return {
      registerToEveryGatewayMaxBlocks: Math.max(...regBlocks),
      registerToEveryGatewaySecondsMax: Math.max(...regSeconds),
      updateToEveryGatewayMaxBlocks: Math.max(...blocks),
      updateToEveryGatewaySecondsMax: Math.max(...seconds),
      updateToEveryGatewaySecondsMedian: seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)],
      freshnessSamples: blocks.length,
    };
  } finally {
    devnet.kill('SIGTERM');
    await new Promise((r) => (devnet.exitCode !== null ? r(null) : devnet.once('exit', r)));
  }
}

export async function run() {
  const dir = await mkdtemp(join(tmpdir(), 'vos-bench-dns-'));
  try {
    const t = await throughput(dir);
    const f = await freshness(join(dir, 'devnet'));
    return {
      ...t,
      ...f,
      note: 'one gateway process vs one NSD process, then dns.workers = cores vs NSD server-count = cores; dnsperf (200 outstanding) shares the machine',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
