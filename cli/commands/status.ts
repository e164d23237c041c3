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
  address: string;
  dns?: number;
}

interface ControlNode {
  epoch: number;
  contribution: string;
  threshold: string;
  quota: number;
  used: number;
  boost: number;
}

const MiB = (n: number | string) => `${(Number(n) / 1024 ** 2).toFixed(1)} MiB`;

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
      const client = await rpcClient(o);
      const s = await client.call<NodeStatus>('node_status', []);
      const c = await client.call<ControlNode>('control_getNode', [s.address]);
      const runtime = { node: process.version, supported: supportedNode() };
      emit(o, { ...s, control: c, cli: runtime }, () =>
        [
          `chain     ${s.chainId}`,
          `height    ${s.height}`,
          `block     ${s.latestBlockHash}`,
          `time      ${s.latestBlockTime}`,
          `peers     ${s.peers}`,
          `syncing   ${s.syncing}`,
          `validator ${s.validator ? `${s.validator.address} (power ${s.validator.power})` : 'no'}`,
          `contrib   ${MiB(c.contribution)} in epoch ${c.epoch} (threshold ${MiB(c.threshold)})`,
          `quota     ${MiB(c.used)} used of ${MiB(c.quota)} storage`,
          `boost     ${c.boost.toFixed(3)} (search score x ${(1 + c.boost).toFixed(3)})`,
          `dns       ${s.dns === undefined ? 'not listening' : `port ${s.dns} (udp+tcp, zone vos.)`}`,
          `node.js   ${runtime.node} (VOS supports Node.js ${runtime.supported}; tested on 20.x)`,
        ].join('\n'),
      );
    });
}
