/**
 * Node configuration: `<home>/config.json`, overridden by environment (VOS_RPC_PORT, ...) and flags.
 * Home layout:
 *   config.json  genesis.json  key.json
 *   data/chain/  (LevelDB)   data/wal/  (consensus WAL)   data/signer-state.json
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { normaliseHostEntry, normaliseOrigin } from '../rpc/access.js';
import { fromHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';

export interface NodeConfig {
  moniker: string;
  rpc: {
    host: string;
    port: number;
    /** Bearer token for admin_* methods (also VOS_ADMIN_TOKEN); without one they are refused. */
    adminToken?: string;
    maxBodyBytes: number;
    /** Max calls per batch. */
    maxBatch: number;
    /** Max bytes of one answer (a batch's in total); a larger answer becomes a -32005 error. */
    maxResponseBytes: number;
    /** Max WebSocket connections. */
    maxConnections: number;
    /** Max requests being handled at once per WebSocket connection. */
    wsMaxInflight: number;
    /**
     * Requests per second per client IP, loopback included (a batch counts its calls; HTTP and
     * WebSocket share it); over it calls get -32005 RATE_LIMITED. 0 = no limit. Also VOS_RPC_RATE_PER_IP.
     */
    ratePerIp: number;
    /** Requests a client IP may send at once after a quiet spell (the token bucket's size). */
    rateBurst: number;
    /** Open HTTP connections per client IP; one more is answered 429 and closed. */
    maxHttpConnectionsPerIp: number;
    /** Open WebSocket connections per client IP; one more is closed (1013) with the reason. */
    maxWsConnectionsPerIp: number;
    /**
     * Host names the RPC answers to besides IP addresses, localhost and `host` (DNS-rebinding guard;
     * "*" = any). Also VOS_RPC_HOSTS (comma-separated).
     */
    hosts: string[];
    /** Origins of web pages allowed to call cross-origin ("*" = any). Also VOS_RPC_CORS_ORIGINS. */
    corsOrigins: string[];
  };
  /**
   * `relays`: circuit-relay nodes (multiaddr with /p2p/ID) to also listen through (behind NAT).
   * `direct: false`: no TCP/QUIC listener at all, only the relays' circuit addresses (a node that
   * cannot be dialled; it still dials out).
   */
  p2p: { host: string; port: number; seeds: string[]; relays: string[]; direct: boolean };
  /**
   * Messages: mailbox holders per recipient, the base quota a holder keeps per sender (messages,
   * bytes), how often the node collects its own mail from holders, the direct-dial budget.
   */
  comm: {
    holders: number;
    quotaMessages: number;
    quotaBytes: number;
    collectIntervalMs: number;
    directTimeoutMs: number;
  };
  /**
   * The DNS gateway for `vos.` (UDP and TCP on one port). maxTtl caps every answer's TTL and the
   * negative TTL (s); udpPayload is the EDNS UDP size offered (bytes); workers > 0 answers from that
   * many processes sharing the socket (node:cluster) instead of the node's own.
   */
  dns: { host: string; port: number; maxTtl: number; udpPayload: number; workers: number };
  /**
   * The local content store (`<home>/data/storage`): maxBytes is its budget on disk. providerCapacity >
   * 0 makes the node a storage provider: it registers that many bytes on chain and holds other nodes'
   * shards in `<home>/data/storage/shards` up to it.
   */
  storage: { maxBytes: number; providerCapacity: number };
  /**
   * Apps: queryGas caps the gas of one app_query; serve lists the app ids this node hosts off chain
   * (peers call them over the comm protocol: vm/hosted), each call bounded by hostedTimeoutMs of wall
   * clock besides its gas.
   */
  app: { queryGas: number; serve: string[]; hostedTimeoutMs: number };
  log: { level: string; format: 'json' | 'pretty' };
  consensus: {
    timeoutProposeMs: number;
    timeoutPrevoteMs: number;
    timeoutPrecommitMs: number;
    /** Added to each timeout per round. */
    timeoutDeltaMs: number;
    /** Empty blocks are made only this often; a block is proposed at once when txs wait. */
    emptyBlockIntervalMs: number;
    /**
     * Max txs in one block (besides the gas and byte limits of the genesis). 3,000 measured best for
     * 4 validators on 2 cores: larger blocks take the others too long to check (bench/devnet.bench.ts).
     */
    maxBlockTxs: number;
    /**
     * The proposer stops adding txs after executing them for this long: every validator executes the
     * block before it prevotes, so a block must be checkable well within the propose timeout.
     */
    maxBlockBuildMs: number;
  };
  /** strandedTtlMs: a tx behind a nonce gap is dropped after waiting this long. */
  mempool: { maxTxs: number; maxBytes: number; strandedTtlMs: number };
  /**
   * Weak-subjectivity checkpoint (0 and '' = none): the hash of the block at `trustHeight`, from a
   * source the operator trusts. Block sync syncs only the chain that has it; a node whose stored
   * block there differs refuses to start. `vos start --trust-height H --trust-hash 0x...` sets it.
   */
  sync: { trustHeight: number; trustHash: string };
}

/** A trusted checkpoint from config or flags; undefined when neither is set. Throws INVALID_CONFIG. */
export function parseTrust(
  height: number | string | undefined,
  hash: string | undefined,
): { height: number; hash: Uint8Array } | undefined {
  const h = typeof height === 'string' && /^[0-9]+$/.test(height) ? Number(height) : height;
  const none = (h === undefined || h === 0) && (hash === undefined || hash === '');
  if (none) return undefined;
  const bad = (message: string) =>
    new VosError({ code: 'INVALID_CONFIG', field: 'sync' }, `invalid trusted block: ${message}`);
  if (typeof h !== 'number' || !Number.isSafeInteger(h) || h < 1)
    throw bad('the trust height must be a positive integer (and comes with a trust hash)');
  if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hash))
    throw bad('the trust hash must be 0x and 64 hex digits (and comes with a trust height)');
  return { height: h, hash: fromHex(hash, 32) };
}

export const DEFAULT_RPC_PORT = 8545;

/** A dialable peer address: /ip4/HOST/tcp/PORT/p2p/PEER_ID (also ip6, dns4, dns6, dns). */
export const PEER_MULTIADDR_RE = /^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d+\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/;

export function defaultConfig(
  overrides: { moniker?: string; rpcPort?: number; p2pPort?: number; dnsPort?: number } = {},
): NodeConfig {
  const rpcPort = overrides.rpcPort ?? DEFAULT_RPC_PORT;
  return {
    moniker: overrides.moniker ?? 'vos-node',
    rpc: {
      host: '127.0.0.1',
      port: rpcPort,
      maxBodyBytes: 5 * 1024 * 1024,
      maxBatch: 100,
      // A full block (genesis maxBlockBytes 8 MiB) is ~17 MiB as JSON with hex.
      maxResponseBytes: 32 * 1024 * 1024,
      maxConnections: 200,
      wsMaxInflight: 32,
      // High enough for the CLI, the tests and the web app (and a devnet explorer reading every block
      // in batches of 100); flooding benchmarks turn it off (0).
      ratePerIp: 500,
      rateBurst: 1000,
      maxHttpConnectionsPerIp: 128,
      maxWsConnectionsPerIp: 32,
      hosts: [],
      corsOrigins: [],
    },
    // Port 0 (tests): every listener takes an ephemeral port.
    p2p: {
      host: '127.0.0.1',
      port: overrides.p2pPort ?? (rpcPort === 0 ? 0 : rpcPort + 1),
      seeds: [],
      relays: [],
      direct: true,
    },
    comm: {
      holders: 3,
      quotaMessages: 200,
      quotaBytes: 4 * 1024 * 1024,
      collectIntervalMs: 15_000,
      directTimeoutMs: 5000,
    },
    dns: {
      host: '127.0.0.1',
      port: overrides.dnsPort ?? (rpcPort === 0 ? 0 : rpcPort + 2),
      maxTtl: 5,
      udpPayload: 1232,
      workers: 0,
    },
    storage: { maxBytes: 10 * 1024 ** 3, providerCapacity: 0 },
    app: { queryGas: 100_000_000, serve: [], hostedTimeoutMs: 2000 },
    log: { level: 'info', format: 'json' },
    consensus: {
      timeoutProposeMs: 3000,
      timeoutPrevoteMs: 1000,
      timeoutPrecommitMs: 1000,
      timeoutDeltaMs: 500,
      emptyBlockIntervalMs: 1000,
      maxBlockTxs: 3000,
      maxBlockBuildMs: 500,
    },
    mempool: { maxTxs: 200_000, maxBytes: 256 * 1024 * 1024, strandedTtlMs: 10 * 60_000 },
    sync: { trustHeight: 0, trustHash: '' },
  };
}

export interface HomePaths {
  home: string;
  config: string;
  genesis: string;
  key: string;
  data: string;
  chainDb: string;
  storage: string;
  wal: string;
  signerState: string;
}

export function homePaths(home: string): HomePaths {
  const h = resolve(home);
  return {
    home: h,
    config: join(h, 'config.json'),
    genesis: join(h, 'genesis.json'),
    key: join(h, 'key.json'),
    data: join(h, 'data'),
    chainDb: join(h, 'data', 'chain'),
    storage: join(h, 'data', 'storage'),
    wal: join(h, 'data', 'wal'),
    signerState: join(h, 'data', 'signer-state.json'),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge a parsed config over the defaults, rejecting unknown keys and wrong types. */
function mergeChecked(base: Record<string, unknown>, over: Record<string, unknown>, path: string): void {
  for (const [k, v] of Object.entries(over)) {
    const where = path === '' ? k : `${path}.${k}`;
    if (!(k in base)) {
      if (k === 'adminToken' && typeof v === 'string') {
        base[k] = v;
        continue;
      }
      throw new VosError({ code: 'INVALID_CONFIG', field: where }, `invalid config: unknown key ${where}`);
    }
    const cur = base[k];
    if (isObject(cur)) {
      if (!isObject(v))
        throw new VosError(
          { code: 'INVALID_CONFIG', field: where },
          `invalid config: ${where} must be an object`,
        );
      mergeChecked(cur, v, where);
    } else if (typeof cur !== typeof v || Array.isArray(cur) !== Array.isArray(v)) {
      throw new VosError(
        { code: 'INVALID_CONFIG', field: where },
        `invalid config: ${where} must be a ${typeof cur}`,
      );
    } else {
      base[k] = v;
    }
  }
}

export async function loadConfig(home: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeConfig> {
  const paths = homePaths(home);
  let text: string;
  try {
    text = await readFile(paths.config, 'utf8');
  } catch {
    throw new VosError(
      { code: 'NOT_INITIALISED', home: paths.home },
      `no config in ${paths.home}: run \`vos init --home ${home}\` first`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VosError(
      { code: 'INVALID_CONFIG', field: '$' },
      `invalid config ${paths.config}: ${(err as Error).message}`,
    );
  }
  if (!isObject(json))
    throw new VosError({ code: 'INVALID_CONFIG', field: '$' }, 'invalid config: expected an object');
  const cfg = defaultConfig() as unknown as Record<string, unknown>;
  mergeChecked(cfg, json, '');
  const c = cfg as unknown as NodeConfig;
  const port = (name: string, fallback: number) => {
    const v = env[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new VosError({ code: 'INVALID_CONFIG', field: name }, `${name} must be a port`);
    return n;
  };
  for (const r of c.p2p.relays)
    if (typeof r !== 'string' || !PEER_MULTIADDR_RE.test(r))
      throw new VosError(
        { code: 'INVALID_CONFIG', field: 'p2p.relays' },
        `p2p.relays wants /ip4/<host>/tcp/<port>/p2p/<peer id>, got ${String(r)}`,
      );
  parseTrust(c.sync.trustHeight, c.sync.trustHash);
  if (!c.p2p.direct && c.p2p.relays.length === 0)
    throw new VosError(
      { code: 'INVALID_CONFIG', field: 'p2p.direct' },
      'p2p.direct false needs at least one p2p.relays entry (the node would have no address)',
    );
  for (const [field, min, max] of [
    ['holders', 1, 20],
    ['quotaMessages', 1, 1_000_000],
    ['quotaBytes', 1024, 1024 ** 3],
    ['collectIntervalMs', 100, 3_600_000],
    ['directTimeoutMs', 100, 120_000],
  ] as const) {
    const v = c.comm[field];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new VosError(
        { code: 'INVALID_CONFIG', field: `comm.${field}` },
        `comm.${field} must be ${min}..${max}`,
      );
  }
  if (!Number.isSafeInteger(c.app.queryGas) || c.app.queryGas < 1000 || c.app.queryGas > 1_000_000_000)
    throw new VosError({ code: 'INVALID_CONFIG', field: 'app.queryGas' }, 'app.queryGas must be 1000..1e9');
  if (
    !Number.isInteger(c.app.hostedTimeoutMs) ||
    c.app.hostedTimeoutMs < 10 ||
    c.app.hostedTimeoutMs > 60_000
  )
    throw new VosError(
      { code: 'INVALID_CONFIG', field: 'app.hostedTimeoutMs' },
      'app.hostedTimeoutMs must be 10..60000 (ms)',
    );
  for (const id of c.app.serve)
    if (typeof id !== 'string' || !/^0x[0-9a-f]{64}$/.test(id))
      throw new VosError(
        { code: 'INVALID_CONFIG', field: 'app.serve' },
        `app.serve: ${String(id)} is not an app id`,
      );
  if (!Number.isInteger(c.dns.maxTtl) || c.dns.maxTtl < 0 || c.dns.maxTtl > 86_400)
    throw new VosError({ code: 'INVALID_CONFIG', field: 'dns.maxTtl' }, 'dns.maxTtl must be 0..86400 (s)');
  if (!Number.isInteger(c.dns.udpPayload) || c.dns.udpPayload < 512 || c.dns.udpPayload > 4096)
    throw new VosError(
      { code: 'INVALID_CONFIG', field: 'dns.udpPayload' },
      'dns.udpPayload must be 512..4096 (bytes)',
    );
  if (!Number.isSafeInteger(c.storage.providerCapacity) || c.storage.providerCapacity < 0)
    throw new VosError(
      { code: 'INVALID_CONFIG', field: 'storage.providerCapacity' },
      'storage.providerCapacity must be a byte count (0: not a provider)',
    );
  if (!Number.isSafeInteger(c.storage.maxBytes) || c.storage.maxBytes < 0)
    throw new VosError(
      { code: 'INVALID_CONFIG', field: 'storage.maxBytes' },
      'storage.maxBytes must be a byte count',
    );
  if (!Number.isInteger(c.dns.workers) || c.dns.workers < 0 || c.dns.workers > 64)
    throw new VosError({ code: 'INVALID_CONFIG', field: 'dns.workers' }, 'dns.workers must be 0..64');
  c.rpc.port = port('VOS_RPC_PORT', c.rpc.port);
  c.p2p.port = port('VOS_P2P_PORT', c.p2p.port);
  c.dns.port = port('VOS_DNS_PORT', c.dns.port);
  if (env.VOS_EMPTY_BLOCK_INTERVAL_MS !== undefined) {
    const ms = Number(env.VOS_EMPTY_BLOCK_INTERVAL_MS);
    if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000)
      throw new VosError(
        { code: 'INVALID_CONFIG', field: 'VOS_EMPTY_BLOCK_INTERVAL_MS' },
        'VOS_EMPTY_BLOCK_INTERVAL_MS must be 0..3600000 (ms)',
      );
    c.consensus.emptyBlockIntervalMs = ms;
  }
  if (env.VOS_LOG_LEVEL) c.log.level = env.VOS_LOG_LEVEL;
  if (env.VOS_ADMIN_TOKEN) c.rpc.adminToken = env.VOS_ADMIN_TOKEN;
  const list = (v: string) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  if (env.VOS_RPC_RATE_PER_IP !== undefined) {
    const n = Number(env.VOS_RPC_RATE_PER_IP);
    if (!Number.isInteger(n) || n < 0)
      throw new VosError(
        { code: 'INVALID_CONFIG', field: 'VOS_RPC_RATE_PER_IP' },
        'VOS_RPC_RATE_PER_IP must be a whole number of requests/s (0: no limit)',
      );
    c.rpc.ratePerIp = n;
  }
  if (env.VOS_RPC_HOSTS !== undefined) c.rpc.hosts = list(env.VOS_RPC_HOSTS);
  if (env.VOS_RPC_CORS_ORIGINS !== undefined) c.rpc.corsOrigins = list(env.VOS_RPC_CORS_ORIGINS);
  checkRpcConfig(c.rpc);
  return c;
}

const HOST_ENTRY_RE =
  /^(\*|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9a-fA-F:.]+\])$/;

/** Refuse RPC settings that would not work or not protect, naming the key; normalises the lists. */
export function checkRpcConfig(rpc: NodeConfig['rpc']): void {
  const fail = (field: string, message: string) =>
    new VosError({ code: 'INVALID_CONFIG', field }, `invalid config: ${field} ${message}`);
  const intIn = (field: keyof NodeConfig['rpc'], min: number, max: number) => {
    const v = rpc[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw fail(`rpc.${field}`, `must be an integer in ${min}..${max}`);
  };
  intIn('maxBatch', 1, 100_000);
  intIn('maxBodyBytes', 1024, 1024 ** 3);
  intIn('maxResponseBytes', 1024, 1024 ** 3);
  intIn('maxConnections', 1, 100_000);
  intIn('wsMaxInflight', 1, 10_000);
  intIn('ratePerIp', 0, 10_000_000);
  intIn('rateBurst', 1, 10_000_000);
  intIn('maxHttpConnectionsPerIp', 1, 100_000);
  intIn('maxWsConnectionsPerIp', 1, 100_000);
  for (const h of rpc.hosts)
    if (typeof h !== 'string' || !HOST_ENTRY_RE.test(h))
      throw fail(
        'rpc.hosts',
        `wants host names without scheme or port (e.g. node.example.com) or "*", got ${String(h)}`,
      );
  rpc.hosts = rpc.hosts.map(normaliseHostEntry);
  rpc.corsOrigins = rpc.corsOrigins.map((o) => {
    const n = typeof o === 'string' ? normaliseOrigin(o) : null;
    if (n === null)
      throw fail(
        'rpc.corsOrigins',
        `wants origins like https://app.example or http://localhost:3000 (or "*"), got ${String(o)}`,
      );
    return n;
  });
  const token = rpc.adminToken;
  if (token !== undefined && (typeof token !== 'string' || token.length < 16 || /\s/.test(token)))
    throw fail(
      'rpc.adminToken',
      'must be at least 16 characters without spaces (e.g. the output of `openssl rand -hex 32`)',
    );
}

export async function writeConfig(home: string, cfg: NodeConfig): Promise<void> {
  const paths = homePaths(home);
  await mkdir(paths.home, { recursive: true });
  await writeFile(paths.config, `${JSON.stringify(cfg, null, 2)}\n`);
}
