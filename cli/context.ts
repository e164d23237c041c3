/** Where the CLI finds its node (--rpc) and its signing key (--home, --from). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { PrivateKey } from '../chain/keys.js';
import { loadKey } from '../chain/keystore.js';
import { DEFAULT_RPC_PORT, homePaths } from '../node/config.js';
import { RpcClient } from '../rpc/client.js';
import { CliError } from './output.js';

export interface NodeOptions {
  rpc?: string;
  home?: string;
  /** A named key of the home (`vos keys new NAME`) instead of the node key. */
  from?: string;
  json?: boolean;
}

/** --home, else $VOS_HOME, else ./.devnet/node0 when `npm start` made it, else ~/.vos. */
export function resolveHome(opts: NodeOptions): string {
  if (opts.home) return opts.home;
  if (process.env.VOS_HOME) return process.env.VOS_HOME;
  if (existsSync(join('.devnet', 'node0', 'key.json'))) return join('.devnet', 'node0');
  return join(homedir(), '.vos');
}

export const NODE_KEY_NAME = 'node';
const KEY_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * The node key is <home>/key.json (also named "node", as `vos keys list` shows it); named keys live in
 * <home>/keys/<name>.json.
 */
export function keyPath(home: string, name?: string): string {
  if (name === undefined || name === NODE_KEY_NAME) return homePaths(home).key;
  if (!KEY_NAME_RE.test(name))
    throw new CliError(`invalid key name "${name}" (1-64 letters, digits, - and _)`, 2, 'INVALID_KEY_NAME');
  return join(homePaths(home).home, 'keys', `${name}.json`);
}

/**
 * `http://host:port`, also from `host:port` or a bare port (the scheme is optional). Throws a usage
 * error for anything else.
 */
export function normalizeRpcUrl(s: string): string {
  const t = s.trim();
  let withScheme = t;
  if (/^\d{1,5}$/.test(t)) withScheme = `http://127.0.0.1:${t}`;
  else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) withScheme = `http://${t}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`--rpc wants a URL like http://127.0.0.1:8545, got "${s}"`, 2, 'INVALID_RPC_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(
      `--rpc wants an http:// or https:// URL (like http://127.0.0.1:8545), got "${s}"`,
      2,
      'INVALID_RPC_URL',
    );
  return url.pathname === '/' && !t.endsWith('/') ? url.origin : url.toString();
}

/** --rpc, else the RPC address in the home's config, else http://127.0.0.1:8545. */
export async function resolveRpcUrl(opts: NodeOptions): Promise<string> {
  if (opts.rpc) return normalizeRpcUrl(opts.rpc);
  try {
    const cfg = JSON.parse(await readFile(homePaths(resolveHome(opts)).config, 'utf8'));
    if (cfg?.rpc?.port) return `http://${cfg.rpc.host ?? '127.0.0.1'}:${cfg.rpc.port}`;
  } catch {
    // no home config: use the default
  }
  return `http://127.0.0.1:${DEFAULT_RPC_PORT}`;
}

export async function rpcClient(opts: NodeOptions): Promise<RpcClient> {
  return new RpcClient(await resolveRpcUrl(opts), { timeoutMs: 120_000 });
}

/** The key file `--from NAME` (or the node key) of the home; a missing one says how to get one. */
export function keyFileOf(opts: NodeOptions): string {
  const home = resolveHome(opts);
  const file = keyPath(home, opts.from);
  if (existsSync(file)) return file;
  const dir = homePaths(home).home;
  if (opts.from !== undefined && opts.from !== NODE_KEY_NAME)
    throw new CliError(
      `no key named "${opts.from}" in ${dir} (${file}): create it with \`vos keys new ${opts.from} --home ${home}\`, or pass the --home it was made in (\`vos keys list --home DIR\` lists a home's keys)`,
      1,
      'KEY_NOT_FOUND',
    );
  throw new CliError(
    `no key in ${dir} (${file}): run \`vos init --home ${home}\` to create a node home, or pass --home DIR of an existing one (\`npm start\` makes .devnet/node0)`,
    1,
    'KEY_NOT_FOUND',
  );
}

export async function signingKey(opts: NodeOptions): Promise<PrivateKey> {
  return loadKey(keyFileOf(opts));
}

/** A client with the home's admin token (VOS_ADMIN_TOKEN, else rpc.adminToken of its config.json). */
export async function adminClient(opts: NodeOptions): Promise<RpcClient> {
  let token = process.env.VOS_ADMIN_TOKEN;
  if (!token) {
    try {
      token = JSON.parse(await readFile(homePaths(resolveHome(opts)).config, 'utf8'))?.rpc?.adminToken;
    } catch {
      // no home config
    }
  }
  if (!token)
    throw new CliError(
      `no admin token: set VOS_ADMIN_TOKEN or rpc.adminToken in ${homePaths(resolveHome(opts)).config}`,
      1,
      'NO_ADMIN_TOKEN',
    );
  return new RpcClient(await resolveRpcUrl(opts), { timeoutMs: 120_000, token });
}
