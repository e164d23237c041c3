import type { Command } from 'commander';
import { VosNode } from '../../node/node.js';
import { createLogger } from '../../util/logger.js';
import { CliError } from '../output.js';

export interface StartOptions {
  home: string;
  join?: string;
  logFormat?: 'json' | 'pretty';
  logLevel?: string;
}

/** Run a node until SIGINT/SIGTERM; resolves after a clean shutdown. */
export async function runNode(o: StartOptions): Promise<void> {
  if (o.join !== undefined) {
    throw new CliError(
      '--join needs the P2P layer, which this build does not have yet (see README, "What works now")',
    );
  }
  const logger =
    o.logFormat || o.logLevel
      ? createLogger({ format: o.logFormat, level: o.logLevel ?? 'info' })
      : undefined;
  const node = await VosNode.create({ home: o.home, logger });
  await node.open();
  process.stderr.write(
    `vos: node ${node.key.address} serving RPC at ${node.rpcUrl} (chain ${node.genesis.chainId})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      node.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run a node from its home directory')
    .requiredOption('--home <dir>', 'node home (made by `vos init`)')
    .option('--join <multiaddr>', 'peer to join (needs P2P)')
    .option('--log-format <format>', 'json or pretty')
    .option('--log-level <level>', 'log level (info, debug, ...)')
    .action(async (o) => {
      await runNode(o);
    });
}
