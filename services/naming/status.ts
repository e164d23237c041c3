/**
 * The lazy rules of a name entry at a height (no end-of-block scan): a pending transfer takes effect
 * at heights above its effectiveAt; a name past `expires` stops resolving, past `expires + gracePeriod`
 * it is free. Pure (no ledger), so the light client (services/naming/light.ts, also in the web app's
 * bundle) applies the same rules as the state machine (state.ts).
 */
import type { NamingParams } from '../../chain/ledger/params.js';
import type { NameEntry } from './records.js';

export type NameStatus = 'active' | 'grace' | 'free';

/** The entry as it stands at `height`: a transfer past its lockup has taken effect. */
export function effectiveEntry(e: NameEntry, height: number): NameEntry {
  if (e.transfer === null || height <= e.transfer.effectiveAt) return e;
  return { ...e, owner: e.transfer.to, ownerKey: e.transfer.toKey, transfer: null };
}

export function nameStatus(e: NameEntry | undefined, height: number, p: NamingParams): NameStatus {
  if (e === undefined) return 'free';
  if (height <= e.expires) return 'active';
  if (height <= e.expires + p.gracePeriod) return 'grace';
  return 'free';
}
