/**
 * What the node feeds the off-chain parts of naming (the DNS gateway) from committed state: every
 * registered name at start (from the chain DB's mirror of name/rec/), then the names each block wrote.
 */
import { NAME_REC_PREFIX, nameOfKey } from './layout.js';
import { decodeEntry, type NameEntry } from './records.js';

/** A consumer of committed names (services/naming/dns DnsGateway). */
export interface NameSink {
  load(entries: Iterable<NameEntry>, height: number): void;
  apply(changes: Map<string, NameEntry | null>, height: number): void;
  setHeight(height: number): void;
}

export async function loadAllNames(store: {
  indexed(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}): Promise<NameEntry[]> {
  const out: NameEntry[] = [];
  for await (const [key, value] of store.indexed(NAME_REC_PREFIX)) {
    const name = nameOfKey(key);
    if (name !== null) out.push(decodeEntry(name, value));
  }
  return out;
}

/** The names a block wrote (its Execution.indexed), decoded; null = deleted. */
export function nameChangesOf(
  indexed: ReadonlyArray<[Uint8Array, Uint8Array | null]>,
): Map<string, NameEntry | null> {
  const out = new Map<string, NameEntry | null>();
  for (const [key, value] of indexed) {
    const name = nameOfKey(key);
    if (name !== null) out.set(name, value === null ? null : decodeEntry(name, value));
  }
  return out;
}
