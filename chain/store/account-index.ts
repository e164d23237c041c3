/**
 * The chain DB's account index (layout.ts `a/`): each committed tx is listed under its sender and, for a
 * transfer, its recipient (once for a transfer to oneself), so an account's txs are one range read
 * instead of a scan of blocks. Bounded: at most two entries per tx, 34-byte key + 36-byte value each.
 * Entry: a/<address 20><height u64be><index u32be> -> txHash 32 || kind u16be || status u8 || role u8.
 */
import { concatBytes, readU64be, u64be } from '../../util/bytes.js';
import type { Address } from '../address.js';
import type { Block } from '../block.js';
import { type Receipt, ReceiptStatus } from '../receipt.js';
import { TxKind, txKindName } from '../tx/kinds.js';
import type { Tx } from '../tx/tx.js';
import { PREFIX_ACCOUNT_TX } from './layout.js';

export type AccountRole = 'sender' | 'recipient' | 'both';

const ROLE_SENDER = 1;
const ROLE_RECIPIENT = 2;
const ROLES: Record<number, AccountRole> = { 1: 'sender', 2: 'recipient', 3: 'both' };

export interface AccountTx {
  hash: Uint8Array;
  height: number;
  index: number;
  kind: string;
  status: 'ok' | 'failed';
  role: AccountRole;
}

/** The accounts a tx is listed under: its sender and, for a transfer, its recipient. */
export function txAccounts(tx: Tx): { sender: Address; recipient?: Address } {
  const body = tx.kind === TxKind.Transfer ? tx.body : undefined;
  return body?.kind === TxKind.Transfer
    ? { sender: tx.sender, recipient: body.body.to }
    : { sender: tx.sender };
}

const u32be = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};

export function accountTxKey(address: Uint8Array, height: number, index: number): Uint8Array {
  return concatBytes(PREFIX_ACCOUNT_TX, address, u64be(height), u32be(index));
}

/** The key range of one account's entries. */
export function accountTxRange(address: Uint8Array): { gte: Uint8Array; lte: Uint8Array } {
  const gte = concatBytes(PREFIX_ACCOUNT_TX, address);
  return { gte, lte: concatBytes(gte, new Uint8Array(12).fill(0xff)) };
}

/**
 * The puts of a block's entries (added to the block's batch by BlockStore.blockOps).
 * PERF: one or two puts per tx; the sender's address and the decoded payload are memoised on the tx
 * (execution computed both), so this costs the key and value bytes only.
 */
export function accountTxPuts(
  block: Block,
  receipts: readonly Receipt[],
): { type: 'put'; key: Uint8Array; value: Uint8Array }[] {
  const out: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  const h = block.height;
  block.txs.forEach((tx, i) => {
    const { sender, recipient } = txAccounts(tx);
    const ok = receipts[i]?.status === ReceiptStatus.Ok;
    const self = recipient?.equals(sender) === true;
    const value = (role: number) => {
      const v = new Uint8Array(36);
      v.set(tx.hash(), 0);
      v[32] = (tx.kind >> 8) & 0xff;
      v[33] = tx.kind & 0xff;
      v[34] = ok ? 1 : 0;
      v[35] = role;
      return v;
    };
    out.push({
      type: 'put',
      key: accountTxKey(sender.bytes, h, i),
      value: value(self ? ROLE_SENDER | ROLE_RECIPIENT : ROLE_SENDER),
    });
    if (recipient !== undefined && !self)
      out.push({ type: 'put', key: accountTxKey(recipient.bytes, h, i), value: value(ROLE_RECIPIENT) });
  });
  return out;
}

export function decodeAccountTx(key: Uint8Array, value: Uint8Array): AccountTx {
  const at = PREFIX_ACCOUNT_TX.length + 20;
  const index = new DataView(key.buffer, key.byteOffset + at + 8, 4).getUint32(0);
  return {
    hash: value.slice(0, 32),
    height: Number(readU64be(key, at)),
    index,
    kind: txKindName((value[32] << 8) | value[33]),
    status: value[34] === 1 ? 'ok' : 'failed',
    role: ROLES[value[35]] ?? 'sender',
  };
}
