/**
 * End-of-block work of service modules (services/ registers it when imported, as with tx kinds): runs
 * after the block's txs and fees, before the validator-set update, in registration order, on the
 * proposer and on every validator alike. Consensus-critical: a hook reads and writes only `state`.
 *
 * The voting-power rule is registered the same way (services/control): at an epoch end the ledger
 * asks it for each candidate's power from its stake; without one, power = stake.
 */
import type { Address } from '../address.js';
import type { TxContext } from './execute-tx.js';
import type { StateOverlay } from './overlay.js';
import type { ChainParams } from './params.js';

export type BlockHook = (ctx: TxContext) => Promise<void>;

const HOOKS = new Map<string, BlockHook>();

export function registerBlockHook(name: string, hook: BlockHook): void {
  const have = HOOKS.get(name);
  if (have === hook) return;
  if (have !== undefined) throw new Error(`block hook ${name} registered twice`);
  HOOKS.set(name, hook);
}

export async function runBlockHooks(ctx: TxContext): Promise<void> {
  for (const hook of HOOKS.values()) await hook(ctx);
}

export type PowerRule = (
  state: StateOverlay,
  params: ChainParams,
  address: Address,
  stake: bigint,
) => Promise<bigint>;

let powerRule: PowerRule | null = null;

export function registerPowerRule(rule: PowerRule): void {
  if (powerRule !== null && powerRule !== rule) throw new Error('power rule registered twice');
  powerRule = rule;
}

export async function votingPower(
  state: StateOverlay,
  params: ChainParams,
  address: Address,
  stake: bigint,
): Promise<bigint> {
  return powerRule === null ? stake : powerRule(state, params, address, stake);
}
