/** The naming and publish lookups of the app host API (vm/lookups.ts), from the services' codecs. */

import { nameKey } from '../services/naming/layout.js';
import { normalizeName } from '../services/naming/name.js';
import { decodeEntry } from '../services/naming/records.js';
import { effectiveEntry } from '../services/naming/state.js';
import { recordKey } from '../services/publish/layout.js';
import { decodeRecord } from '../services/publish/record.js';
import { registerLookups } from '../vm/lookups.js';

const canonical = (name: string): string | null => {
  try {
    const n = normalizeName(name);
    return n === name ? n : null;
  } catch {
    return null;
  }
};

registerLookups({
  nameKey: (name) => {
    const n = canonical(name);
    return n === null ? null : nameKey(n);
  },
  nameOwner: (value, height) => {
    // The name is not part of the value's checks; the owner and expiry are.
    const e = effectiveEntry(decodeEntry('', value), height);
    return height <= e.expires ? e.owner.bytes : null;
  },
  publishKey: (id) => recordKey(id),
  publishField: (value, field) => {
    const r = decodeRecord(value);
    switch (field) {
      case 'owner':
        return r.owner.toHex();
      case 'cid':
        return r.cid.toString();
      case 'kind':
        return r.kind;
      case 'title':
        return r.title;
      case 'description':
        return r.description;
      case 'mime':
        return r.mime;
      case 'tags':
        return r.tags.join(',');
      case 'size':
        return String(r.size);
      case 'publishedAt':
        return String(r.publishedAt);
      default:
        return null;
    }
  },
});
