/**
 * The naming service's state machine: its tx kinds (registered with the ledger on import) and their
 * handlers. Keys: layout.ts. Rules (params: chain/ledger/params.ts NamingParams):
 * - name-commit [hash]: hash = commitHash(name, owner, salt) hides the name until the reveal.
 * - name-reveal [name, salt]: after >= commitMinAge and <= commitMaxAge blocks, by the owner the commit
 *   bound; the name must be free (never registered, or past expiry + grace, or released) and not
 *   reserved; its price by length is burned; it is registered until height + registrationPeriod.
 *   Front-running a reveal seen in the mempool needs a commit of the watcher's own, at least one block
 *   old: the first reveal executed wins.
 * - name-update [name, records], name-renew [name] (price burned, + one period, also during grace),
 *   name-transfer [name, toKey] (effective after transferLockup blocks), name-transfer-cancel [name],
 *   name-release [name]: owner only. A non-owner, an expired name (update, transfer) or a name in
 *   grace (anything but renew) fail with a specific code and no state change (the fee is paid).
 * Lazy rules (no end-of-block scan): a pending transfer takes effect at heights above its
 * effectiveAt (`effectiveEntry`); a name past `expires` stops resolving, past `expires + gracePeriod`
 * it is free.
 */
import { type Address, addressFromPublicKey } from '../../chain/address.js';
import { asBytes, CodecError, encodeRlp, type RlpItem } from '../../chain/codec.js';
import { PUBLIC_KEY_LENGTH } from '../../chain/keys.js';
import { getAccount, putAccount, type TxContext } from '../../chain/ledger/execute-tx.js';
import { TxFailure } from '../../chain/ledger/failure.js';
import { namePrice } from '../../chain/ledger/params.js';
import type { TxEvent } from '../../chain/receipt.js';
import { modulePayload, registerTxKind, type TxKindModule, type TxPayload } from '../../chain/tx/kinds.js';
import type { Tx } from '../../chain/tx/tx.js';
import { readU64be, toHex, u64be } from '../../util/bytes.js';
import { commitHash, commitKey, nameKey, reverseKey } from './layout.js';
import { normalizeName } from './name.js';
import {
  decodeEntry,
  EMPTY_RECORDS,
  encodeEntry,
  type NameEntry,
  type NameRecords,
  recordsFromItem,
  recordsRaw,
  recordsToJSON,
} from './records.js';
import { effectiveEntry, nameStatus } from './status.js';

export enum NameTxKind {
  Commit = 20,
  Reveal = 21,
  Update = 22,
  Renew = 23,
  Transfer = 24,
  TransferCancel = 25,
  Release = 26,
}

/** Gas beyond the intrinsic gas, per kind (state reads and writes). */
const NAME_GAS = 30_000n;

// The lazy rules live in status.ts (pure, shared with the light client); re-exported for the callers here.
export { effectiveEntry, type NameStatus, nameStatus } from './status.js';

// ---- payload codecs ----

function nameField(item: RlpItem, what: string): string {
  const b = asBytes(item, what);
  if (b.length > 63) throw new CodecError('INVALID_FIELD', what, 'longer than 63 bytes');
  const s = Buffer.from(b).toString('latin1');
  let canonical: string;
  try {
    canonical = normalizeName(s);
  } catch (err) {
    throw new CodecError('INVALID_FIELD', what, (err as Error).message, err);
  }
  if (canonical !== s) throw new CodecError('INVALID_FIELD', what, `not canonical (use "${canonical}")`);
  return s;
}

function fieldCount(f: RlpItem[], n: number, kind: string, shape: string): void {
  if (f.length !== n) throw new CodecError('INVALID_FIELD', 'tx.payload', `${kind} takes ${shape}`);
}

export interface CommitBody {
  hash: Uint8Array;
}
export interface RevealBody {
  name: string;
  salt: Uint8Array;
}
export interface UpdateBody {
  name: string;
  records: NameRecords;
}
export interface NameOnlyBody {
  name: string;
}
export interface TransferBody {
  name: string;
  toKey: Uint8Array;
}

interface Handler<B> {
  kind: NameTxKind;
  name: string;
  decode(f: RlpItem[]): B;
  raw(b: B): Parameters<typeof encodeRlp>[0];
  toJSON(b: B): Record<string, unknown>;
  run(ctx: TxContext, tx: Tx, b: B): Promise<TxEvent[]>;
}

function register<B>(h: Handler<B>): void {
  const m: TxKindModule<B> = {
    kind: h.kind,
    name: h.name,
    decode: h.decode,
    encode: (b) => encodeRlp(h.raw(b)),
    toJSON: h.toJSON,
    gas: NAME_GAS,
    execute: (ctx: TxContext, tx: Tx, b: B) => h.run(ctx, tx, b),
  };
  registerTxKind(m);
}

// ---- state helpers ----

async function readEntry(ctx: TxContext, name: string): Promise<NameEntry | undefined> {
  const v = await ctx.state.get(nameKey(name));
  return v === undefined ? undefined : decodeEntry(name, v);
}

function writeEntry(ctx: TxContext, e: NameEntry): void {
  ctx.state.set(nameKey(e.name), encodeEntry(e));
}

async function burn(ctx: TxContext, who: Address, amount: bigint): Promise<void> {
  const acct = await getAccount(ctx.state, who);
  if (acct.balance < amount) throw new TxFailure('INSUFFICIENT_BALANCE');
  putAccount(ctx.state, who, { ...acct, balance: acct.balance - amount });
}

/** The sender's name in a state that permits `allowGrace` (renew) or only an active name. */
async function owned(ctx: TxContext, tx: Tx, name: string, allowGrace = false): Promise<NameEntry> {
  const raw = await readEntry(ctx, name);
  const status = nameStatus(raw, ctx.height, ctx.params.naming);
  if (raw === undefined || status === 'free') throw new TxFailure('NAME_NOT_REGISTERED');
  if (status === 'grace' && !allowGrace) throw new TxFailure('NAME_EXPIRED');
  const e = effectiveEntry(raw, ctx.height);
  if (!e.owner.equals(tx.sender)) throw new TxFailure('NAME_NOT_OWNER');
  return e;
}

function event(type: string, e: NameEntry, extra: [string, bigint | string | Address][] = []): TxEvent[] {
  return [
    {
      type,
      attributes: [['name', e.name], ['owner', e.owner], ['expires', BigInt(e.expires)], ...extra],
    },
  ];
}

function setReverse(ctx: TxContext, owner: Address, name: string): void {
  ctx.state.set(reverseKey(owner), Buffer.from(name, 'latin1'));
}

// ---- the kinds ----

register<CommitBody>({
  kind: NameTxKind.Commit,
  name: 'name-commit',
  decode(f) {
    fieldCount(f, 1, 'name-commit', '[hash]');
    return { hash: asBytes(f[0], 'name-commit.hash', 32) };
  },
  raw: (b) => [b.hash],
  toJSON: (b) => ({ hash: toHex(b.hash) }),
  async run(ctx, _tx, b) {
    const key = commitKey(b.hash);
    if ((await ctx.state.get(key)) !== undefined) throw new TxFailure('NAME_COMMIT_EXISTS');
    ctx.state.set(key, u64be(ctx.height));
    return [{ type: 'name-commit', attributes: [['hash', b.hash]] }];
  },
});

register<RevealBody>({
  kind: NameTxKind.Reveal,
  name: 'name-reveal',
  decode(f) {
    fieldCount(f, 2, 'name-reveal', '[name, salt]');
    return { name: nameField(f[0], 'name-reveal.name'), salt: asBytes(f[1], 'name-reveal.salt', 32) };
  },
  raw: (b) => [Buffer.from(b.name, 'latin1'), b.salt],
  toJSON: (b) => ({ name: b.name, salt: toHex(b.salt) }),
  async run(ctx, tx, b) {
    const p = ctx.params.naming;
    const key = commitKey(commitHash(b.name, tx.sender, b.salt));
    const at = await ctx.state.get(key);
    if (at === undefined) throw new TxFailure('NAME_NO_COMMIT');
    const age = ctx.height - Number(readU64be(at));
    if (age < p.commitMinAge) throw new TxFailure('NAME_REVEAL_TOO_EARLY');
    if (age > p.commitMaxAge) throw new TxFailure('NAME_COMMIT_EXPIRED');
    if (p.reserved.includes(b.name)) throw new TxFailure('NAME_RESERVED');
    const old = await readEntry(ctx, b.name);
    if (nameStatus(old, ctx.height, p) !== 'free') throw new TxFailure('NAME_TAKEN');
    await burn(ctx, tx.sender, namePrice(p, b.name.length));
    ctx.state.delete(key);
    const e: NameEntry = {
      name: b.name,
      owner: tx.sender,
      ownerKey: tx.signer,
      registeredAt: ctx.height,
      expires: ctx.height + p.registrationPeriod,
      records: { ...EMPTY_RECORDS },
      transfer: null,
    };
    writeEntry(ctx, e);
    setReverse(ctx, tx.sender, b.name);
    return event('name-register', e, [['price', namePrice(p, b.name.length)]]);
  },
});

register<UpdateBody>({
  kind: NameTxKind.Update,
  name: 'name-update',
  decode(f) {
    fieldCount(f, 2, 'name-update', '[name, records]');
    return { name: nameField(f[0], 'name-update.name'), records: recordsFromItem(f[1]) };
  },
  raw: (b) => [Buffer.from(b.name, 'latin1'), recordsRaw(b.records)],
  toJSON: (b) => ({ name: b.name, records: recordsToJSON(b.records) }),
  async run(ctx, tx, b) {
    const e = { ...(await owned(ctx, tx, b.name)), records: b.records };
    writeEntry(ctx, e);
    return event('name-update', e);
  },
});

register<NameOnlyBody>({
  kind: NameTxKind.Renew,
  name: 'name-renew',
  decode(f) {
    fieldCount(f, 1, 'name-renew', '[name]');
    return { name: nameField(f[0], 'name-renew.name') };
  },
  raw: (b) => [Buffer.from(b.name, 'latin1')],
  toJSON: (b) => ({ name: b.name }),
  async run(ctx, tx, b) {
    const p = ctx.params.naming;
    const cur = await owned(ctx, tx, b.name, true);
    const price = namePrice(p, b.name.length);
    await burn(ctx, tx.sender, price);
    const e = { ...cur, expires: cur.expires + p.registrationPeriod };
    writeEntry(ctx, e);
    return event('name-renew', e, [['price', price]]);
  },
});

register<TransferBody>({
  kind: NameTxKind.Transfer,
  name: 'name-transfer',
  decode(f) {
    fieldCount(f, 2, 'name-transfer', '[name, toPublicKey]');
    return {
      name: nameField(f[0], 'name-transfer.name'),
      toKey: asBytes(f[1], 'name-transfer.to', PUBLIC_KEY_LENGTH),
    };
  },
  raw: (b) => [Buffer.from(b.name, 'latin1'), b.toKey],
  toJSON: (b) => ({
    name: b.name,
    to: addressFromPublicKey(b.toKey).toString(),
    toPublicKey: toHex(b.toKey),
  }),
  async run(ctx, tx, b) {
    const cur = await owned(ctx, tx, b.name);
    if (cur.transfer !== null) throw new TxFailure('NAME_TRANSFER_PENDING');
    const to = addressFromPublicKey(b.toKey);
    if (to.equals(cur.owner)) throw new TxFailure('NAME_TRANSFER_TO_OWNER');
    const e: NameEntry = {
      ...cur,
      transfer: { to, toKey: b.toKey, effectiveAt: ctx.height + ctx.params.naming.transferLockup },
    };
    writeEntry(ctx, e);
    return event('name-transfer', e, [
      ['to', to],
      ['effectiveAt', BigInt(e.transfer!.effectiveAt)],
    ]);
  },
});

register<NameOnlyBody>({
  kind: NameTxKind.TransferCancel,
  name: 'name-transfer-cancel',
  decode(f) {
    fieldCount(f, 1, 'name-transfer-cancel', '[name]');
    return { name: nameField(f[0], 'name-transfer-cancel.name') };
  },
  raw: (b) => [Buffer.from(b.name, 'latin1')],
  toJSON: (b) => ({ name: b.name }),
  async run(ctx, tx, b) {
    const cur = await owned(ctx, tx, b.name);
    if (cur.transfer === null) throw new TxFailure('NAME_NO_TRANSFER');
    const e = { ...cur, transfer: null };
    writeEntry(ctx, e);
    return event('name-transfer-cancel', e);
  },
});

register<NameOnlyBody>({
  kind: NameTxKind.Release,
  name: 'name-release',
  decode(f) {
    fieldCount(f, 1, 'name-release', '[name]');
    return { name: nameField(f[0], 'name-release.name') };
  },
  raw: (b) => [Buffer.from(b.name, 'latin1')],
  toJSON: (b) => ({ name: b.name }),
  async run(ctx, tx, b) {
    const cur = await owned(ctx, tx, b.name, true);
    ctx.state.delete(nameKey(b.name));
    const rev = await ctx.state.get(reverseKey(cur.owner));
    if (rev !== undefined && Buffer.from(rev).toString('latin1') === b.name)
      ctx.state.delete(reverseKey(cur.owner));
    return event('name-release', cur);
  },
});

// ---- payload builders (CLI, tests) ----

export const namePayload = {
  commit: (hash: Uint8Array): TxPayload => modulePayload(NameTxKind.Commit, { hash } satisfies CommitBody),
  reveal: (name: string, salt: Uint8Array): TxPayload =>
    modulePayload(NameTxKind.Reveal, { name, salt } satisfies RevealBody),
  update: (name: string, records: NameRecords): TxPayload =>
    modulePayload(NameTxKind.Update, { name, records } satisfies UpdateBody),
  renew: (name: string): TxPayload => modulePayload(NameTxKind.Renew, { name } satisfies NameOnlyBody),
  transfer: (name: string, toKey: Uint8Array): TxPayload =>
    modulePayload(NameTxKind.Transfer, { name, toKey } satisfies TransferBody),
  cancelTransfer: (name: string): TxPayload =>
    modulePayload(NameTxKind.TransferCancel, { name } satisfies NameOnlyBody),
  release: (name: string): TxPayload => modulePayload(NameTxKind.Release, { name } satisfies NameOnlyBody),
};

/** Importing this module registers the kinds; the node and tools import it for that. */
export const NAMING_REGISTERED = true;
