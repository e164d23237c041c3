/**
 * End of block: release matured unbondings; recompute the validator set at the last block of an epoch,
 * or drop validators jailed in this block (both effective at height + 2). Evidence: slash and jail.
 */
import { equalBytes, u64be } from '../../util/bytes.js';
import type { Logger } from '../../util/logger.js';
import type { Address } from '../address.js';
import type { Evidence } from '../evidence.js';
import { sha256 } from '../hash.js';
import { sortValidators, type ValidatorInfo, validatorsHash } from '../validators.js';
import {
  decodeAddressList,
  encodeUnbondings,
  encodeValidatorRecord,
  evidenceKey,
  unbondingKey,
  unbondKey,
  validatorKey,
} from './accounts.js';
import { votingPower } from './block-hooks.js';
import {
  getAccount,
  getUnbondings,
  getValidatorIndex,
  getValidatorRecord,
  putAccount,
} from './execute-tx.js';
import type { StateOverlay } from './overlay.js';
import { type ChainParams, powerSnapshotHeight } from './params.js';

export async function endBlock(
  state: StateOverlay,
  height: number,
  params: ChainParams,
  nextValidators: readonly ValidatorInfo[],
  jailed: readonly Address[] = [],
  logger?: Logger,
): Promise<ValidatorInfo[] | null> {
  await releaseUnbondings(state, height);
  let next: ValidatorInfo[];
  if (height % params.epochLength === 0) {
    const candidates: ValidatorInfo[] = [];
    for (const address of await getValidatorIndex(state)) {
      const rec = await getValidatorRecord(state, address);
      if (rec === undefined || rec.jailed || rec.stake < params.minValidatorStake) continue;
      // Voting power = stake x (1 + min(1, C/T)): the control module's rule (power = stake without it).
      const power = await votingPower(state, params, address, rec.stake);
      candidates.push({ address, publicKey: rec.publicKey, power });
    }
    next = sortValidators(candidates).slice(0, params.maxValidators);
  } else {
    // A validator jailed in this block stops signing at height + 2, not at the epoch end.
    if (!jailed.some((a) => nextValidators.some((v) => v.address.equals(a)))) return null;
    next = nextValidators.filter((v) => !jailed.some((a) => a.equals(v.address)));
  }
  if (next.length === 0) {
    logger?.warn({ height }, 'the validator set would be empty; keeping the current set');
    return null;
  }
  if (equalBytes(validatorsHash(next), validatorsHash(nextValidators))) return null;
  return next;
}

/** Return the unbonding entries that mature at `height` to their owners' balances. */
async function releaseUnbondings(state: StateOverlay, height: number): Promise<void> {
  const raw = await state.get(unbondKey(height));
  if (raw === undefined) return;
  for (const address of decodeAddressList(raw)) {
    const entries = await getUnbondings(state, address);
    let released = 0n;
    const kept = entries.filter((e) => {
      if (e.releaseAt > height) return true;
      released += e.amount;
      return false;
    });
    state.set(unbondingKey(address), kept.length === 0 ? null : encodeUnbondings(kept));
    const acct = await getAccount(state, address);
    putAccount(state, address, { ...acct, balance: acct.balance + released });
  }
  state.delete(unbondKey(height));
}

/**
 * Slash a double signer (burned) and jail it. Slashed: its bonded stake and every unbonding entry
 * created after the power snapshot of the evidence height, since that stake still backed the voting
 * power it misused (an unstake just before equivocating does not escape). Entries that mature are
 * still held when the evidence lands (params.maxEvidenceAge). Returns the jailed address, or null when
 * this validator was already punished for this height.
 */
export async function applyEvidence(
  state: StateOverlay,
  ev: Evidence,
  params: ChainParams,
): Promise<Address | null> {
  const address = ev.voteA.validator;
  const key = evidenceKey(sha256(address.bytes, u64be(ev.height)));
  if ((await state.get(key)) !== undefined) return null; // already punished for this height
  state.set(key, new Uint8Array([1]));
  const rec = await getValidatorRecord(state, address);
  if (rec === undefined) return null;
  const ppm = BigInt(params.slashFractionPpm);
  const cut = (amount: bigint) => (amount * ppm) / 1_000_000n;
  state.set(
    validatorKey(address),
    encodeValidatorRecord({ ...rec, stake: rec.stake - cut(rec.stake), jailed: true }),
  );
  const snapshot = powerSnapshotHeight(ev.height, params);
  const entries = await getUnbondings(state, address);
  if (entries.some((e) => e.createdAt > snapshot)) {
    const slashed = entries.map((e) =>
      e.createdAt > snapshot ? { ...e, amount: e.amount - cut(e.amount) } : e,
    );
    state.set(unbondingKey(address), encodeUnbondings(slashed));
  }
  return address;
}
