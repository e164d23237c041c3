/**
 * Moving a light client's trust in a validator set forward, as CometBFT's light client does
 * ("skipping verification", trust level 1/3), so an answer at a height whose set differs from the one
 * the client trusts can still be checked without trusting the node:
 *
 * - a light block (header, its commit, the validator set the header names) is first checked in
 *   itself: the header's hash, the set is the one `validatorsHash` names, and > 2/3 of its power
 *   signed the commit with valid signatures (chain/commit-verify.ts);
 * - it is then trusted when its set is the trusted set, or it is the next height and its set is the
 *   trusted header's `nextValidatorsHash`, or validators of the trusted set holding > 1/3 of its power
 *   signed it (at least one of them is honest, so the new set is the chain's);
 * - otherwise the range is bisected (a light block in the middle first), up to a bounded number of
 *   light blocks.
 *
 * Pure (the light blocks come from an injected fetch, signatures from an injected verifier): the web
 * app runs it with @noble/curves. There is no trusting period: a client that trusts a set for longer
 * than the unbonding period can be shown a fork signed by keys whose stake has left.
 */
import { toHex } from '../util/bytes.js';
import { CodecError } from './codec.js';
import { CommitFlag } from './commit.js';
import type { Header } from './header.js';
import type { SignatureVerifier } from './ledger/verifier.js';
import {
  type CommitJSON,
  createCommitFromJSON,
  type HeaderJSON,
  LightClientError,
  type ValidatorJSON,
  validatorFromJSON,
  verifySignedHeader,
} from './light-client.js';
import {
  sortValidators,
  totalPower,
  type ValidatorInfo,
  validatorListProblem,
  validatorsHash,
} from './validators.js';

/** What a client trusts: the validator set that signed `height`, and the set the header names next. */
export interface TrustedState {
  chainId: string;
  height: number;
  validators: ValidatorJSON[];
  nextValidatorsHash: string;
}

/** A header, the commit that signs it and the validator set it names (all untrusted until checked). */
export interface LightBlock {
  header: HeaderJSON & { hash?: string };
  commit: CommitJSON;
  validators: ValidatorJSON[];
}

export type FetchLightBlock = (height: number) => Promise<LightBlock>;

export interface VerifiedLightBlock {
  header: Header;
  validators: ValidatorInfo[];
  state: TrustedState;
}

const fail = (message: string) => new LightClientError('INVALID_FIELD', 'light block', message);

/** Check a light block in itself (not yet against any trust): see the file comment. */
export async function verifyLightBlock(
  chainId: string,
  lb: LightBlock,
  verifier: SignatureVerifier,
): Promise<VerifiedLightBlock> {
  if (!Array.isArray(lb.validators)) throw fail('no validator set');
  const validators = lb.validators.map(validatorFromJSON);
  const problem = validatorListProblem(validators, false);
  if (problem !== null) throw new CodecError('INVALID_FIELD', 'validators', problem);
  const header = await verifySignedHeader(chainId, lb, validators, verifier, 'light block');
  return {
    header,
    validators,
    state: {
      chainId,
      height: header.height,
      validators: lb.validators,
      nextValidatorsHash: toHex(header.nextValidatorsHash),
    },
  };
}

/**
 * The power of `trusted` that signed a verified light block (its commit's signatures were all checked
 * by verifyLightBlock, so each Commit flag is a valid signature of that validator).
 */
function trustedPowerSigned(trusted: readonly ValidatorInfo[], vb: VerifiedLightBlock, commit: CommitJSON) {
  const byKey = new Map(trusted.map((v) => [`${v.address.toString()}/${toHex(v.publicKey)}`, v.power]));
  const order = sortValidators(vb.validators);
  let signed = 0n;
  createCommitFromJSON(commit).signatures.forEach((s, i) => {
    if (s.flag !== CommitFlag.Commit) return;
    const v = order[i];
    signed += byKey.get(`${v.address.toString()}/${toHex(v.publicKey)}`) ?? 0n;
  });
  return signed;
}

export interface AdvanceOptions {
  /** The light block of the target height when the caller has it already (a proof answer's). */
  target?: LightBlock;
  /** Light blocks fetched at most (bisection steps). */
  maxFetches?: number;
}

/**
 * Trust the light block at `height`, starting from `trusted`: returns it verified, with the state to
 * keep (the later of the two: trust never moves back). Throws LightClientError saying why not.
 */
export async function advanceTrust(
  trusted: TrustedState,
  height: number,
  fetch: FetchLightBlock,
  verifier: SignatureVerifier,
  opts: AdvanceOptions = {},
): Promise<VerifiedLightBlock> {
  let budget = opts.maxFetches ?? 32;
  const chainId = trusted.chainId;
  const loaded = new Map<number, Promise<{ lb: LightBlock; vb: VerifiedLightBlock }>>();
  const load = (h: number) => {
    let p = loaded.get(h);
    if (p === undefined) {
      p = loadOnce(h);
      loaded.set(h, p);
    }
    return p;
  };
  const loadOnce = async (h: number): Promise<{ lb: LightBlock; vb: VerifiedLightBlock }> => {
    let lb: LightBlock;
    if (opts.target !== undefined && h === height) lb = opts.target;
    else {
      if (budget-- <= 0) throw fail(`gave up after ${opts.maxFetches ?? 32} light blocks`);
      lb = await fetch(h);
    }
    const vb = await verifyLightBlock(chainId, lb, verifier);
    if (vb.header.height !== h) throw fail(`asked for height ${h}, got ${vb.header.height}`);
    return { lb, vb };
  };

  const step = async (from: TrustedState, to: number): Promise<VerifiedLightBlock> => {
    const { lb, vb } = await load(to);
    const trustedVals = from.validators.map(validatorFromJSON);
    if (toHex(validatorsHash(trustedVals)) === toHex(vb.header.validatorsHash)) return vb;
    if (to < from.height)
      throw fail(
        `height ${to} is below the trusted height ${from.height} and signed by another validator set`,
      );
    if (to === from.height + 1 && toHex(vb.header.validatorsHash) === from.nextValidatorsHash) return vb;
    if (3n * trustedPowerSigned(trustedVals, vb, lb.commit) > totalPower(trustedVals)) return vb;
    const mid = Math.floor((from.height + to) / 2);
    if (mid <= from.height)
      throw fail(`the validator set of height ${to} does not follow from the trusted one`);
    const middle = await step(from, mid);
    return step(middle.state, to);
  };

  const vb = await step(trusted, height);
  return height >= trusted.height ? vb : { ...vb, state: trusted };
}
