/**
 * Slashing cannot be escaped by unstaking first: unbonding entries that backed the voting power of the
 * evidence height are slashed with the bonded stake, and the jailed validator leaves the set at H+2
 * (the block including the evidence + 2), not at the next epoch end.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Commit } from '../../../../chain/commit.js';
import { DuplicateVoteEvidence } from '../../../../chain/evidence.js';
import { PrivateKey } from '../../../../chain/keys.js';
import {
  decodeUnbondings,
  decodeValidatorRecord,
  unbondingKey,
  validatorKey,
} from '../../../../chain/ledger/accounts.js';
import { Tx, TxKind } from '../../../../chain/tx/index.js';
import { Vote, VoteType } from '../../../../chain/vote.js';
import { openTestChain, produceBlock, signCommit, type TestChain } from '../../../helpers/chain.js';

const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(1));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(2));

let chain: TestChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

function unstake(key: PrivateKey, nonce: bigint, amount: bigint): Tx {
  return Tx.sign(
    {
      chainId: 'vos-test',
      nonce,
      kind: TxKind.Unstake,
      payload: { kind: TxKind.Unstake, body: { amount } },
      gasLimit: 100_000n,
      gasPrice: 1n,
    },
    key,
  );
}

function doubleSign(key: PrivateKey, height: number): DuplicateVoteEvidence {
  const vote = (fill: number) =>
    Vote.sign(
      {
        type: VoteType.Prevote,
        height,
        round: 0,
        blockHash: new Uint8Array(32).fill(fill),
        time: 1_700_000_000_000 + height,
        validator: key.address,
      },
      'vos-test',
      key,
    );
  return new DuplicateVoteEvidence(vote(1), vote(2));
}

/** Build, validate and commit the next block with `evidence` (proposed by alice). */
async function blockWithEvidence(c: TestChain, last: Commit, evidence: DuplicateVoteEvidence[]) {
  const time = await c.ledger.nextBlockTime(last);
  const { block } = await c.ledger.buildBlock({
    time,
    proposer: alice.address,
    lastCommit: last,
    evidence,
    candidates: [],
  });
  expect(block.evidence.length).toBe(evidence.length);
  const execution = await c.ledger.executeBlock(block);
  const commit = await signCommit(c, block, time + 1000);
  await c.ledger.commitBlock(block, commit, execution);
  return commit;
}

async function unbondings(c: TestChain, key: PrivateKey) {
  const raw = await c.ledger.getState(unbondingKey(key.address));
  return raw === undefined ? [] : decodeUnbondings(raw);
}

describe('slashing', () => {
  it('a validator that unstakes everything and then double-signs loses the slash fraction of its unbonding stake', async () => {
    // Genesis stake 1,000 each (10 x minValidatorStake); slash 5%.
    chain = await openTestChain([alice, bob], {
      params: { epochLength: 4, unbondingPeriod: 20, minValidatorStake: 100n, slashFractionPpm: 50_000 },
    });
    const l = chain.ledger;
    let last = (await produceBlock(chain, [unstake(bob, 0n, 400n)], null)).commit; // h1
    for (let h = 2; h <= 4; h++) last = (await produceBlock(chain, [], last)).commit; // h4: epoch end
    last = (await produceBlock(chain, [unstake(bob, 1n, 600n)], last)).commit; // h5: all the rest
    expect(decodeValidatorRecord((await l.getState(validatorKey(bob.address)))!).stake).toBe(0n);
    // Bob still signs heights 6..9 with the power of the h4 snapshot (600).
    expect((await l.validatorsAt(6)).find((v) => v.address.equals(bob.address))?.power).toBe(600n);
    last = (await produceBlock(chain, [], last)).commit; // h6
    last = await blockWithEvidence(chain, last, [doubleSign(bob, 6)]); // h7
    const entries = await unbondings(chain, bob);
    // The h5 entry backed the power at h6: 5% of 600 is burned. The h1 entry was unbonded before the
    // h4 snapshot (it did not back any power at h6) and is left alone.
    expect(entries.map((e) => [e.createdAt, e.amount])).toEqual([
      [1, 400n],
      [5, 570n],
    ]);
    const rec = decodeValidatorRecord((await l.getState(validatorKey(bob.address)))!);
    expect(rec.jailed).toBe(true);
    // Jailed at h7: gone from the set at h9 (H+2), before the h8 epoch end would take effect (h10).
    expect((await l.validatorsAt(8)).some((v) => v.address.equals(bob.address))).toBe(true);
    expect((await l.validatorsAt(9)).map((v) => v.address.toString())).toEqual([alice.address.toString()]);
    // The slashed amount is what comes back at release.
    const before = (await l.getAccount(bob.address)).balance;
    for (let h = 8; h <= 25; h++) last = (await produceBlock(chain, [], last)).commit;
    expect((await l.getAccount(bob.address)).balance - before).toBe(400n + 570n);
    expect(await unbondings(chain, bob)).toEqual([]);
  });

  it('evidence of a validator that is already out of the next set changes nothing at H+2', async () => {
    chain = await openTestChain([alice, bob], {
      params: { epochLength: 4, unbondingPeriod: 20, minValidatorStake: 100n },
    });
    let last = (await produceBlock(chain, [], null)).commit; // h1
    last = await blockWithEvidence(chain, last, [doubleSign(bob, 1)]); // h2: bob jailed
    expect((await chain.ledger.validatorsAt(4)).length).toBe(1);
    // A second piece of evidence for another height of the jailed validator: slashed again, no set change.
    last = await blockWithEvidence(chain, last, [doubleSign(bob, 2)]); // h3
    const rec = decodeValidatorRecord((await chain.ledger.getState(validatorKey(bob.address)))!);
    expect(rec.stake).toBe(1000n - 50n - 47n);
    expect((await chain.ledger.validatorsAt(5)).length).toBe(1);
  });
});
