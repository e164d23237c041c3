import type { Command } from 'commander';
import { loadConfig, PEER_MULTIADDR_RE, parseTrust } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { createLogger } from '../../util/logger.js';
import { CliError } from '../output.js';

export interface StartOptions {
  home: string;
  join?: string;
  relay?: string[];
  trustHeight?: string;
  trustHash?: string;
  logFormat?: 'json' | 'pretty';
  logLevel?: string;
}

/** Run a node until SIGINT/SIGTERM; resolves after a clean shutdown. */
export async function runNode(o: StartOptions): Promise<void> {
  const config = await loadConfig(o.home);
  if (o.join !== undefined) {
    if (!PEER_MULTIADDR_RE.test(o.join))
      throw new CliError(`--join wants /ip4/<host>/tcp/<port>/p2p/<peer id>, got ${o.join}`, 2);
    config.p2p.seeds = [...config.p2p.seeds.filter((s) => s !== o.join), o.join];
  }
  for (const r of o.relay ?? []) {
    if (!PEER_MULTIADDR_RE.test(r))
      throw new CliError(`--relay wants /ip4/<host>/tcp/<port>/p2p/<peer id>, got ${r}`, 2);
    if (!config.p2p.relays.includes(r)) config.p2p.relays.push(r);
  }
  if (o.trustHeight !== undefined || o.trustHash !== undefined) {
    try {
      parseTrust(o.trustHeight ?? 0, o.trustHash ?? '');
    } catch (err) {
      throw new CliError(`--trust-height H --trust-hash 0x<64 hex>: ${(err as Error).message}`, 2);
    }
    config.sync = { trustHeight: Number(o.trustHeight ?? 0), trustHash: o.trustHash ?? '' };
  }
  const logger =
    o.logFormat || o.logLevel
      ? createLogger({ format: o.logFormat, level: o.logLevel ?? 'info' })
      : undefined;
  const node = await VosNode.create({ home: o.home, config, logger });
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
    .option('--join <multiaddr>', 'a peer to connect to and sync from (/ip4/.../tcp/PORT/p2p/ID)')
    .option(
      '--relay <multiaddr>',
      'also listen through this circuit relay, for a node others cannot dial (repeatable)',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--trust-height <height>',
      'weak-subjectivity checkpoint: sync only the chain whose block at this height has --trust-hash',
    )
    .option('--trust-hash <hash>', 'the trusted hash (0x + 64 hex) of the block at --trust-height')
    .option('--log-format <format>', 'json or pretty')
    .option('--log-level <level>', 'log level (info, debug, ...)')
    .action(async (o) => {
      await runNode(o);
    });
}
