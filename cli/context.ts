/** Where the CLI finds its node (--rpc) and its signing key (--home). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { PrivateKey } from '../chain/keys.js';
import { loadKey } from '../chain/keystore.js';
import { DEFAULT_RPC_PORT, homePaths } from '../node/config.js';
import { RpcClient } from '../rpc/client.js';

export interface NodeOptions {
  rpc?: string;
  home?: string;
  json?: boolean;
}

/** --home, else $VOS_HOME, else ./.devnet/node0 when `npm start` made it, else ~/.vos. */
export function resolveHome(opts: NodeOptions): string {
  if (opts.home) return opts.home;
  if (process.env.VOS_HOME) return process.env.VOS_HOME;
  if (existsSync(join('.devnet', 'node0', 'key.json'))) return join('.devnet', 'node0');
  return join(homedir(), '.vos');
}

/** --rpc, else the RPC address in the home's config, else http://127.0.0.1:8545. */
export async function resolveRpcUrl(opts: NodeOptions): Promise<string> {
  if (opts.rpc) return opts.rpc;
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

export async function signingKey(opts: NodeOptions): Promise<PrivateKey> {
  return loadKey(homePaths(resolveHome(opts)).key);
}
