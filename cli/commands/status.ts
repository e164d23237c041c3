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
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the status of a node')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'home whose config names the node')
    .option('--json', 'machine output')
    .action(async (o) => {
      const s = await (await rpcClient(o)).call<NodeStatus>('node_status', []);
      emit(o, s, () =>
        [
          `chain     ${s.chainId}`,
          `height    ${s.height}`,
          `block     ${s.latestBlockHash}`,
          `time      ${s.latestBlockTime}`,
          `peers     ${s.peers}`,
          `syncing   ${s.syncing}`,
          `validator ${s.validator ? `${s.validator.address} (power ${s.validator.power})` : 'no'}`,
        ].join('\n'),
      );
    });
}
