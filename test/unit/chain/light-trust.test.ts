/**
 * Moving a light client's trust forward (chain/light-trust.ts) over synthetic light blocks signed by
 * real keys: the trusted set itself, the trusted header's next set, > 1/3 of the trusted power among
 * the signers, bisection when the overlap is too small, and refusals (a set with no link to the
 * trusted one, a set the header does not name, a commit of <= 2/3, a header that does not hash, an
 * older height signed by another set).
 */
import { describe, expect, it } from '@jest/globals';
import { Commit, CommitFlag, type CommitSig } from '../../../chain/commit.js';
import { Header } from '../../../chain/header.js';
import { PrivateKey } from '../../../chain/keys.js';
import { inlineVerifier } from '../../../chain/ledger/verifier.js';
import { LightClientError } from '../../../chain/light-client.js';
import {
  advanceTrust,
  type LightBlock,
  type TrustedState,
  verifyLightBlock,
} from '../../../chain/light-trust.js';
import {
  sortValidators,
  type ValidatorInfo,
  validatorsHash,
  validatorToJSON,
} from '../../../chain/validators.js';
import { VoteType, voteSignBytes } from '../../../chain/vote.js';
import { toHex } from '../../../util/bytes.js';

const CHAIN = 'vos-trust';
const Z = new Uint8Array(32);
const keys = Array.from({ length: 8 }, (_, i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i + 1)));
const set = (...idx: number[]): ValidatorInfo[] =>
  idx.map((i) => ({ address: keys[i].address, publicKey: keys[i].publicKey, power: 10n }));

/** A light block of `height` for `vals` (naming `next`), signed by `signers` (default: all of vals). */
function lightBlock(height: number, vals: ValidatorInfo[], next = vals, signers?: number[]): LightBlock {
  const header = new Header({
    chainId: CHAIN,
    height,
    time: 1_700_000_000_000 + height * 1000,
    prevHash: Z,
    txRoot: Z,
    stateRoot: Z,
    validatorsHash: validatorsHash(vals),
    nextValidatorsHash: validatorsHash(next),
    proposer: vals[0].address,
    lastCommitHash: Z,
    evidenceRoot: Z,
    receiptsRoot: Z,
  });
  const hash = header.hash();
  const time = header.time + 500;
  const sigs: CommitSig[] = sortValidators(vals).map((v) => {
    const i = keys.findIndex((k) => k.address.equals(v.address));
    if (signers !== undefined && !signers.includes(i))
      return { flag: CommitFlag.Absent, time: 0, signature: Z };
    const bytes = voteSignBytes(
      { type: VoteType.Precommit, height, round: 0, blockHash: hash, time, validator: v.address },
      CHAIN,
    );
    return { flag: CommitFlag.Commit, time, signature: keys[i].sign(bytes) };
  });
  return {
    header: { ...header.toJSON(), hash: toHex(hash) },
    commit: new Commit(height, 0, hash, sigs).toJSON(),
    validators: vals.map(validatorToJSON),
  };
}

async function trustAt(lb: LightBlock): Promise<TrustedState> {
  return (await verifyLightBlock(CHAIN, lb, inlineVerifier)).state;
}

/** A fetch over a map of light blocks that records the heights asked for. */
function fetcher(blocks: Record<number, LightBlock>) {
  const asked: number[] = [];
  const fetch = async (h: number) => {
    asked.push(h);
    const lb = blocks[h];
    if (lb === undefined) throw new Error(`no light block ${h}`);
    return lb;
  };
  return { fetch, asked };
}

describe('advanceTrust', () => {
  const A = set(0, 1, 2, 3);

  it('the trusted set signing a later height is trusted at once (no fetch)', async () => {
    const trusted = await trustAt(lightBlock(1, A));
    const { fetch, asked } = fetcher({});
    const vb = await advanceTrust(trusted, 50, fetch, inlineVerifier, { target: lightBlock(50, A) });
    expect(vb.state.height).toBe(50);
    expect(asked).toEqual([]);
  });

  it("the next height signed by the trusted header's next set, even with no signer in common", async () => {
    const B = set(4, 5, 6, 7);
    const trusted = await trustAt(lightBlock(1, A, B));
    const { fetch } = fetcher({ 2: lightBlock(2, B) });
    const vb = await advanceTrust(trusted, 2, fetch, inlineVerifier);
    expect(vb.state.validators.map((v) => v.address)).toEqual(B.map((v) => v.address.toString()));
  });

  it('a changed set signed by more than 1/3 of the trusted power is trusted in one step', async () => {
    const trusted = await trustAt(lightBlock(1, A));
    const B = set(2, 3, 4, 5); // half of A's power signs
    const { fetch, asked } = fetcher({});
    const vb = await advanceTrust(trusted, 10, fetch, inlineVerifier, { target: lightBlock(10, B) });
    expect(vb.state.height).toBe(10);
    expect(asked).toEqual([]);
  });

  it('with 1/3 or less of the trusted power among the signers, it bisects', async () => {
    const A6 = set(0, 1, 2, 3, 4, 5);
    const trusted = await trustAt(lightBlock(1, A6));
    const B = set(4, 5, 6, 7); // 20 of A6's 60: not more than 1/3
    const M = set(2, 3, 4, 5, 6, 7); // 40 of A6's 60, and all of B's signers
    const { fetch, asked } = fetcher({ 5: lightBlock(5, M) });
    const vb = await advanceTrust(trusted, 10, fetch, inlineVerifier, { target: lightBlock(10, B) });
    expect(vb.state.height).toBe(10);
    expect(asked).toEqual([5]);
  });

  it('a set with no link to the trusted one is refused', async () => {
    const trusted = await trustAt(lightBlock(1, A));
    const C = set(4, 5, 6, 7);
    const blocks: Record<number, LightBlock> = {};
    for (let h = 2; h <= 16; h++) blocks[h] = lightBlock(h, C);
    const { fetch } = fetcher(blocks);
    await expect(advanceTrust(trusted, 16, fetch, inlineVerifier)).rejects.toThrow(
      /does not follow from the trusted one/,
    );
  });

  it('refuses a set the header does not name, a commit of <= 2/3, a header that does not hash', async () => {
    const trusted = await trustAt(lightBlock(1, A));
    const none = fetcher({}).fetch;
    const wrongSet = { ...lightBlock(9, A), validators: set(0, 1, 2, 4).map(validatorToJSON) };
    await expect(advanceTrust(trusted, 9, none, inlineVerifier, { target: wrongSet })).rejects.toThrow(
      /not the one the header of height 9 names/,
    );
    const weak = lightBlock(9, A, A, [0, 1]);
    await expect(advanceTrust(trusted, 9, none, inlineVerifier, { target: weak })).rejects.toThrow(
      /less than 2\/3/,
    );
    const lb = lightBlock(9, A);
    const forged = { ...lb, header: { ...lb.header, time: lb.header.time + 1 } };
    await expect(advanceTrust(trusted, 9, none, inlineVerifier, { target: forged })).rejects.toThrow(
      LightClientError,
    );
  });

  it('an older height: trusted when the trusted set signed it, refused when another set did', async () => {
    const trusted = await trustAt(lightBlock(20, A));
    const none = fetcher({}).fetch;
    const vb = await advanceTrust(trusted, 5, none, inlineVerifier, { target: lightBlock(5, A) });
    expect(vb.state).toBe(trusted);
    await expect(
      advanceTrust(trusted, 5, none, inlineVerifier, { target: lightBlock(5, set(0, 1, 2, 4)) }),
    ).rejects.toThrow(/below the trusted height/);
  });
});
