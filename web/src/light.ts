/**
 * The light client in the page: what the node answers about a name is shown as verified only after
 * this browser checked it itself, with the node's own verification code (services/naming/light.ts,
 * chain/light-client.ts, chain/light-trust.ts) bundled for the browser (hashes and Ed25519 on
 * @noble/*, no OpenSSL):
 *   the state proof of name/rec/<name> leads to the header's stateRoot; the header is signed by > 2/3
 *   of the validator set it names; that set is trusted (the pinned set, or one that follows from it:
 *   chain/light-trust.ts); the answer's fields are what the proven value says.
 *
 * Trust anchor: on the first visit for a chain, the validator set of height 1 (the genesis set) and
 * the naming params are pinned in localStorage (trust on first use, like an SSH host key), and trust
 * moves forward from there. The page says which set it trusts and since when.
 */
import { verifyEd25519Portable } from '../../chain/ed25519-rule.js';
import type { NamingParams } from '../../chain/ledger/params.js';
import { CachingVerifier, type SignatureVerifier } from '../../chain/ledger/verifier.js';
import type { ValidatorJSON } from '../../chain/light-client.js';
import {
  advanceTrust,
  type LightBlock,
  type TrustedState,
  verifyLightBlock,
} from '../../chain/light-trust.js';
import { sortValidators, totalPower } from '../../chain/validators.js';
import { type NameAnswerJSON, type VerifiedName, verifyNameAnswer } from '../../services/naming/light.js';
import type { Result, Rpc } from './rpc.js';

/**
 * Ed25519 with the node's acceptance rule (chain/ed25519-rule.ts), on @noble/curves; remembering what
 * verified, so a commit that trust moving and the proof check both look at is checked once.
 */
export const browserVerifier: SignatureVerifier = new CachingVerifier(
  {
    async verifyBatch(items) {
      return items.map((i) => verifyEd25519Portable(i.publicKey, i.message, i.signature));
    },
  },
  10_000,
);

interface NamingParamsJSON extends Omit<NamingParams, 'pricesByLength'> {
  pricesByLength: string[];
}

export interface TrustAnchor {
  state: TrustedState;
  naming: NamingParamsJSON;
  /** The height first pinned and when (ms). */
  pinnedHeight: number;
  pinnedAt: number;
}

const storageKey = (chainId: string) => `vos.trust.${chainId}`;

function loadAnchor(chainId: string): TrustAnchor | undefined {
  try {
    const raw = localStorage.getItem(storageKey(chainId));
    if (raw === null) return undefined;
    const a = JSON.parse(raw) as TrustAnchor;
    return a?.state?.chainId === chainId && Array.isArray(a.state.validators) ? a : undefined;
  } catch {
    return undefined;
  }
}

function saveAnchor(a: TrustAnchor): void {
  try {
    localStorage.setItem(storageKey(a.state.chainId), JSON.stringify(a));
  } catch {
    // Storage full or disabled: trust stays for this page only.
  }
}

export function forgetAnchor(chainId: string): void {
  localStorage.removeItem(storageKey(chainId));
}

/** The light block of a height from the node (header, commit, validator set: all checked after). */
export async function fetchLightBlock(rpc: Rpc, height: number): Promise<LightBlock> {
  const [header, commit, vals] = await rpc.batch([
    { method: 'chain_getHeader', params: [height] },
    { method: 'chain_getCommit', params: [height] },
    { method: 'chain_getValidators', params: [height] },
  ]);
  for (const r of [header, commit, vals]) if (r instanceof Error) throw r;
  if (header === null || commit === null)
    throw new Error(`the node has no header and commit of height ${height}`);
  return {
    header: header as LightBlock['header'],
    commit: commit as LightBlock['commit'],
    validators: (vals as Result<'chain_getValidators'>).validators as ValidatorJSON[],
  };
}

/** The pinned anchor of this chain, pinning the genesis set (checked in itself) on first use. */
export async function trustAnchor(rpc: Rpc, chainId: string): Promise<TrustAnchor> {
  const known = loadAnchor(chainId);
  if (known !== undefined) return known;
  const [lb, params] = await Promise.all([fetchLightBlock(rpc, 1), rpc.call('chain_getParams')]);
  const vb = await verifyLightBlock(chainId, lb, browserVerifier);
  const anchor: TrustAnchor = {
    state: vb.state,
    naming: params.naming,
    pinnedHeight: vb.state.height,
    pinnedAt: Date.now(),
  };
  saveAnchor(anchor);
  return anchor;
}

export type NameCheck =
  | { verified: true; proven: VerifiedName; anchor: TrustAnchor; signedPower: string; totalPower: string }
  | { verified: false; reason: string; anchor?: TrustAnchor };

/** Check a name_resolve answer (asked with {proof: true}) as a light client; never throws. */
export async function checkNameAnswer(rpc: Rpc, chainId: string, answer: NameAnswerJSON): Promise<NameCheck> {
  let anchor: TrustAnchor | undefined;
  try {
    anchor = await trustAnchor(rpc, chainId);
    const proof = answer.proof;
    if (proof === undefined) return { verified: false, reason: 'the answer carries no proof', anchor };
    const vals = await rpc.call('chain_getValidators', [proof.height]);
    const target: LightBlock = {
      header: proof.header,
      commit: proof.commit,
      validators: vals.validators as ValidatorJSON[],
    };
    const vb = await advanceTrust(
      anchor.state,
      proof.height,
      (h) => fetchLightBlock(rpc, h),
      browserVerifier,
      { target },
    );
    const naming: NamingParams = {
      ...anchor.naming,
      pricesByLength: anchor.naming.pricesByLength.map((p) => BigInt(p)),
    };
    const proven = await verifyNameAnswer(
      answer,
      { chainId, validators: vb.validators, naming },
      browserVerifier,
    );
    if (vb.state.height > anchor.state.height) {
      anchor = { ...anchor, state: vb.state };
      saveAnchor(anchor);
    }
    // The commit's signature i belongs to the i-th validator in canonical order.
    const order = sortValidators(vb.validators);
    let signed = 0n;
    proof.commit.signatures.forEach((s, i) => {
      if (s.flag === 'commit' && order[i] !== undefined) signed += order[i].power;
    });
    const total = totalPower(vb.validators);
    return { verified: true, proven, anchor, signedPower: signed.toString(), totalPower: total.toString() };
  } catch (err) {
    return { verified: false, reason: (err as Error).message, anchor };
  }
}
