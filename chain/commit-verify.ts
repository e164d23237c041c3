/**
 * Commit verification: signatures line up with the canonical validator order of the committed
 * height, each present one is a valid precommit, and those for the block carry > 2/3 of the power.
 */
import { equalBytes } from '../util/bytes.js';
import { PeerAction, VosError } from '../util/errors.js';
import { type Commit, CommitFlag } from './commit.js';
import type { SignatureVerifier, VerifyItem } from './ledger/verifier.js';
import { sortValidators, totalPower, type ValidatorInfo } from './validators.js';

export class CommitError extends VosError<{ code: 'INVALID_COMMIT'; height: number }> {
  constructor(height: number, message: string) {
    super({ code: 'INVALID_COMMIT', height }, `invalid commit for height ${height}: ${message}`, {
      peerAction: PeerAction.Reject,
    });
  }
}

export async function verifyCommit(
  chainId: string,
  validators: readonly ValidatorInfo[],
  commit: Commit,
  height: number,
  blockHash: Uint8Array,
  verifier: SignatureVerifier,
): Promise<void> {
  if (commit.height !== height) throw new CommitError(height, `commit is for height ${commit.height}`);
  if (!equalBytes(commit.blockHash, blockHash)) throw new CommitError(height, 'commit is for another block');
  const vals = sortValidators(validators);
  if (commit.signatures.length !== vals.length) {
    throw new CommitError(height, `${commit.signatures.length} signatures for ${vals.length} validators`);
  }
  let forBlock = 0n;
  commit.signatures.forEach((s, i) => {
    if (s.flag === CommitFlag.Commit) forBlock += vals[i].power;
  });
  if (3n * forBlock <= 2n * totalPower(vals))
    throw new CommitError(height, 'less than 2/3 of the voting power');
  const ok = await verifier.verifyBatch(commitSignatureItems(chainId, vals, commit), { inline: true });
  const bad = ok.indexOf(false);
  if (bad !== -1) throw new CommitError(height, `bad signature at position ${bad}`);
}

/**
 * The signatures a commit carries (absent ones skipped), each with the key and precommit sign bytes it
 * must verify against; `sortedVals` in canonical order and as many as the commit's signatures.
 */
export function commitSignatureItems(
  chainId: string,
  sortedVals: readonly ValidatorInfo[],
  commit: Commit,
): VerifyItem[] {
  const items: VerifyItem[] = [];
  commit.signatures.forEach((s, i) => {
    if (s.flag === CommitFlag.Absent) return;
    items.push({
      publicKey: sortedVals[i].publicKey,
      message: commit.voteSignBytes(i, sortedVals[i].address, chainId),
      signature: s.signature,
    });
  });
  return items;
}

/** Block time = power-weighted median of the commit's vote timestamps (flag Commit only). */
export function weightedMedianTime(validators: readonly ValidatorInfo[], commit: Commit): number {
  const vals = sortValidators(validators);
  const entries: { time: number; power: bigint }[] = [];
  let total = 0n;
  commit.signatures.forEach((s, i) => {
    if (s.flag !== CommitFlag.Commit) return;
    entries.push({ time: s.time, power: vals[i].power });
    total += vals[i].power;
  });
  entries.sort((a, b) => a.time - b.time);
  let acc = 0n;
  for (const e of entries) {
    acc += e.power;
    if (2n * acc > total) return e.time;
  }
  return entries.length > 0 ? entries[entries.length - 1].time : 0;
}
