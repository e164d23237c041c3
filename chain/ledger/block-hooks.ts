/**
 * End-of-block work of service modules (services/ registers it when imported, as with tx kinds): runs
 * after the block's txs and fees, before the validator-set update, in registration order, on the
 * proposer and on every validator alike. Consensus-critical: a hook reads and writes only `state`.
 */
import type { TxContext } from './execute-tx.js';

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
