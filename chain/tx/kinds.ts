/**
 * Transaction kinds and their payloads (RLP). The core kinds are here; a service module (services/)
 * registers its kinds with registerTxKind() when it is imported, with its payload codec and its
 * state-transition handler (chain cannot import services; the node imports every module).
 */
import { ADDRESS_LENGTH, type Address, internAddress } from '../address.js';
import {
  asBigint,
  asBytes,
  asList,
  CodecError,
  decodeRlp,
  encodeRlp,
  type RlpInput,
  type RlpItem,
  U256_MAX,
} from '../codec.js';

export enum TxKind {
  Transfer = 1,
  Stake = 2,
  Unstake = 3,
}

const CORE_NAMES: Record<TxKind, string> = {
  [TxKind.Transfer]: 'transfer',
  [TxKind.Stake]: 'stake',
  [TxKind.Unstake]: 'unstake',
};

/**
 * A module's tx kind. `execute` is the kind-specific state transition (fee and nonce are handled by
 * the ledger); it throws TxFailure (chain/ledger/failure.ts) for a failed receipt.
 */
export interface TxKindModule<B = unknown> {
  kind: number;
  name: string;
  /** Decode and validate the payload's fields (canonical; throw CodecError). */
  decode(fields: RlpItem[]): B;
  encode(body: B): Uint8Array;
  toJSON(body: B): Record<string, unknown>;
  /** Gas charged beyond the intrinsic gas: fixed per kind, or from the payload (an app call's budget). */
  gas: bigint | ((body: B) => bigint);
  // biome-ignore lint/suspicious/noExplicitAny: the ledger's context type lives above this file.
  execute(ctx: any, tx: any, body: B): Promise<import('../receipt.js').TxEvent[]>;
}

const MODULES = new Map<number, TxKindModule>();

export function registerTxKind<B>(m: TxKindModule<B>): void {
  const have = MODULES.get(m.kind);
  if (have === m) return;
  if (have !== undefined || m.kind in CORE_NAMES) throw new Error(`tx kind ${m.kind} registered twice`);
  MODULES.set(m.kind, m as TxKindModule);
}

/** A module kind whose payload is the RLP of `raw(body)`, at a fixed gas (what every service kind is). */
export function registerRlpTxKind<B>(
  gas: TxKindModule<B>['gas'],
  m: Omit<TxKindModule<B>, 'gas' | 'encode'> & { raw(b: B): RlpInput },
): void {
  registerTxKind<B>({ ...m, encode: (b) => encodeRlp(m.raw(b)), gas });
}

/** A payload list of exactly `n` fields, else INVALID_FIELD naming the kind. */
export function expectFields(f: RlpItem[], n: number, kind: string): void {
  if (f.length !== n) throw new CodecError('INVALID_FIELD', 'tx.payload', `${kind} takes ${n} fields`);
}

export function txKindModule(kind: number): TxKindModule | undefined {
  return MODULES.get(kind);
}

export function isTxKind(n: number): boolean {
  return n in CORE_NAMES || MODULES.has(n);
}

export function txKindName(kind: number): string {
  return CORE_NAMES[kind as TxKind] ?? MODULES.get(kind)?.name ?? `kind-${kind}`;
}

/** A module kind's decoded payload. */
export interface ModulePayload {
  kind: 'module';
  id: number;
  body: unknown;
}

export interface TransferPayload {
  to: Address;
  amount: bigint;
}

export interface AmountPayload {
  amount: bigint;
}

export type TxPayload =
  | { kind: TxKind.Transfer; body: TransferPayload }
  | { kind: TxKind.Stake; body: AmountPayload }
  | { kind: TxKind.Unstake; body: AmountPayload }
  | ModulePayload;

/** The tx kind of a payload. */
export function payloadKind(p: TxPayload): number {
  return p.kind === 'module' ? p.id : p.kind;
}

/** The payload of a module kind, for Tx.sign. */
export function modulePayload(kind: number, body: unknown): ModulePayload {
  return { kind: 'module', id: kind, body };
}

export function encodePayload(p: TxPayload): Uint8Array {
  switch (p.kind) {
    case TxKind.Transfer:
      return encodeRlp([p.body.to.bytes, p.body.amount]);
    case TxKind.Stake:
    case TxKind.Unstake:
      return encodeRlp([p.body.amount]);
    case 'module': {
      const m = MODULES.get(p.id);
      if (m === undefined) throw new Error(`unknown tx kind ${p.id}`);
      return m.encode(p.body);
    }
  }
}

/** Decode and validate a payload for its kind (canonical, no trailing bytes). */
export function decodePayload(kind: number, bytes: Uint8Array): TxPayload {
  const f = asList(decodeRlp(bytes, 'tx.payload'), 'tx.payload');
  const m = MODULES.get(kind);
  if (m !== undefined) return { kind: 'module', id: kind, body: m.decode(f) };
  switch (kind as TxKind) {
    case TxKind.Transfer: {
      if (f.length !== 2) throw new CodecError('INVALID_FIELD', 'tx.payload', 'transfer takes [to, amount]');
      return {
        kind,
        body: {
          to: internAddress(asBytes(f[0], 'transfer.to', ADDRESS_LENGTH)),
          amount: asBigint(f[1], 'transfer.amount', U256_MAX),
        },
      };
    }
    case TxKind.Stake:
    case TxKind.Unstake: {
      if (f.length !== 1)
        throw new CodecError('INVALID_FIELD', 'tx.payload', `${txKindName(kind)} takes [amount]`);
      return {
        kind: kind as TxKind.Stake,
        body: { amount: asBigint(f[0], `${txKindName(kind)}.amount`, U256_MAX) },
      };
    }
  }
  throw new CodecError('INVALID_FIELD', 'tx.kind', `unknown tx kind ${kind}`);
}

export function payloadToJSON(p: TxPayload): Record<string, unknown> {
  switch (p.kind) {
    case TxKind.Transfer:
      return { to: p.body.to.toString(), amount: p.body.amount.toString() };
    case TxKind.Stake:
    case TxKind.Unstake:
      return { amount: p.body.amount.toString() };
    case 'module':
      return MODULES.get(p.id)?.toJSON(p.body) ?? {};
  }
}
