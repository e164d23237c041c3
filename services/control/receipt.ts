/**
 * A served-bytes receipt: the client (the counterparty that received the bytes) signs how many bytes
 * a server gave it in one epoch. The server keeps the latest per client and submits them in one
 * `control-receipts` tx in the next epoch (state.ts). The signed message:
 *
 *   sha256("vos/control/receipt/1" | u8 len | chainId | u64 epoch | server 20 | u64 bytes)
 */
import { createHash } from 'node:crypto';
import type { Address } from '../../chain/address.js';
import type { PrivateKey } from '../../chain/keys.js';
import { u64be } from '../../util/bytes.js';

export interface ServedReceipt {
  /** The client's Ed25519 public key (its address is derived from it). */
  client: Uint8Array;
  epoch: number;
  bytes: number;
  signature: Uint8Array;
}

export function receiptMessage(chainId: string, epoch: number, server: Address, bytes: number): Uint8Array {
  const id = Buffer.from(chainId, 'utf8');
  return createHash('sha256')
    .update('vos/control/receipt/1')
    .update(Uint8Array.of(id.length))
    .update(id)
    .update(u64be(epoch))
    .update(server.bytes)
    .update(u64be(bytes))
    .digest();
}

export function signReceipt(
  key: PrivateKey,
  chainId: string,
  epoch: number,
  server: Address,
  bytes: number,
): ServedReceipt {
  const signature = key.sign(receiptMessage(chainId, epoch, server, bytes));
  return { client: key.publicKey, epoch, bytes, signature };
}
