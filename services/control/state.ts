/**
 * Control tx kinds, the contribution ledger and the epoch end (consensus-critical; layout.ts has the keys):
 *
 *   control-receipts  = [epoch, [[client publicKey 32, bytes, signature 64]...]]   sender = the server
 *   control-set-owner = [owner 20 | empty]                                         sender = the identity
 *
 * Contribution is earned from evidence only: shards proven by storage audits (services/storage credits
 * them here), bytes served attested by a counterparty's receipt, times validators' precommit
 * participation (the last commit of every block). Self-dealing earns nothing: a receipt signed by the
 * server itself, by an identity of the same owner, a replayed one or one of another epoch is refused,
 * and a provider earns nothing for shards of its own (or its owner's) objects. At the last block of an
 * epoch the accruals become each node's contribution C, the threshold T is set (formula.ts) and the
 * ledger's power rule weights the next validator set by them.
 */
import { ADDRESS_LENGTH, Address, addressFromPublicKey } from '../../chain/address.js';
import { asBytes, asList, asNumber, CodecError, decodeRlp, encodeRlp } from '../../chain/codec.js';
import { verifySignature } from '../../chain/keys.js';
import { registerBlockHook, registerPowerRule } from '../../chain/ledger/block-hooks.js';
import { getAccount, type TxContext } from '../../chain/ledger/execute-tx.js';
import { TxFailure } from '../../chain/ledger/failure.js';
import type { ControlParams } from '../../chain/ledger/params.js';
import type { TxEvent } from '../../chain/receipt.js';
import { expectFields, modulePayload, registerRlpTxKind, type TxPayload } from '../../chain/tx/kinds.js';
import type { Tx } from '../../chain/tx/tx.js';
import { u64be } from '../../util/bytes.js';
import { boostPpm, contribution, PPM, quota, threshold, votingPower } from './formula.js';
import {
  type Accrual,
  accKey,
  activeKey,
  budgetKey,
  CTRL_ACT_COUNT_KEY,
  CTRL_EPOCH_KEY,
  CTRL_UPTIME_KEY,
  compareAddresses,
  decodeAccrual,
  decodeEpoch,
  decodeNode,
  decodeUptime,
  type EpochRecord,
  encodeAccrual,
  encodeEpoch,
  encodeNode,
  encodeUptime,
  epochOf,
  type NodeRecord,
  nodeKey,
  ownerKey,
  receiptMarkKey,
  type Uptime,
} from './layout.js';
import { receiptMessage, type ServedReceipt } from './receipt.js';

export enum ControlTxKind {
  Receipts = 50,
  SetOwner = 51,
}

export const MAX_RECEIPTS_PER_TX = 32;
/**
 * Each receipt costs a signature check, priced as a tx's own (txBase): a block of receipts makes a
 * validator verify no more signatures than a block of transfers. The fixed gas covers a full tx.
 */
const RECEIPTS_GAS = 40_000n + BigInt(MAX_RECEIPTS_PER_TX) * 20_000n;
const OWNER_GAS = 20_000n;
const MAX_BYTES_FIELD = 2 ** 50;

interface StateRW {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  set(key: Uint8Array, value: Uint8Array | null): void;
}
type StateR = Pick<StateRW, 'get'>;

export type Resource = 'storage' | 'mailboxMessages' | 'mailboxBytes' | 'appGas';

/** base and k (ppm) of each quota; storage's base is the storage module's genesis base quota. */
export function resourceTerms(
  p: { control: ControlParams; storage: { baseQuota: number } },
  r: Resource,
): { base: bigint; kPpm: bigint } {
  const c = p.control;
  switch (r) {
    case 'storage':
      return { base: BigInt(p.storage.baseQuota), kPpm: BigInt(c.storageKPpm) };
    case 'mailboxMessages':
      return { base: BigInt(c.mailboxBaseMessages), kPpm: BigInt(c.mailboxMessagesKPpm) };
    case 'mailboxBytes':
      return { base: BigInt(c.mailboxBaseBytes), kPpm: BigInt(c.mailboxBytesKPpm) };
    case 'appGas':
      return { base: BigInt(c.appGasBase), kPpm: BigInt(c.appGasKPpm) };
  }
}

/** The last finished epoch (undefined before the first epoch end). */
export async function lastEpoch(state: StateR): Promise<EpochRecord | undefined> {
  const v = await state.get(CTRL_EPOCH_KEY);
  return v === undefined ? undefined : decodeEpoch(v);
}

/** The threshold in force: the last finished epoch's, or minThreshold before the first. */
export function thresholdOf(ep: EpochRecord | undefined, p: ControlParams): bigint {
  return ep?.threshold ?? BigInt(p.minThreshold);
}

export async function nodeRecord(state: StateR, a: Address): Promise<NodeRecord | undefined> {
  const v = await state.get(nodeKey(a));
  return v === undefined ? undefined : decodeNode(v);
}

/** A node's standing in the last finished epoch: its contribution there (0 if it earned nothing). */
export async function standing(
  state: StateR,
  p: ControlParams,
  a: Address,
): Promise<{
  epoch: number;
  contribution: bigint;
  threshold: bigint;
  boostPpm: bigint;
  record?: NodeRecord;
}> {
  const ep = await lastEpoch(state);
  const t = thresholdOf(ep, p);
  const rec = await nodeRecord(state, a);
  if (ep === undefined || rec === undefined || rec.epoch !== ep.epoch)
    return { epoch: ep?.epoch ?? 0, contribution: 0n, threshold: t, boostPpm: 0n };
  return {
    epoch: ep.epoch,
    contribution: rec.contribution,
    threshold: t,
    boostPpm: rec.boostPpm,
    record: rec,
  };
}

/** A node's quota of a resource from its standing: base + k x min(C, T). */
export async function quotaOf(
  state: StateR,
  p: { control: ControlParams; storage: { baseQuota: number } },
  a: Address,
  r: Resource,
): Promise<bigint> {
  const s = await standing(state, p.control, a);
  const { base, kPpm } = resourceTerms(p, r);
  return quota(base, kPpm, s.contribution, s.threshold);
}

/** The owner an identity declared, else itself. */
export async function ownerOf(state: StateR, a: Address): Promise<Address> {
  const v = await state.get(ownerKey(a));
  return v === undefined ? a : new Address(v);
}

/**
 * One identity, or two that both declared one owner. A declaration binds only the identity that made
 * it: naming someone else as one's owner cannot cost that someone anything.
 */
export async function sameOwner(state: StateR, a: Address, b: Address): Promise<boolean> {
  if (a.equals(b)) return true;
  const oa = await state.get(ownerKey(a));
  if (oa === undefined) return false;
  const ob = await state.get(ownerKey(b));
  return ob !== undefined && Buffer.from(oa).equals(Buffer.from(ob));
}

/** Add to what a node earned in the current epoch (storage proofs, receipts). */
export async function credit(
  ctx: Pick<TxContext, 'state' | 'height' | 'params'>,
  a: Address,
  add: { storage?: bigint; served?: bigint },
): Promise<void> {
  const { state } = ctx;
  const epoch = epochOf(ctx.height, ctx.params.epochLength);
  const key = accKey(a);
  const v = await state.get(key);
  let acc = v === undefined ? undefined : decodeAccrual(v);
  if (acc === undefined || acc.epoch !== epoch) {
    // First accrual this epoch: list the node for the epoch end.
    const n = await activeCount(state);
    state.set(activeKey(n), a.bytes);
    state.set(CTRL_ACT_COUNT_KEY, u64be(n + 1));
    acc = { epoch, storage: 0n, served: 0n };
  }
  acc.storage += add.storage ?? 0n;
  acc.served += add.served ?? 0n;
  state.set(key, encodeAccrual(acc));
}

async function activeCount(state: StateR): Promise<number> {
  const v = await state.get(CTRL_ACT_COUNT_KEY);
  return v === undefined ? 0 : Number(Buffer.from(v).readBigUInt64BE(0));
}

export interface ReceiptsBody {
  epoch: number;
  receipts: ServedReceipt[];
}

const module = <B>(gas: bigint, m: Parameters<typeof registerRlpTxKind<B>>[1]) => registerRlpTxKind(gas, m);

module<ReceiptsBody>(RECEIPTS_GAS, {
  kind: ControlTxKind.Receipts,
  name: 'control-receipts',
  decode(f) {
    expectFields(f, 2, 'control-receipts');
    const epoch = asNumber(f[0], 'epoch');
    const items = asList(f[1], 'receipts');
    if (items.length === 0 || items.length > MAX_RECEIPTS_PER_TX)
      throw new CodecError('INVALID_FIELD', 'receipts', `1-${MAX_RECEIPTS_PER_TX} receipts`);
    const receipts = items.map((it, i) => {
      const r = asList(it, `receipts[${i}]`, 3);
      const bytes = asNumber(r[1], `receipts[${i}].bytes`, MAX_BYTES_FIELD);
      if (bytes === 0) throw new CodecError('INVALID_FIELD', `receipts[${i}].bytes`, 'must be > 0');
      return {
        client: asBytes(r[0], `receipts[${i}].client`, 32),
        epoch,
        bytes,
        signature: asBytes(r[2], `receipts[${i}].signature`, 64),
      };
    });
    return { epoch, receipts };
  },
  raw: (b) => [b.epoch, b.receipts.map((r) => [r.client, r.bytes, r.signature])],
  toJSON: (b) => ({
    epoch: b.epoch,
    receipts: b.receipts.map((r) => ({ client: addressFromPublicKey(r.client).toString(), bytes: r.bytes })),
  }),
  async execute(ctx: TxContext, tx: Tx, b: ReceiptsBody): Promise<TxEvent[]> {
    const p = ctx.params.control;
    // Cheap checks first (epoch, identities, marks, balances, budgets), the signatures last. A refused
    // receipt earns nothing and the others still count; a tx of refused receipts only fails (with the
    // first reason), so a server sees why.
    if (b.epoch !== epochOf(ctx.height, ctx.params.epochLength) - 1)
      throw new TxFailure('CONTROL_RECEIPT_EPOCH');
    const seen = new Set<string>();
    const candidates: { r: ServedReceipt; client: Address }[] = [];
    let firstRefusal: string | null = null;
    const refuse = (code: string) => {
      firstRefusal ??= code;
    };
    for (const r of b.receipts) {
      const client = addressFromPublicKey(r.client);
      if (client.equals(tx.sender)) refuse('CONTROL_SELF_RECEIPT');
      else if (seen.has(client.toHex())) refuse('CONTROL_RECEIPT_REPLAY');
      else if (await sameOwner(ctx.state, client, tx.sender)) refuse('CONTROL_SAME_OWNER');
      else if (await markedSince(ctx.state, tx.sender, client, b.epoch)) refuse('CONTROL_RECEIPT_REPLAY');
      else if ((await getAccount(ctx.state, client)).balance < p.receiptMinBalance)
        refuse('CONTROL_RECEIPT_UNFUNDED');
      else candidates.push({ r, client });
      seen.add(client.toHex());
    }
    let total = 0n;
    let counted = 0;
    for (const { r, client } of candidates) {
      if (!verifySignature(r.client, receiptMessage(ctx.chainId, b.epoch, tx.sender, r.bytes), r.signature)) {
        refuse('CONTROL_BAD_RECEIPT');
        continue;
      }
      // Each client attests at most maxReceiptBytes per epoch, over all the servers it signs for.
      const spent = await budgetSpent(ctx.state, client, b.epoch);
      const take = Math.min(r.bytes, p.maxReceiptBytes - spent);
      ctx.state.set(receiptMarkKey(tx.sender, client), u64be(b.epoch));
      if (take <= 0) {
        refuse('CONTROL_RECEIPT_BUDGET');
        continue;
      }
      ctx.state.set(budgetKey(client), encodeRlp([b.epoch, spent + take]));
      total += BigInt(take);
      counted++;
    }
    if (counted === 0) throw new TxFailure(firstRefusal ?? 'CONTROL_BAD_RECEIPT');
    await credit(ctx, tx.sender, { served: total });
    return [
      {
        type: 'control-receipts',
        attributes: [
          ['server', tx.sender.bytes],
          ['epoch', String(b.epoch)],
          ['bytes', total.toString()],
          ['count', String(counted)],
          ['refused', String(b.receipts.length - counted)],
        ],
      },
    ];
  },
});

async function markedSince(state: StateR, server: Address, client: Address, epoch: number): Promise<boolean> {
  const mark = await state.get(receiptMarkKey(server, client));
  return mark !== undefined && Number(Buffer.from(mark).readBigUInt64BE(0)) >= epoch;
}

/** Bytes a client already attested in `epoch` (its budget spent). */
async function budgetSpent(state: StateR, client: Address, epoch: number): Promise<number> {
  const v = await state.get(budgetKey(client));
  if (v === undefined) return 0;
  const f = asList(decodeRlp(v, 'ctrl/budget'), 'ctrl/budget', 2);
  return asNumber(f[0], 'epoch') === epoch ? asNumber(f[1], 'bytes') : 0;
}

export interface SetOwnerBody {
  owner: Address | null;
}

module<SetOwnerBody>(OWNER_GAS, {
  kind: ControlTxKind.SetOwner,
  name: 'control-set-owner',
  decode(f) {
    expectFields(f, 1, 'control-set-owner');
    const b = asBytes(f[0], 'owner');
    if (b.length !== 0 && b.length !== ADDRESS_LENGTH)
      throw new CodecError('INVALID_FIELD', 'owner', `${ADDRESS_LENGTH} bytes or empty`);
    return { owner: b.length === 0 ? null : new Address(b) };
  },
  raw: (b) => [b.owner?.bytes ?? new Uint8Array(0)],
  toJSON: (b) => ({ owner: b.owner?.toString() ?? null }),
  async execute(ctx: TxContext, tx: Tx, b: SetOwnerBody): Promise<TxEvent[]> {
    const clear = b.owner === null || b.owner.equals(tx.sender);
    ctx.state.set(ownerKey(tx.sender), clear ? null : (b.owner as Address).bytes);
    return [
      {
        type: 'control-set-owner',
        attributes: [
          ['identity', tx.sender.bytes],
          ['owner', (clear ? tx.sender : (b.owner as Address)).bytes],
        ],
      },
    ];
  },
});

export const controlPayload = {
  receipts: (b: ReceiptsBody): TxPayload => modulePayload(ControlTxKind.Receipts, b),
  setOwner: (owner: Address | null): TxPayload => modulePayload(ControlTxKind.SetOwner, { owner }),
};

/** Count the last commit's precommits into this epoch's uptime list (one state write per block). */
async function recordParticipation(ctx: TxContext): Promise<void> {
  const part = ctx.participation;
  if (part === undefined || part.signed.length + part.missed.length === 0) return;
  const v = await ctx.state.get(CTRL_UPTIME_KEY);
  const list = v === undefined ? [] : decodeUptime(v);
  const byAddr = new Map(list.map((u) => [u.address.toHex(), u]));
  const bump = (a: Address, signed: boolean) => {
    let u = byAddr.get(a.toHex());
    if (u === undefined) {
      u = { address: a, signed: 0, missed: 0 };
      byAddr.set(a.toHex(), u);
      list.push(u);
    }
    if (signed) u.signed++;
    else u.missed++;
  };
  for (const a of part.signed) bump(a, true);
  for (const a of part.missed) bump(a, false);
  list.sort((x, y) => compareAddresses(x.address, y.address));
  ctx.state.set(CTRL_UPTIME_KEY, encodeUptime(list));
}

/**
 * The epoch end: every node that earned something gets its contribution (accruals x uptime), the
 * threshold is the clamped lower median of them, boosts follow; the active count and the uptime list
 * are cleared for the next epoch (layout.ts: accruals and list slots are reused, not deleted).
 * PERF: O(active nodes) reads, one write per active node, one sort.
 */
export async function finishEpoch(ctx: TxContext, epoch: number): Promise<EpochRecord> {
  const state = ctx.state;
  const n = await activeCount(state);
  const uptime = new Map<string, Uptime>();
  const up = await state.get(CTRL_UPTIME_KEY);
  if (up !== undefined) for (const u of decodeUptime(up)) uptime.set(u.address.toHex(), u);
  const nodes: { a: Address; acc: Accrual; uptimePpm: bigint; c: bigint }[] = [];
  for (let i = 0; i < n; i++) {
    const a = new Address((await state.get(activeKey(i))) as Uint8Array);
    const acc = decodeAccrual((await state.get(accKey(a))) as Uint8Array);
    const u = uptime.get(a.toHex());
    const seen = u === undefined ? 0 : u.signed + u.missed;
    const uptimePpm = seen === 0 ? PPM : (BigInt(u?.signed ?? 0) * PPM) / BigInt(seen);
    nodes.push({ a, acc, uptimePpm, c: contribution(acc.storage, acc.served, uptimePpm) });
  }
  state.set(CTRL_ACT_COUNT_KEY, null);
  state.set(CTRL_UPTIME_KEY, null);
  const t = threshold(
    nodes.map((x) => x.c),
    ctx.params.control,
  );
  let total = 0n;
  let active = 0;
  for (const x of nodes) {
    if (x.c === 0n) continue;
    total += x.c;
    active++;
    state.set(
      nodeKey(x.a),
      encodeNode({
        epoch,
        contribution: x.c,
        storage: x.acc.storage,
        served: x.acc.served,
        uptimePpm: x.uptimePpm,
        boostPpm: boostPpm(x.c, t),
      }),
    );
  }
  const rec: EpochRecord = { epoch, threshold: t, active, total, endHeight: ctx.height };
  state.set(CTRL_EPOCH_KEY, encodeEpoch(rec));
  return rec;
}

registerBlockHook('control/epoch', async (ctx) => {
  await recordParticipation(ctx);
  if (ctx.height % ctx.params.epochLength === 0) await finishEpoch(ctx, ctx.height / ctx.params.epochLength);
});

/**
 * Voting power weighs the audited part of the contribution only (storage proofs x uptime): served-bytes
 * receipts are signed by clients, which a validator could create, so they buy quota and rank, not
 * consensus weight.
 */
registerPowerRule(async (state, params, address, stake) => {
  const s = await standing(state, params.control, address);
  const audited = s.record === undefined ? 0n : contribution(s.record.storage, 0n, s.record.uptimePpm);
  return votingPower(stake, audited, s.threshold);
});
