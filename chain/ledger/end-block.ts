/**
 * End of block: release matured unbondings; at the last block of an epoch recompute the validator set
 * (effective at height + 2). Evidence: slash and jail.
 */
import { equalBytes, u64be } from '../../util/bytes.js';
import type { Logger } from '../../util/logger.js';
import type { Evidence } from '../evidence.js';
import { sha256 } from '../hash.js';
import { sortValidators, type ValidatorInfo, validatorsHash } from '../validators.js';
import { decodeUnbondings, encodeValidatorRecord, evidenceKey, unbondKey, validatorKey } from './accounts.js';
import { getAccount, getValidatorIndex, getValidatorRecord, putAccount } from './execute-tx.js';
import type { StateOverlay } from './overlay.js';
import type { ChainParams } from './params.js';

export async function endBlock(
  state: StateOverlay,
  height: number,
  params: ChainParams,
  nextValidators: readonly ValidatorInfo[],
  logger?: Logger,
): Promise<ValidatorInfo[] | null> {
  const raw = await state.get(unbondKey(height));
  if (raw !== undefined) {
    for (const u of decodeUnbondings(raw)) {
      const acct = await getAccount(state, u.address);
      putAccount(state, u.address, { ...acct, balance: acct.balance + u.amount });
    }
    state.delete(unbondKey(height));
  }
  if (height % params.epochLength !== 0) return null;
  const candidates: ValidatorInfo[] = [];
  for (const address of await getValidatorIndex(state)) {
    const rec = await getValidatorRecord(state, address);
    if (rec === undefined || rec.jailed || rec.stake < params.minValidatorStake) continue;
    // Voting power = stake x (1 + r); r = min(1, C/T) comes from the control module (0 until it exists).
    candidates.push({ address, publicKey: rec.publicKey, power: rec.stake });
  }
  const next = sortValidators(candidates).slice(0, params.maxValidators);
  if (next.length === 0) {
    logger?.warn({ height }, 'epoch end left no eligible validator; keeping the current set');
    return null;
  }
  if (equalBytes(validatorsHash(next), validatorsHash(nextValidators))) return null;
  return next;
}

/** Slash a double signer's stake (burned) and jail it (leaves the set at the next epoch end). */
export async function applyEvidence(state: StateOverlay, ev: Evidence, params: ChainParams): Promise<void> {
  const address = ev.voteA.validator;
  const key = evidenceKey(sha256(address.bytes, u64be(ev.height)));
  if ((await state.get(key)) !== undefined) return; // already punished for this height
  state.set(key, new Uint8Array([1]));
  const rec = await getValidatorRecord(state, address);
  if (rec === undefined) return;
  const slash = (rec.stake * BigInt(params.slashFractionPpm)) / 1_000_000n;
  state.set(validatorKey(address), encodeValidatorRecord({ ...rec, stake: rec.stake - slash, jailed: true }));
}
