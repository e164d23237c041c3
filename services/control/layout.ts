/**
 * The control module in the state tree (module `ctrl/`; provable), canonically encoded (RLP):
 *
 *   ctrl/epoch              -> rlp([epoch, threshold, active, total, endHeight])   the last finished epoch
 *   ctrl/node/<addr 20>     -> rlp([epoch, contribution, storage, served, uptimePpm, boostPpm])
 *                              a node's figures for the epoch it names (stale = 0 when older than ctrl/epoch)
 *   ctrl/acc/<addr 20>      -> rlp([epoch, storage, served])  what the node earned in that epoch
 *   ctrl/act/n              -> u64: how many nodes earned something in the current epoch
 *   ctrl/act/<u32 i>        -> addr 20: the i-th of them (the epoch end walks them)
 *
 * PERF: the epoch end writes one record per active node and clears the count only: accruals of an
 * older epoch are reset by the next credit, and list slots are overwritten (a delete costs a tree
 * update as a write does: this halves the epoch end's writes).
 *   ctrl/up                 -> rlp([[addr 20, signed, missed]...])  validators' precommits this epoch, by address
 *   ctrl/own/<addr 20>      -> addr 20: the owner an identity declared (default: itself)
 *   ctrl/rc/<server 20><client 20> -> u64: the last epoch a receipt of client credited server
 *   ctrl/budget/<client 20> -> rlp([epoch, bytes]): what the client attested in that epoch (its budget)
 *
 * Epoch e covers heights (e - 1) x epochLength + 1 ... e x epochLength and ends at the last one.
 */
import { ADDRESS_LENGTH, Address } from '../../chain/address.js';
import { asBigint, asBytes, asList, asNumber, decodeRlp, encodeRlp } from '../../chain/codec.js';
import { compareBytes } from '../../util/bytes.js';

const enc = (s: string) => Buffer.from(s, 'latin1');
export const CTRL_PREFIX = enc('ctrl/');
export const CTRL_EPOCH_KEY = enc('ctrl/epoch');
export const CTRL_NODE_PREFIX = enc('ctrl/node/');
export const CTRL_ACC_PREFIX = enc('ctrl/acc/');
export const CTRL_ACT_COUNT_KEY = enc('ctrl/act/n');
export const CTRL_ACT_PREFIX = enc('ctrl/act/');
export const CTRL_UPTIME_KEY = enc('ctrl/up');
export const CTRL_OWNER_PREFIX = enc('ctrl/own/');
export const CTRL_RECEIPT_PREFIX = enc('ctrl/rc/');
export const CTRL_BUDGET_PREFIX = enc('ctrl/budget/');

export const nodeKey = (a: Address): Buffer => Buffer.concat([CTRL_NODE_PREFIX, a.bytes]);
export const accKey = (a: Address): Buffer => Buffer.concat([CTRL_ACC_PREFIX, a.bytes]);
export const ownerKey = (a: Address): Buffer => Buffer.concat([CTRL_OWNER_PREFIX, a.bytes]);
export const budgetKey = (client: Address): Buffer => Buffer.concat([CTRL_BUDGET_PREFIX, client.bytes]);
export const receiptMarkKey = (server: Address, client: Address): Buffer =>
  Buffer.concat([CTRL_RECEIPT_PREFIX, server.bytes, client.bytes]);
export function activeKey(i: number): Buffer {
  const b = Buffer.alloc(CTRL_ACT_PREFIX.length + 4);
  CTRL_ACT_PREFIX.copy(b);
  b.writeUInt32BE(i, CTRL_ACT_PREFIX.length);
  return b;
}

/** The epoch a height belongs to (1-based). */
export function epochOf(height: number, epochLength: number): number {
  return Math.floor((height - 1) / epochLength) + 1;
}

export interface EpochRecord {
  epoch: number;
  threshold: bigint;
  active: number;
  total: bigint;
  endHeight: number;
}

export function encodeEpoch(r: EpochRecord): Uint8Array {
  return encodeRlp([r.epoch, r.threshold, r.active, r.total, r.endHeight]);
}

export function decodeEpoch(b: Uint8Array): EpochRecord {
  const f = asList(decodeRlp(b, 'ctrl/epoch'), 'ctrl/epoch', 5);
  return {
    epoch: asNumber(f[0], 'epoch'),
    threshold: asBigint(f[1], 'threshold'),
    active: asNumber(f[2], 'active'),
    total: asBigint(f[3], 'total'),
    endHeight: asNumber(f[4], 'endHeight'),
  };
}

export interface NodeRecord {
  epoch: number;
  contribution: bigint;
  storage: bigint;
  served: bigint;
  uptimePpm: bigint;
  boostPpm: bigint;
}

export function encodeNode(r: NodeRecord): Uint8Array {
  return encodeRlp([r.epoch, r.contribution, r.storage, r.served, r.uptimePpm, r.boostPpm]);
}

export function decodeNode(b: Uint8Array): NodeRecord {
  const f = asList(decodeRlp(b, 'ctrl/node'), 'ctrl/node', 6);
  return {
    epoch: asNumber(f[0], 'epoch'),
    contribution: asBigint(f[1], 'contribution'),
    storage: asBigint(f[2], 'storage'),
    served: asBigint(f[3], 'served'),
    uptimePpm: asBigint(f[4], 'uptimePpm'),
    boostPpm: asBigint(f[5], 'boostPpm'),
  };
}

export interface Accrual {
  epoch: number;
  storage: bigint;
  served: bigint;
}

export const encodeAccrual = (a: Accrual): Uint8Array => encodeRlp([a.epoch, a.storage, a.served]);

export function decodeAccrual(b: Uint8Array): Accrual {
  const f = asList(decodeRlp(b, 'ctrl/acc'), 'ctrl/acc', 3);
  return {
    epoch: asNumber(f[0], 'epoch'),
    storage: asBigint(f[1], 'storage'),
    served: asBigint(f[2], 'served'),
  };
}

export interface Uptime {
  address: Address;
  signed: number;
  missed: number;
}

export function encodeUptime(list: readonly Uptime[]): Uint8Array {
  return encodeRlp(list.map((u) => [u.address.bytes, u.signed, u.missed]));
}

export function decodeUptime(b: Uint8Array): Uptime[] {
  return asList(decodeRlp(b, 'ctrl/up'), 'ctrl/up').map((it, i) => {
    const f = asList(it, `ctrl/up[${i}]`, 3);
    return {
      address: new Address(asBytes(f[0], 'address', ADDRESS_LENGTH)),
      signed: asNumber(f[1], 'signed'),
      missed: asNumber(f[2], 'missed'),
    };
  });
}

export const compareAddresses = (a: Address, b: Address): number => compareBytes(a.bytes, b.bytes);
