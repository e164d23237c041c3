import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { rpcClient } from '../context.js';
import { emit } from '../output.js';

interface NodeStatus {
  chainId: string;
  height: number;
  latestBlockHash: string;
  latestBlockTime: string;
  peers: number;
  syncing: boolean;
  validator: { address: string; power: string } | null;
  dns?: number;
}

/** The Node.js versions VOS supports: package.json's engines (the one place they are written). */
export function supportedNode(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      engines?: { node?: string };
    };
    return pkg.engines?.node ?? '>=20.19';
  } catch {
    return '>=20.19';
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the status of a node (and the Node.js version this CLI runs on)')
    .option('--rpc <url>', 'node JSON-RPC URL (http://HOST:PORT; HOST:PORT works too)')
    .option('--home <dir>', 'home whose config names the node')
    .option('--json', 'machine output')
    .action(async (o) => {
      const s = await (await rpcClient(o)).call<NodeStatus>('node_status', []);
      const runtime = { node: process.version, supported: supportedNode() };
      emit(o, { ...s, cli: runtime }, () =>
        [
          `chain     ${s.chainId}`,
          `height    ${s.height}`,
          `block     ${s.latestBlockHash}`,
          `time      ${s.latestBlockTime}`,
          `peers     ${s.peers}`,
          `syncing   ${s.syncing}`,
          `validator ${s.validator ? `${s.validator.address} (power ${s.validator.power})` : 'no'}`,
          `dns       ${s.dns === undefined ? 'not listening' : `port ${s.dns} (udp+tcp, zone vos.)`}`,
          `node.js   ${runtime.node} (VOS supports Node.js ${runtime.supported}; tested on 20.x)`,
        ].join('\n'),
      );
    });
}
