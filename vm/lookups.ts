/**
 * How host calls find chain state that belongs to services (vm imports only chain primitives): the
 * node registers the naming and publish lookups at start (node/app-lookups.ts). Without them, a
 * lookup finds nothing. Every function is pure: the key from the argument, the answer from the value.
 */
export interface HostLookups {
  /** The state key of a name's record, or null for a name that cannot exist. */
  nameKey(name: string): Uint8Array | null;
  /** The owner (20 bytes) of the name record `value` at `height`, or null when it does not resolve. */
  nameOwner(value: Uint8Array, height: number): Uint8Array | null;
  publishKey(id: Uint8Array): Uint8Array;
  /** A field of the publish record `value` as text (owner as 0x-hex), or null for no such field. */
  publishField(value: Uint8Array, field: string): string | null;
}

const NONE: HostLookups = {
  nameKey: () => null,
  nameOwner: () => null,
  publishKey: (id) => Uint8Array.from(id),
  publishField: () => null,
};

export const lookups: HostLookups = { ...NONE };

export function registerLookups(l: HostLookups): void {
  Object.assign(lookups, l);
}
