/**
 * What the comm service reads from the chain, from committed state: a name's owner key, encryption
 * key and endpoints; the public key of an address (its validator record, its provider record, its
 * forward-confirmed name, or a connected peer whose key hashes to it); this node's own name.
 */
import { Address, addressFromPublicKey } from '../chain/address.js';
import { decodeValidatorRecord, validatorKey } from '../chain/ledger/accounts.js';
import type { Ledger } from '../chain/ledger/ledger.js';
import { addressOfPeer, type VosHost } from '../p2p/host.js';
import type { CommDirectory } from '../services/comm/service.js';
import { nameKey, reverseKey } from '../services/naming/layout.js';
import { normalizeName } from '../services/naming/name.js';
import { decodeEntry } from '../services/naming/records.js';
import { effectiveEntry, nameStatus } from '../services/naming/state.js';
import type { StorageNet } from '../services/storage/network.js';

export function commDirectory(o: {
  ledger: () => Ledger;
  host: () => VosHost | undefined;
  storageNet: () => StorageNet | undefined;
  self: Address;
}): CommDirectory {
  const activeName = async (input: string) => {
    let name: string;
    try {
      name = normalizeName(input);
    } catch {
      return undefined;
    }
    const ledger = o.ledger();
    const raw = await ledger.getState(nameKey(name));
    if (raw === undefined) return undefined;
    const entry = decodeEntry(name, raw);
    const height = ledger.head.height;
    if (nameStatus(entry, height, ledger.params.naming) !== 'active') return undefined;
    return { name, entry: effectiveEntry(entry, height) };
  };
  const reverse = async (a: Address) => {
    const raw = await o.ledger().getState(reverseKey(a));
    if (raw === undefined) return undefined;
    const r = await activeName(Buffer.from(raw).toString('latin1'));
    return r?.entry.owner.equals(a) ? r : undefined;
  };
  return {
    async resolveName(input) {
      const r = await activeName(input);
      if (r === undefined) return undefined;
      const e = r.entry;
      return {
        name: r.name,
        address: e.owner.toString(),
        publicKey: e.ownerKey,
        encryptionKey: e.records.encryptionKey,
        endpoints: e.records.endpoints.filter((p) => p.kind === 'multiaddr').map((p) => p.value),
      };
    },
    async keyOf(address) {
      const a = Address.fromString(address);
      const val = await o.ledger().getState(validatorKey(a));
      if (val !== undefined) return decodeValidatorRecord(val).publicKey;
      const prov = o.storageNet()?.providers.get(address);
      if (prov !== undefined && addressFromPublicKey(prov.publicKey).equals(a)) return prov.publicKey;
      const named = await reverse(a);
      if (named !== undefined) return named.entry.ownerKey;
      for (const peer of o.host()?.getPeers() ?? [])
        if (addressOfPeer(peer) === address && peer.publicKey !== undefined) return peer.publicKey.raw;
      return undefined;
    },
    async ownName() {
      return (await reverse(o.self))?.name;
    },
  };
}
