/**
 * `vos devnet`: a local network of validator processes. Writes DIR/devnet.json; reuses DIR when it
 * exists (data survives restarts). Never restarts a node by itself: a killed node stays down until
 * `vos start --home <its home>`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { PrivateKey } from '../../chain/keys.js';
import { loadKey } from '../../chain/keystore.js';
import { DEFAULT_STORAGE_PARAMS } from '../../chain/ledger/params.js';
import { createDevGenesis, genesisToJSON, parseGenesis } from '../../genesis/genesis.js';
import { homePaths, loadConfig } from '../../node/config.js';
import { HomeLock, HomeLockError } from '../../node/home-lock.js';
import { checkPortsFree, nodePorts } from '../../node/ports.js';
import { peerIdOf } from '../../p2p/host.js';
import { RpcClient } from '../../rpc/client.js';
import { CliError, ERROR_PREFIX, emit } from '../output.js';
import { initHome } from './init.js';

export interface DevnetNode {
  name: string;
  home: string;
  pid: number;
  rpc: string;
  p2p: string;
  dns: string;
  address: string;
}

export interface DevnetFile {
  chainId: string;
  nodes: DevnetNode[];
}

export const DEVNET_AUDIT_INTERVAL = 20;
export const DEVNET_PROVIDER_CAPACITY = 16 * 1024 ** 3;

/** Node i: RPC base + 10i, P2P base + 10i + 1, DNS base + 10i + 2 (node0's RPC on 8545 by default). */
export function devnetPorts(base: number, i: number) {
  return { rpc: base + 10 * i, p2p: base + 10 * i + 1, dns: base + 10 * i + 2 };
}

/**
 * Genesis params for a new devnet: the devnet defaults, then a JSON file's params (the shape of
 * genesis.json's `params`; objects merged key by key), validated as any genesis is.
 */
async function devnetGenesis(keys: PrivateKey[], paramsFile: string | undefined) {
  // Audits every 20 blocks (the chain default is 100): a devnet shows an epoch's audit within a minute.
  const genesis = createDevGenesis(keys, {
    chainId: 'vos-devnet',
    params: { storage: { ...DEFAULT_STORAGE_PARAMS, auditInterval: DEVNET_AUDIT_INTERVAL } },
  });
  if (paramsFile === undefined) return genesis;
  let extra: Record<string, unknown>;
  try {
    extra = JSON.parse(await readFile(paramsFile, 'utf8'));
  } catch (err) {
    throw new CliError(`--params ${paramsFile}: ${(err as Error).message}`, 2);
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
    throw new CliError(`--params ${paramsFile}: expected a JSON object of genesis params`, 2);
  const json = genesisToJSON(genesis) as unknown as { params: Record<string, unknown> };
  for (const [k, v] of Object.entries(extra)) {
    const have = json.params[k];
    json.params[k] =
      typeof v === 'object' && v !== null && typeof have === 'object' && have !== null
        ? { ...have, ...v }
        : v;
  }
  try {
    return parseGenesis(json);
  } catch (err) {
    throw new CliError(`--params ${paramsFile}: ${(err as Error).message}`, 2);
  }
}

async function ensureHomes(
  dir: string,
  n: number,
  base: number,
  paramsFile?: string,
): Promise<{ chainId: string; homes: string[] }> {
  const homes = Array.from({ length: n }, (_, i) => join(dir, `node${i}`));
  const fresh = homes.filter((h) => !existsSync(homePaths(h).config));
  if (fresh.length === n) {
    const keys = homes.map(() => PrivateKey.generate());
    const genesis = await devnetGenesis(keys, paramsFile);
    await mkdir(dir, { recursive: true });
    const genesisFile = join(dir, 'genesis.json');
    await writeFile(genesisFile, `${JSON.stringify(genesisToJSON(genesis), null, 2)}\n`);
    const addrs = await Promise.all(
      keys.map(async (k, i) => `/ip4/127.0.0.1/tcp/${devnetPorts(base, i).p2p}/p2p/${await peerIdOf(k)}`),
    );
    for (let i = 0; i < n; i++) {
      await initHome({
        home: homes[i],
        genesis: genesisFile,
        moniker: `node${i}`,
        key: keys[i],
        plainKeyReason: 'devnet key: stored unencrypted on purpose, never use it on a real network',
        ...portsOf(devnetPorts(base, i)),
      });
      // Every validator dials every other one (a full mesh on loopback).
      const cfgFile = homePaths(homes[i]).config;
      const cfg = JSON.parse(await readFile(cfgFile, 'utf8'));
      cfg.p2p.seeds = addrs.filter((_, j) => j !== i);
      // Every devnet node is a storage provider.
      cfg.storage = { ...cfg.storage, providerCapacity: DEVNET_PROVIDER_CAPACITY };
      await writeFile(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`);
    }
    return { chainId: genesis.chainId, homes };
  }
  if (fresh.length > 0)
    throw new CliError(
      `${dir} holds a devnet of another size: remove it or use --validators ${n - fresh.length}`,
    );
  if (paramsFile !== undefined)
    process.stderr.write(`note: ${dir} holds a devnet already: --params applies to a new one only\n`);
  const g = JSON.parse(await readFile(homePaths(homes[0]).genesis, 'utf8'));
  return { chainId: g.chainId, homes };
}

function portsOf(p: { rpc: number; p2p: number; dns: number }) {
  return { rpcPort: p.rpc, p2pPort: p.p2p, dnsPort: p.dns };
}

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'bin', 'vos.js');

/** How often the supervisor prints a status line. */
const STATUS_INTERVAL_MS = 5000;

interface Supervised {
  node: DevnetNode;
  child: ChildProcess;
  log: string;
}

function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function exitText(c: ChildProcess): string {
  return c.signalCode !== null ? `signal ${c.signalCode}` : `code ${c.exitCode}`;
}

/** The error a node printed last (its `error: ...` line, or the msg of its last error-level log line). */
function lastError(log: string): string | undefined {
  let text: string;
  try {
    const fd = openSync(log, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, 8192));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').reverse()) {
    if (line.startsWith(ERROR_PREFIX)) return line.slice(ERROR_PREFIX.length);
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        if ((j.level ?? 0) >= 50) return [j.msg, j.err?.message].filter(Boolean).join(': ');
      } catch {
        // a torn line
      }
    }
  }
  return undefined;
}

async function waitForRpc(s: Supervised, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const client = new RpcClient(s.node.rpc, { timeoutMs: 1000 });
  while (Date.now() < deadline) {
    if (exited(s.child)) {
      const why = lastError(s.log);
      throw new CliError(
        `${s.node.name} exited with ${exitText(s.child)} while starting${why ? `: ${why}` : ''} (log ${s.log})`,
        1,
        'NODE_EXITED',
      );
    }
    let status: { address?: string } | undefined;
    try {
      status = await client.call<{ address?: string }>('node_status');
    } catch {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    // Not some other process that answers on that port.
    if (status.address !== s.node.address)
      throw new CliError(
        `${s.node.rpc} is answered by another node (${status.address}), not ${s.node.name} (${s.node.address})`,
        1,
        'PORT_IN_USE',
      );
    return;
  }
  throw new CliError(
    `${s.node.name} did not answer at ${s.node.rpc} within ${ms / 1000} s (log ${s.log})`,
    1,
    'NODE_TIMEOUT',
  );
}

/** Refuse a devnet whose nodes (or supervisor) run, and ports that are taken, before starting anything. */
async function preflight(homes: string[]): Promise<void> {
  for (const home of homes) {
    const h = HomeLock.holder(home);
    if (h !== undefined)
      throw new CliError(
        `${home} is in use by process ${h.pid} (${h.command}): stop it first`,
        1,
        'HOME_IN_USE',
      );
  }
  for (const home of homes) {
    await checkPortsFree(nodePorts(await loadConfig(home), home));
  }
}

interface NodeStatusLine {
  name: string;
  height: number | null;
  peers: number | null;
  state: 'up' | 'down' | 'no answer';
}

/** A node's height and peers; also of one restarted by hand (`vos start --home`) after its process died. */
async function statusOf(s: Supervised): Promise<NodeStatusLine> {
  try {
    const st = await new RpcClient(s.node.rpc, { timeoutMs: 2000 }).call<{ height: number; peers: number }>(
      'node_status',
    );
    return { name: s.node.name, height: st.height, peers: st.peers, state: 'up' };
  } catch {
    const state = exited(s.child) ? 'down' : 'no answer';
    return { name: s.node.name, height: null, peers: null, state };
  }
}

/** `12:00:05  height 123  peers 3/3/3/3` (per-node heights when they differ; - down, ? no answer). */
export function statusLine(nodes: NodeStatusLine[], now = new Date()): string {
  const cell = (n: NodeStatusLine, v: number | null) =>
    v !== null ? String(v) : n.state === 'down' ? '-' : '?';
  const heights = nodes.map((n) => cell(n, n.height));
  const same = nodes.every((n) => n.state === 'up') && new Set(heights).size === 1;
  const time = now.toTimeString().slice(0, 8);
  return `${time}  height ${same ? heights[0] : heights.join('/')}  peers ${nodes.map((n) => cell(n, n.peers)).join('/')}`;
}

export function registerDevnet(program: Command): void {
  program
    .command('devnet')
    .description('run a local network of validator processes; writes DIR/devnet.json')
    .option('--validators <n>', 'number of validators', (v) => Number(v), 4)
    .requiredOption('--dir <dir>', 'devnet directory (reused when it exists)')
    .option(
      '--base-port <port>',
      "node0's RPC port; node i uses base + 10i (+1 P2P, +2 DNS)",
      (v) => Number(v),
      8545,
    )
    .option(
      '--params <file>',
      "genesis params for a new devnet (JSON, the shape of genesis.json's params, merged over the defaults)",
    )
    .option('--json', 'machine output (the devnet.json document, then one JSON line per status and exit)')
    .action(async (o) => {
      const n = o.validators as number;
      if (!Number.isInteger(n) || n < 1 || n > 32) throw new CliError('--validators must be 1..32', 2);
      const base = o.basePort as number;
      if (!Number.isInteger(base) || base < 1 || base + 10 * (n - 1) + 2 > 65535)
        throw new CliError(`--base-port must leave room for ${n} nodes below 65536`, 2);
      const dir = resolve(o.dir as string);
      await mkdir(dir, { recursive: true });
      // One supervisor per devnet dir.
      let dirLock: HomeLock;
      try {
        dirLock = HomeLock.acquire(dir);
      } catch (err) {
        if (err instanceof HomeLockError)
          throw new CliError(`${err.message}: that devnet is running`, 1, err.code);
        throw err;
      }
      try {
        await supervise(o, dir, n, base);
      } finally {
        dirLock.release();
      }
    });
}

async function supervise(
  o: { json?: boolean; params?: string },
  dir: string,
  n: number,
  base: number,
): Promise<void> {
  const { chainId, homes } = await ensureHomes(dir, n, base, o.params);
  await preflight(homes);
  const sup: Supervised[] = [];
  let stopping = false;
  const stopAll = () => {
    if (!stopping && !o.json)
      process.stdout.write(`stopping ${sup.filter((s) => !exited(s.child)).length} nodes\n`);
    stopping = true;
    for (const s of sup) if (!exited(s.child)) s.child.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  try {
    for (let i = 0; i < n; i++) {
      const log = join(homes[i], 'node.log');
      const fd = openSync(log, 'a');
      const child = spawn(process.execPath, [BIN, 'start', '--home', homes[i]], {
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const cfg = await loadConfig(homes[i]);
      const key = await loadKey(homePaths(homes[i]).key);
      sup.push({
        child,
        log,
        node: {
          name: `node${i}`,
          home: homes[i],
          pid: child.pid ?? -1,
          rpc: `http://${cfg.rpc.host}:${cfg.rpc.port}`,
          p2p: `/ip4/${cfg.p2p.host}/tcp/${cfg.p2p.port}/p2p/${await peerIdOf(key)}`,
          dns: `${cfg.dns.host}:${cfg.dns.port}`,
          address: key.address.toString(),
        },
      });
    }
    await Promise.all(sup.map((s) => waitForRpc(s, 60_000)));
  } catch (err) {
    const interrupted = stopping;
    stopAll();
    await Promise.all(
      sup.map((s) => new Promise((r) => (exited(s.child) ? r(null) : s.child.once('exit', r)))),
    );
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    // Ctrl-C during start-up is a stop, not a failure.
    if (interrupted) return;
    throw err;
  }
  // Written once every node answers, so devnet.json always describes a devnet that ran.
  const file: DevnetFile = { chainId, nodes: sup.map((s) => s.node) };
  await writeFile(join(dir, 'devnet.json'), `${JSON.stringify(file, null, 2)}\n`);
  emit(o, file, () =>
    [
      `VOS devnet "${chainId}" with ${n} validator${n > 1 ? 's' : ''} (${join(dir, 'devnet.json')})`,
      ...sup.flatMap(({ node: nd, log }) => [
        `  ${nd.name}  RPC ${nd.rpc}  DNS ${nd.dns} (udp+tcp, zone vos.)  address ${nd.address}`,
        `         web app ${nd.rpc}/  metrics ${nd.rpc}/metrics  health ${nd.rpc}/healthz`,
        `         log ${log}`,
      ]),
      `open ${sup[0].node.rpc}/ in a browser (explorer, names, content, messages, apps)`,
      `try: npx vos status --rpc ${sup[0].node.rpc}`,
      `     dig @${sup[0].node.dns.replace(/:\d+$/, '')} -p ${sup[0].node.dns.replace(/^.*:/, '')} vos SOA`,
      `stop with Ctrl-C; a node that dies is not restarted (restart it with its home, e.g. npx vos start --home ${sup[0].node.home})`,
    ].join('\n'),
  );
  // The supervisor stays up while any node runs; it never restarts one.
  const printStatus = async () => {
    const nodes = await Promise.all(sup.map(statusOf));
    if (stopping) return;
    if (o.json) emit(o, { event: 'status', time: new Date().toISOString(), nodes }, '');
    else process.stdout.write(`${statusLine(nodes)}\n`);
  };
  const timer = setInterval(() => void printStatus(), STATUS_INTERVAL_MS);
  await Promise.all(
    sup.map(
      (s) =>
        new Promise<void>((resolveExit) => {
          const report = () => {
            const why = s.child.exitCode !== 0 && !stopping ? lastError(s.log) : undefined;
            const ev = {
              event: 'exit',
              name: s.node.name,
              pid: s.node.pid,
              code: s.child.exitCode,
              signal: s.child.signalCode,
              expected: stopping,
              error: why ?? null,
              log: s.log,
            };
            if (o.json) emit(o, ev, '');
            else if (stopping)
              process.stdout.write(`${s.node.name} (pid ${s.node.pid}) stopped (${exitText(s.child)})\n`);
            else
              process.stdout.write(
                `${s.node.name} (pid ${s.node.pid}) exited with ${exitText(s.child)}${why ? `: ${why}` : ''}; log ${s.log}; it stays down until: npx vos start --home ${s.node.home}\n`,
              );
            resolveExit();
          };
          if (exited(s.child)) report();
          else s.child.once('exit', report);
        }),
    ),
  );
  clearInterval(timer);
  process.off('SIGINT', stopAll);
  process.off('SIGTERM', stopAll);
  if (!stopping)
    throw new CliError('every node of the devnet has exited (see the lines above)', 1, 'DEVNET_DOWN');
}
