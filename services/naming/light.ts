/**
 * Light-client check of a `name_resolve` answer with `{proof: true}`: the header's commit is signed by
 * more than 2/3 of the power of a validator set the caller trusts, the state proof of name/rec/<name>
 * checks against that header's stateRoot, and the answer's fields (owner, records, expiry, status) are
 * what the proven value says at that height. A free name needs a proof of absence, or of an entry past
 * its grace period. Pure (no node, no network); the verifier is injected (node:crypto in the node,
 * @noble/curves in a browser: chain/ed25519-rule.ts).
 */
import type { NamingParams } from '../../chain/ledger/params.js';
import type { SignatureVerifier } from '../../chain/ledger/verifier.js';
import { LightClientError, type StateProofAnswer, verifyStateProofAnswer } from '../../chain/light-client.js';
import type { ValidatorInfo } from '../../chain/validators.js';
import { toHex } from '../../util/bytes.js';
import { nameKey } from './layout.js';
import { normalizeName } from './name.js';
import { decodeEntry, recordsToJSON } from './records.js';
import { effectiveEntry, nameStatus } from './status.js';

export interface NameAnswerJSON {
  name: string;
  status: string;
  owner: string | null;
  ownerKey: string | null;
  records: unknown;
  expires: number | null;
  height: number;
  proof?: StateProofAnswer;
}

export interface VerifiedName {
  name: string;
  height: number;
  status: 'active' | 'grace' | 'free';
  owner: string | null;
  records: ReturnType<typeof recordsToJSON> | null;
}

/** Throws LightClientError naming what does not verify; returns what the chain proves. */
export async function verifyNameAnswer(
  answer: NameAnswerJSON,
  trust: { chainId: string; validators: readonly ValidatorInfo[]; naming: NamingParams },
  verifier: SignatureVerifier,
): Promise<VerifiedName> {
  const fail = (message: string) => new LightClientError('INVALID_FIELD', 'name', message);
  if (answer.proof === undefined) throw fail('the answer carries no proof (ask with {proof: true})');
  const name = normalizeName(answer.name);
  if (name !== answer.name) throw fail('the answer is for a non-canonical name');
  if (answer.proof.height !== answer.height) throw fail('the proof is for another height than the answer');
  const value = await verifyStateProofAnswer(
    trust.chainId,
    nameKey(name),
    answer.proof,
    trust.validators,
    verifier,
  );
  const entry = value === null ? undefined : decodeEntry(name, value);
  const status = nameStatus(entry, answer.height, trust.naming);
  const e = entry === undefined || status === 'free' ? undefined : effectiveEntry(entry, answer.height);
  const proven = {
    status,
    owner: e?.owner.toString() ?? null,
    ownerKey: e === undefined ? null : toHex(e.ownerKey),
    expires: e?.expires ?? null,
    records: e === undefined ? null : recordsToJSON(e.records),
  };
  if (answer.status !== proven.status)
    throw fail(`status ${answer.status} is not the proven ${proven.status}`);
  if (answer.owner !== proven.owner) throw fail('the owner is not the proven one');
  if (answer.ownerKey !== proven.ownerKey) throw fail('the owner key is not the proven one');
  if (answer.expires !== proven.expires) throw fail('the expiry is not the proven one');
  if (JSON.stringify(answer.records) !== JSON.stringify(proven.records))
    throw fail('the records are not the proven ones');
  return { name, height: answer.height, status, owner: proven.owner, records: proven.records };
}
