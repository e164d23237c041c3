import type { Command } from 'commander';
import { Address } from '../../chain/address.js';
import { TxKind, type TxPayload } from '../../chain/tx/kinds.js';
import { type NodeOptions, rpcClient, signingKey } from '../context.js';
import { CliError, emit, parseAmount } from '../output.js';
import { type Committed, sendAndCommit } from '../tx-sender.js';

export interface TxCliOptions extends NodeOptions {
  gasPrice?: string;
  gasLimit?: string;
}

export function withTxOptions(cmd: Command): Command {
  return cmd
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'home with the signing key')
    .option(
      '--from <name>',
      'sign with the named key of the home (`vos keys new NAME`); default: the node key',
    )
    .option('--gas-price <n>', 'gas price (default: the chain minimum)')
    .option('--gas-limit <n>', 'gas limit')
    .option('--json', 'machine output');
}

export async function submit(o: TxCliOptions, payload: TxPayload): Promise<Committed> {
  const client = await rpcClient(o);
  const key = await signingKey(o);
  const r = await sendAndCommit(client, key, payload, {
    gasPrice: o.gasPrice === undefined ? undefined : parseAmount(o.gasPrice, '--gas-price'),
    gasLimit: o.gasLimit === undefined ? undefined : parseAmount(o.gasLimit, '--gas-limit'),
  });
  if (r.receipt.status !== 'ok')
    throw new CliError(
      `tx ${r.hash} committed at height ${r.height} but failed: ${r.receipt.error}`,
      1,
      'TX_FAILED',
    );
  return r;
}

function parseAddress(s: string): Address {
  try {
    return Address.fromString(s);
  } catch (err) {
    throw new CliError((err as Error).message, 2, 'INVALID_ADDRESS');
  }
}

export function registerTx(program: Command): void {
  const tx = program.command('tx').description('send transactions');
  withTxOptions(
    tx
      .command('transfer')
      .description('transfer tokens; waits until committed')
      .requiredOption('--to <address>', 'recipient (vos1...)')
      .requiredOption('--amount <n>', 'amount'),
  ).action(async (o) => {
    const payload: TxPayload = {
      kind: TxKind.Transfer,
      body: { to: parseAddress(o.to), amount: parseAmount(o.amount) },
    };
    const r = await submit(o, payload);
    emit(o, { hash: r.hash, height: r.height }, `committed ${r.hash} at height ${r.height}`);
  });
}

export function registerStake(program: Command): void {
  const stake = program.command('stake').description('bond or unbond stake (validators)');
  withTxOptions(stake.command('add').description('bond stake from the balance').argument('<amount>')).action(
    async (amount: string, o) => {
      const r = await submit(o, { kind: TxKind.Stake, body: { amount: parseAmount(amount) } });
      emit(o, { hash: r.hash, height: r.height }, `staked; committed ${r.hash} at height ${r.height}`);
    },
  );
  withTxOptions(
    stake
      .command('remove')
      .description('unbond stake (returns to the balance after the unbonding period)')
      .argument('<amount>'),
  ).action(async (amount: string, o) => {
    const r = await submit(o, { kind: TxKind.Unstake, body: { amount: parseAmount(amount) } });
    const release = (r.receipt.events as { type: string; attributes: Record<string, string> }[]).find(
      (e) => e.type === 'unstake',
    );
    emit(
      o,
      {
        hash: r.hash,
        height: r.height,
        releaseHeight: release ? Number(release.attributes.releaseHeight) : null,
      },
      `unbonding; committed ${r.hash} at height ${r.height}${release ? `, released at height ${release.attributes.releaseHeight}` : ''}`,
    );
  });
  stake
    .command('show')
    .description("show an account's stake and the validator set")
    .argument('[address]', 'address (default: the home key)')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'home with the key')
    .option('--from <name>', 'the named key of the home (default: the node key)')
    .option('--json', 'machine output')
    .action(async (address: string | undefined, o) => {
      const client = await rpcClient(o);
      const addr = address ? parseAddress(address).toString() : (await signingKey(o)).address.toString();
      const acct = await client.call<{ stake: string; jailed: boolean }>('chain_getAccount', [addr]);
      const vals = await client.call<{ validators: { address: string; power: string }[] }>(
        'chain_getValidators',
        [],
      );
      const active = vals.validators.find((v) => v.address === addr);
      const out = { address: addr, stake: acct.stake, jailed: acct.jailed, power: active?.power ?? '0' };
      emit(
        o,
        out,
        `${addr}\n  stake ${out.stake}${out.jailed ? ' (jailed)' : ''}\n  voting power ${out.power}`,
      );
    });
}
