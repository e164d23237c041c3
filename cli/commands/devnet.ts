/**
 * `vos devnet`: a local network of validator processes. Writes DIR/devnet.json; reuses DIR when it
 * exists (data survives restarts). Never restarts a node by itself: a killed node stays down until
 * `vos start --home <its home>`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { PrivateKey } from '../../chain/keys.js';
import { loadKey } from '../../chain/keystore.js';
import { createDevGenesis, genesisToJSON } from '../../genesis/genesis.js';
import { homePaths } from '../../node/config.js';
import { peerIdOf } from '../../p2p/host.js';
import { RpcClient } from '../../rpc/client.js';
import { CliError, emit } from '../output.js';
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

/** Node i: RPC base + 10i, P2P base + 10i + 1, DNS base + 10i + 2 (node0's RPC on 8545 by default). */
export function devnetPorts(base: number, i: number) {
  return { rpc: base + 10 * i, p2p: base + 10 * i + 1, dns: base + 10 * i + 2 };
}

async function ensureHomes(
  dir: string,
  n: number,
  base: number,
): Promise<{ chainId: string; homes: string[] }> {
  const homes = Array.from({ length: n }, (_, i) => join(dir, `node${i}`));
  const fresh = homes.filter((h) => !existsSync(homePaths(h).config));
  if (fresh.length === n) {
    const keys = homes.map(() => PrivateKey.generate());
    const genesis = createDevGenesis(keys, { chainId: 'vos-devnet' });
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
      await writeFile(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`);
    }
    return { chainId: genesis.chainId, homes };
  }
  if (fresh.length > 0)
    throw new CliError(
      `${dir} holds a devnet of another size: remove it or use --validators ${n - fresh.length}`,
    );
  const g = JSON.parse(await readFile(homePaths(homes[0]).genesis, 'utf8'));
  return { chainId: g.chainId, homes };
}

function portsOf(p: { rpc: number; p2p: number; dns: number }) {
  return { rpcPort: p.rpc, p2pPort: p.p2p, dnsPort: p.dns };
}

const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'bin', 'vos.js');

async function waitForRpc(url: string, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const client = new RpcClient(url, { timeoutMs: 1000 });
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new CliError(`node at ${url} exited with code ${child.exitCode} (see its node.log)`);
    try {
      await client.call('node_status');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new CliError(`node at ${url} did not answer within ${ms / 1000} s`);
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
    .option('--json', 'machine output')
    .action(async (o) => {
      const n = o.validators as number;
      if (!Number.isInteger(n) || n < 1 || n > 32) throw new CliError('--validators must be 1..32', 2);
      const dir = resolve(o.dir as string);
      const base = o.basePort as number;
      const { chainId, homes } = await ensureHomes(dir, n, base);
      const children: ChildProcess[] = [];
      const nodes: DevnetNode[] = [];
      for (let i = 0; i < n; i++) {
        const log = openSync(join(homes[i], 'node.log'), 'a');
        const child = spawn(process.execPath, [BIN, 'start', '--home', homes[i]], {
          stdio: ['ignore', log, log],
        });
        children.push(child);
        const cfg = JSON.parse(await readFile(homePaths(homes[i]).config, 'utf8'));
        const key = JSON.parse(await readFile(homePaths(homes[i]).key, 'utf8'));
        nodes.push({
          name: `node${i}`,
          home: homes[i],
          pid: child.pid ?? -1,
          rpc: `http://${cfg.rpc.host}:${cfg.rpc.port}`,
          p2p: `/ip4/${cfg.p2p.host}/tcp/${cfg.p2p.port}/p2p/${await peerIdOf(await loadKey(homePaths(homes[i]).key))}`,
          dns: `${cfg.dns.host}:${cfg.dns.port}`,
          address: key.address,
        });
      }
      const file: DevnetFile = { chainId, nodes };
      await writeFile(join(dir, 'devnet.json'), `${JSON.stringify(file, null, 2)}\n`);
      const stopAll = () => {
        for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      };
      process.once('SIGINT', stopAll);
      process.once('SIGTERM', stopAll);
      try {
        await Promise.all(nodes.map((nd, i) => waitForRpc(nd.rpc, children[i], 60_000)));
      } catch (err) {
        stopAll();
        throw err;
      }
      emit(o, file, () =>
        [
          `VOS devnet "${chainId}" with ${n} validator${n > 1 ? 's' : ''} (${join(dir, 'devnet.json')})`,
          ...nodes.map(
            (nd) =>
              `  ${nd.name}  RPC ${nd.rpc}  metrics ${nd.rpc}/metrics  health ${nd.rpc}/healthz  ${nd.address}`,
          ),
          'logs: <home>/node.log; stop with Ctrl-C (nodes are not restarted automatically)',
        ].join('\n'),
      );
      // The supervisor stays up while any node runs; it never restarts one.
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
      );
    });
}
