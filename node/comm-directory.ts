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
import { activeEntry, type NamingReadDeps, reverseEntry } from '../services/naming/api.js';
import { normalizeName } from '../services/naming/name.js';
import type { StorageNet } from '../services/storage/network.js';

export function commDirectory(o: {
  ledger: () => Ledger;
  host: () => VosHost | undefined;
  storageNet: () => StorageNet | undefined;
  self: Address;
}): CommDirectory {
  const naming: NamingReadDeps = {
    getState: (key) => o.ledger().getState(key),
    headHeight: () => o.ledger().head.height,
    get params() {
      return o.ledger().params.naming;
    },
  };
  return {
    async resolveName(input) {
      let name: string;
      try {
        name = normalizeName(input);
      } catch {
        return undefined;
      }
      const e = await activeEntry(naming, name);
      if (e === undefined) return undefined;
      return {
        name,
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
      const named = await reverseEntry(naming, a);
      if (named !== undefined) return named.ownerKey;
      for (const peer of o.host()?.getPeers() ?? [])
        if (addressOfPeer(peer) === address && peer.publicKey !== undefined) return peer.publicKey.raw;
      return undefined;
    },
    async ownName() {
      return (await reverseEntry(naming, o.self))?.name;
    },
  };
}
