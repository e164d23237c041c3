/** Domain-separated sign bytes: tag || 0x00 || chainId || 0x00 || rlp(body). Tags never contain 0x00. */
import { concatBytes, utf8 } from '../util/bytes.js';

export enum SignTag {
  Tx = 'vos/tx/v1',
  Vote = 'vos/vote/v1',
  Proposal = 'vos/proposal/v1',
}

const SEP = new Uint8Array([0]);

export function signBytes(tag: SignTag, chainId: string, rlpBody: Uint8Array): Uint8Array {
  return concatBytes(utf8(tag), SEP, utf8(chainId), SEP, rlpBody);
}

/** chainId: 1-50 chars of [a-z0-9-] (so it can never contain the separator). */
export const CHAIN_ID_RE = /^[a-z0-9][a-z0-9-]{0,49}$/;

/** The RLP body of sign bytes made by signBytes(tag, chainId, body), or null if they are not such bytes. */
export function signBytesBody(bytes: Uint8Array, tag: SignTag, chainId: string): Uint8Array | null {
  const prefix = signBytes(tag, chainId, new Uint8Array(0));
  if (bytes.length < prefix.length) return null;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return null;
  return bytes.subarray(prefix.length);
}
