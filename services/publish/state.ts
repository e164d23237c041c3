/**
 * Publish tx kinds (module payloads) and their state transition: publish a CID with its description,
 * update the description, retract; only the publisher updates or retracts. One record per (owner, CID).
 *
 *   publish = [cid bytes, size, mime, kind, title, description, [tag...]]
 *   update  = [id 32, mime, kind, title, description, [tag...]]
 *   retract = [id 32]
 */

import type { CID } from 'multiformats/cid';
import { asBoundedBytes, asBytes, asNumber, type RlpItem } from '../../chain/codec.js';
import type { TxContext } from '../../chain/ledger/execute-tx.js';
import { TxFailure } from '../../chain/ledger/failure.js';
import type { TxEvent } from '../../chain/receipt.js';
import { expectFields, modulePayload, registerRlpTxKind, type TxPayload } from '../../chain/tx/kinds.js';
import type { Tx } from '../../chain/tx/tx.js';
import { toHex } from '../../util/bytes.js';
import { quotaOf } from '../control/state.js';
import { ownerUsage, setOwnerUsage } from '../storage/prov.js';
import { cidIndexKey, publishId, recordKey } from './layout.js';
import {
  cidField,
  decodeRecord,
  encodeRecord,
  metaFromItems,
  metaRaw,
  type PublishMeta,
  type PublishRecord,
} from './record.js';

export enum PublishTxKind {
  Publish = 30,
  Update = 31,
  Retract = 32,
}

/** Gas beyond the intrinsic gas (a few state reads and writes). */
const PUBLISH_GAS = 30_000n;
/** The largest object a record may describe (2^53 - 1 bytes; storage quotas apply to the bytes). */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export interface PublishBody extends PublishMeta {
  cid: CID;
  size: number;
}
export interface UpdateBody extends PublishMeta {
  id: Uint8Array;
}
export interface RetractBody {
  id: Uint8Array;
}

function idField(item: RlpItem): Uint8Array {
  return asBytes(item, 'id', 32);
}

async function load(ctx: TxContext, tx: Tx, id: Uint8Array): Promise<PublishRecord> {
  const v = await ctx.state.get(recordKey(id));
  if (v === undefined) throw new TxFailure('PUBLISH_NOT_FOUND');
  const r = decodeRecord(v);
  if (!r.owner.equals(tx.sender)) throw new TxFailure('PUBLISH_NOT_OWNER');
  return r;
}

function event(type: string, id: Uint8Array, r: PublishRecord): TxEvent[] {
  return [
    {
      type,
      attributes: [
        ['id', id],
        ['cid', r.cid.bytes],
        ['owner', r.owner],
      ],
    },
  ];
}

const module = <B>(m: Parameters<typeof registerRlpTxKind<B>>[1]) => registerRlpTxKind(PUBLISH_GAS, m);

module<PublishBody>({
  kind: PublishTxKind.Publish,
  name: 'publish',
  decode(f) {
    expectFields(f, 7, 'publish');
    return {
      cid: cidField(asBoundedBytes(f[0], 'cid', 128)),
      size: asNumber(f[1], 'size', MAX_SIZE),
      ...metaFromItems(f, 2),
    };
  },
  raw: (b) => [b.cid.bytes, BigInt(b.size), ...metaRaw(b)],
  toJSON: (b) => ({
    cid: b.cid.toString(),
    size: b.size,
    mime: b.mime,
    kind: b.kind,
    title: b.title,
    tags: b.tags,
  }),
  async execute(ctx: TxContext, tx: Tx, b: PublishBody) {
    const id = publishId(tx.sender, b.cid.bytes);
    if ((await ctx.state.get(recordKey(id))) !== undefined) throw new TxFailure('PUBLISH_EXISTS');
    // Published bytes count against the owner's storage quota, with its distributed objects.
    const used = await ownerUsage(ctx.state, tx.sender);
    if (used + b.size > (await quotaOf(ctx.state, ctx.params, tx.sender, 'storage')))
      throw new TxFailure('PUBLISH_QUOTA_EXCEEDED');
    setOwnerUsage(ctx.state, tx.sender, used + b.size);
    const r: PublishRecord = {
      owner: tx.sender,
      cid: b.cid,
      size: b.size,
      mime: b.mime,
      kind: b.kind,
      title: b.title,
      description: b.description,
      tags: b.tags,
      publishedAt: ctx.height,
      updatedAt: ctx.height,
    };
    ctx.state.set(recordKey(id), encodeRecord(r));
    ctx.state.set(cidIndexKey(b.cid.bytes, id), new Uint8Array(0));
    return event('publish', id, r);
  },
});

module<UpdateBody>({
  kind: PublishTxKind.Update,
  name: 'publish-update',
  decode(f) {
    expectFields(f, 6, 'publish-update');
    return { id: idField(f[0]), ...metaFromItems(f, 1) };
  },
  raw: (b) => [b.id, ...metaRaw(b)],
  toJSON: (b) => ({ id: toHex(b.id), mime: b.mime, kind: b.kind, title: b.title, tags: b.tags }),
  async execute(ctx: TxContext, tx: Tx, b: UpdateBody) {
    const r = await load(ctx, tx, b.id);
    const next: PublishRecord = {
      ...r,
      mime: b.mime,
      kind: b.kind,
      title: b.title,
      description: b.description,
      tags: b.tags,
      updatedAt: ctx.height,
    };
    ctx.state.set(recordKey(b.id), encodeRecord(next));
    return event('publish-update', b.id, next);
  },
});

module<RetractBody>({
  kind: PublishTxKind.Retract,
  name: 'publish-retract',
  decode(f) {
    expectFields(f, 1, 'publish-retract');
    return { id: idField(f[0]) };
  },
  raw: (b) => [b.id],
  toJSON: (b) => ({ id: toHex(b.id) }),
  async execute(ctx: TxContext, tx: Tx, b: RetractBody) {
    const r = await load(ctx, tx, b.id);
    ctx.state.delete(recordKey(b.id));
    ctx.state.delete(cidIndexKey(r.cid.bytes, b.id));
    setOwnerUsage(ctx.state, tx.sender, (await ownerUsage(ctx.state, tx.sender)) - r.size);
    return event('publish-retract', b.id, r);
  },
});

export const publishPayload = {
  publish: (b: PublishBody): TxPayload => modulePayload(PublishTxKind.Publish, b),
  update: (b: UpdateBody): TxPayload => modulePayload(PublishTxKind.Update, b),
  retract: (id: Uint8Array): TxPayload => modulePayload(PublishTxKind.Retract, { id } satisfies RetractBody),
};
