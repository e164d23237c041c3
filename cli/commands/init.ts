import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PrivateKey } from '../../chain/keys.js';
import { encryptKey, plainKeyFile, writeKeyFile } from '../../chain/keystore.js';
import { createDevGenesis, genesisToJSON, loadGenesisFile } from '../../genesis/genesis.js';
import { DEFAULT_RPC_PORT, defaultConfig, homePaths, writeConfig } from '../../node/config.js';
import { CliError, emit } from '../output.js';

export interface InitOptions {
  home: string;
  genesis?: string;
  moniker?: string;
  chainId?: string;
  rpcPort?: number;
  p2pPort?: number;
  dnsPort?: number;
  key?: PrivateKey;
  /** Devnet keys are stored plain and marked as such. */
  plainKeyReason?: string;
}

/** Create a node home: key, config and genesis (a one-validator local chain unless one is given). */
export async function initHome(
  o: InitOptions,
): Promise<{ home: string; address: string; chainId: string; rpc: string }> {
  const paths = homePaths(o.home);
  if (existsSync(paths.config) || existsSync(paths.key)) {
    throw new CliError(`${paths.home} is already initialised (config.json or key.json exists)`);
  }
  const genesisFromFile = o.genesis === undefined ? undefined : await loadGenesisFile(o.genesis);
  await mkdir(paths.data, { recursive: true });
  const key = o.key ?? PrivateKey.generate();
  const pass = process.env.VOS_PASSPHRASE;
  const keyFile =
    o.plainKeyReason !== undefined || !pass
      ? plainKeyFile(
          key,
          o.plainKeyReason ?? 'created without VOS_PASSPHRASE: anyone who can read this file can sign',
        )
      : await encryptKey(key, pass);
  await writeKeyFile(paths.key, keyFile);
  const genesis = genesisFromFile ?? createDevGenesis([key], { chainId: o.chainId ?? 'vos-local' });
  await writeFile(paths.genesis, `${JSON.stringify(genesisToJSON(genesis), null, 2)}\n`);
  const cfg = defaultConfig({
    moniker: o.moniker,
    rpcPort: o.rpcPort,
    p2pPort: o.p2pPort,
    dnsPort: o.dnsPort,
  });
  // The admin token of this home: admin_* RPC methods need it; the CLI reads it from here.
  cfg.rpc.adminToken = randomBytes(24).toString('hex');
  await writeConfig(o.home, cfg);
  return {
    home: paths.home,
    address: key.address.toString(),
    chainId: genesis.chainId,
    rpc: `http://${cfg.rpc.host}:${cfg.rpc.port}`,
  };
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliError(`invalid port ${v}`, 2);
  return n;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a node home: key, config and genesis (a one-validator local chain unless --genesis)')
    .requiredOption('--home <dir>', 'node home directory')
    .option('--genesis <file>', 'genesis file of the chain to join')
    .option('--moniker <name>', 'node name')
    .option('--chain-id <id>', 'chain id of the generated local genesis', 'vos-local')
    .option('--rpc-port <port>', 'JSON-RPC port', port, DEFAULT_RPC_PORT)
    .option('--p2p-port <port>', 'P2P port', port)
    .option('--dns-port <port>', 'DNS gateway port', port)
    .option('--json', 'machine output')
    .action(async (o) => {
      const r = await initHome({ ...o, rpcPort: o.rpcPort, p2pPort: o.p2pPort, dnsPort: o.dnsPort });
      emit(
        o,
        r,
        `initialised ${r.home}\n  address  ${r.address}\n  chain    ${r.chainId}\n  rpc      ${r.rpc}`,
      );
    });
}
