import type { Command } from 'commander';
import { loadConfig, PEER_MULTIADDR_RE, parseTrust } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { createLogger } from '../../util/logger.js';
import { CliError, emit } from '../output.js';

export interface StartOptions {
  home: string;
  join?: string;
  relay?: string[];
  trustHeight?: string;
  trustHash?: string;
  logFormat?: 'json' | 'pretty';
  logLevel?: string;
  /** Machine output on stdout (one JSON line when started, one when stopped); logs go to stderr. */
  json?: boolean;
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
  if (o.logFormat !== undefined && o.logFormat !== 'json' && o.logFormat !== 'pretty')
    throw new CliError(`--log-format is json or pretty, got ${o.logFormat}`, 2);
  const logger = createLogger({
    format: o.logFormat ?? config.log.format,
    level: o.logLevel ?? config.log.level,
    // With --json, stdout carries only the machine output.
    destination: o.json ? 2 : 1,
  });
  const node = await VosNode.create({ home: o.home, config, logger });
  // Stop on a signal during open too (it then closes what was opened and releases the home).
  let stopping = false;
  let stop: () => void = () => {
    stopping = true;
  };
  const onSignal = () => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await node.open();
    const started = {
      event: 'started',
      address: node.key.address.toString(),
      chainId: node.genesis.chainId,
      height: node.ledger.head.height,
      rpc: node.rpcUrl,
      p2p: node.host?.getMultiaddrs().map(String) ?? [],
      home: node.paths.home,
      pid: process.pid,
    };
    const tcp = started.p2p.find((a) => a.includes('/tcp/')) ?? started.p2p[0] ?? 'none';
    if (o.json) emit(o, started, '');
    else
      process.stderr.write(
        `node ${started.address} started (chain ${started.chainId}, height ${started.height}): RPC ${started.rpc}, P2P ${tcp}\n`,
      );
    const bar = o.json ? undefined : syncProgress(node);
    await new Promise<void>((resolve) => {
      stop = resolve;
      if (stopping) resolve();
    });
    if (bar !== undefined) clearInterval(bar);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await node.close();
  }
  if (o.json) emit(o, { event: 'stopped', height: node.ledger.head.height }, '');
}

/** On a terminal, a progress line while the node syncs blocks from peers ahead of it. */
function syncProgress(node: VosNode): NodeJS.Timeout | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  let shown = false;
  const t = setInterval(() => {
    const target = node.sync?.target ?? 0;
    const height = node.ledger.head.height;
    if (target > 0 && height < target) {
      const pct = Math.floor((100 * height) / target);
      const width = 30;
      const done = Math.round((width * height) / target);
      process.stderr.write(
        `\rsyncing [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${height}/${target} ${pct}%`,
      );
      shown = true;
    } else if (shown) {
      process.stderr.write(`\rsynced to height ${height}${' '.repeat(40)}\n`);
      shown = false;
    }
  }, 500);
  t.unref();
  return t;
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
    .option('--json', 'machine output: one JSON line when started and one when stopped; logs go to stderr')
    .action(async (o) => {
      await runNode(o);
    });
}
