/**
 * The naming service's RPC handlers (name_resolve, name_reverse; schemas in rpc/methods.ts), over what
 * the node gives them: committed state reads, the head height, the chain's naming params and state
 * proofs. Invalid names are refused with the NameError code (mapped to -32602 at the RPC edge).
 */
import { Address } from '../../chain/address.js';
import type { NamingParams } from '../../chain/ledger/params.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { nameKey, reverseKey } from './layout.js';
import { displayName, normalizeName } from './name.js';
import { decodeEntry, type NameEntry, recordsToJSON } from './records.js';
import { effectiveEntry, nameStatus } from './state.js';

export interface NamingApiDeps<P extends { value: string | null } = { value: string | null }> {
  getState(key: Uint8Array): Promise<Uint8Array | undefined>;
  headHeight(): number;
  params: NamingParams;
  /** The state proof answer of state_getProof for `key` at `height` (`value`: the proven value). */
  prove(key: Uint8Array, height: number): Promise<P>;
}

export async function resolveName<P extends { value: string | null }>(
  deps: NamingApiDeps<P>,
  input: string,
  withProof: boolean,
) {
  const name = normalizeName(input);
  const height = deps.headHeight();
  // With a proof, the answer is the proven value (a block may commit between a read and the proof).
  const proof = withProof ? await deps.prove(nameKey(name), height) : undefined;
  const raw =
    proof !== undefined
      ? proof.value === null
        ? undefined
        : fromHex(proof.value)
      : await deps.getState(nameKey(name));
  const entry = raw === undefined ? undefined : decodeEntry(name, raw);
  const status = nameStatus(entry, height, deps.params);
  const e = entry === undefined || status === 'free' ? undefined : effectiveEntry(entry, height);
  return {
    name,
    display: displayName(name),
    status,
    owner: e === undefined ? null : e.owner.toString(),
    ownerKey: e === undefined ? null : toHex(e.ownerKey),
    records: e === undefined ? null : recordsToJSON(e.records),
    registeredAt: e?.registeredAt ?? null,
    expires: e?.expires ?? null,
    transfer:
      e?.transfer == null ? null : { to: e.transfer.to.toString(), effectiveAt: e.transfer.effectiveAt },
    height,
    ...(proof === undefined ? {} : { proof }),
  };
}

/** What reading names needs: committed state, the head height, the naming params. */
export type NamingReadDeps = Pick<NamingApiDeps, 'getState' | 'headHeight' | 'params'>;

/** The effective entry (a due transfer applied) of an active name (normalized), else undefined. */
export async function activeEntry(deps: NamingReadDeps, name: string): Promise<NameEntry | undefined> {
  const raw = await deps.getState(nameKey(name));
  if (raw === undefined) return undefined;
  const height = deps.headHeight();
  const entry = decodeEntry(name, raw);
  if (nameStatus(entry, height, deps.params) !== 'active') return undefined;
  return effectiveEntry(entry, height);
}

/** The entry of an address's name, forward-confirmed: active and owned by the address. */
export async function reverseEntry(deps: NamingReadDeps, a: Address): Promise<NameEntry | undefined> {
  const raw = await deps.getState(reverseKey(a));
  if (raw === undefined) return undefined;
  const entry = await activeEntry(deps, Buffer.from(raw).toString('latin1'));
  return entry?.owner.equals(a) ? entry : undefined;
}

export async function reverseName(deps: NamingReadDeps, address: string) {
  const entry = await reverseEntry(deps, Address.fromString(address));
  if (entry === undefined) return null;
  return { name: entry.name, display: displayName(entry.name), expires: entry.expires };
}
