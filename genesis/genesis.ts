/**
 * Genesis file (JSON): parse, validate with clear errors, canonical hash, devnet generator.
 * Amounts are decimal strings, keys 0x-hex, times ISO-8601 or Unix ms.
 */
import { readFile } from 'node:fs/promises';
import { Address, addressFromPublicKey } from '../chain/address.js';
import { MAX_BLOCK_BYTES } from '../chain/block.js';
import { budgetProblem } from '../chain/budget.js';
import { sha256 } from '../chain/hash.js';
import type { PrivateKey } from '../chain/keys.js';
import {
  type ChainParams,
  type ControlParams,
  DEFAULT_CONTROL_PARAMS,
  DEFAULT_NAMING_PARAMS,
  DEFAULT_PARAMS,
  DEFAULT_STORAGE_PARAMS,
  type GenesisState,
  type NamingParams,
  type StorageParams,
} from '../chain/ledger/params.js';
import { CHAIN_ID_RE } from '../chain/signing.js';
import { MAX_VALIDATORS } from '../chain/validators.js';
import { NameError, normalizeName } from '../services/naming/name.js';
import { MAX_SHARDS } from '../services/storage/limits.js';
import { fromHex, toHex, utf8 } from '../util/bytes.js';
import { VosError } from '../util/errors.js';

export interface GenesisJSON {
  chainId: string;
  genesisTime: string;
  params: Record<Exclude<keyof ChainParams, 'naming' | 'storage' | 'control'>, string | number> & {
    naming: NamingJSON;
    storage: StorageParams;
    control?: ControlJSON;
  };
  accounts: { address: string; balance: string }[];
  validators: { name?: string; address: string; publicKey: string; stake: string }[];
}

export type ControlJSON = Omit<ControlParams, 'receiptMinBalance'> & { receiptMinBalance: string };

export interface NamingJSON {
  commitMinAge: number;
  commitMaxAge: number;
  registrationPeriod: number;
  gracePeriod: number;
  transferLockup: number;
  pricesByLength: string[];
  reserved: string[];
}

export class GenesisError extends VosError<{ code: 'INVALID_GENESIS'; field: string }> {
  constructor(field: string, message: string) {
    super({ code: 'INVALID_GENESIS', field }, `invalid genesis: ${field}: ${message}`);
  }
}

const DEC_RE = /^(0|[1-9][0-9]{0,77})$/;

function amount(v: unknown, field: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string' || !DEC_RE.test(v)) throw new GenesisError(field, 'expected a decimal string');
  const n = BigInt(v);
  if (n >= 1n << 256n) throw new GenesisError(field, 'too large');
  return n;
}

function int(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new GenesisError(field, `expected an integer in [${min}, ${max}]`);
  }
  return n;
}

export function parseGenesis(json: unknown): GenesisState {
  if (typeof json !== 'object' || json === null) throw new GenesisError('$', 'expected an object');
  const g = json as Partial<GenesisJSON>;
  if (typeof g.chainId !== 'string' || !CHAIN_ID_RE.test(g.chainId)) {
    throw new GenesisError('chainId', 'expected 1-50 chars of [a-z0-9-]');
  }
  const genesisTime = typeof g.genesisTime === 'number' ? g.genesisTime : Date.parse(String(g.genesisTime));
  if (!Number.isSafeInteger(genesisTime) || genesisTime <= 0)
    throw new GenesisError('genesisTime', 'expected an ISO date');
  const p = (g.params ?? {}) as Record<string, unknown>;
  const d = DEFAULT_PARAMS;
  const params: ChainParams = {
    minGasPrice: p.minGasPrice === undefined ? d.minGasPrice : amount(p.minGasPrice, 'params.minGasPrice'),
    maxBlockGas: p.maxBlockGas === undefined ? d.maxBlockGas : amount(p.maxBlockGas, 'params.maxBlockGas'),
    maxBlockBytes:
      p.maxBlockBytes === undefined
        ? d.maxBlockBytes
        : int(p.maxBlockBytes, 'params.maxBlockBytes', 1024, MAX_BLOCK_BYTES),
    epochLength: p.epochLength === undefined ? d.epochLength : int(p.epochLength, 'params.epochLength', 1),
    unbondingPeriod:
      p.unbondingPeriod === undefined
        ? d.unbondingPeriod
        : int(p.unbondingPeriod, 'params.unbondingPeriod', 1),
    minValidatorStake:
      p.minValidatorStake === undefined
        ? d.minValidatorStake
        : amount(p.minValidatorStake, 'params.minValidatorStake'),
    maxValidators:
      p.maxValidators === undefined
        ? d.maxValidators
        : int(p.maxValidators, 'params.maxValidators', 1, MAX_VALIDATORS),
    slashFractionPpm:
      p.slashFractionPpm === undefined
        ? d.slashFractionPpm
        : int(p.slashFractionPpm, 'params.slashFractionPpm', 0, 1_000_000),
    naming: parseNaming(p.naming),
    storage: parseStorage(p.storage),
    control: parseControl(p.control),
  };
  if (params.unbondingPeriod <= params.epochLength) {
    throw new GenesisError(
      'params.unbondingPeriod',
      'must exceed params.epochLength (unbonding stake must stay slashable for the evidence window)',
    );
  }
  // A block the params allow must fit the network's frames (chain/budget.ts).
  const problem = budgetProblem(params);
  if (problem !== null) throw new GenesisError(problem.field, problem.message);
  if (!Array.isArray(g.accounts)) throw new GenesisError('accounts', 'expected an array');
  if (!Array.isArray(g.validators) || g.validators.length === 0) {
    throw new GenesisError('validators', 'expected at least one validator');
  }
  const seen = new Set<string>();
  const accounts = g.accounts.map((a, i) => {
    let address: Address;
    try {
      address = Address.fromString(a?.address);
    } catch {
      throw new GenesisError(`accounts[${i}].address`, 'invalid address');
    }
    if (seen.has(address.toString())) throw new GenesisError(`accounts[${i}].address`, 'duplicate account');
    seen.add(address.toString());
    return { address, balance: amount(a.balance, `accounts[${i}].balance`) };
  });
  const seenVal = new Set<string>();
  const validators = g.validators.map((v, i) => {
    let publicKey: Uint8Array;
    try {
      publicKey = fromHex(v?.publicKey, 32);
    } catch {
      throw new GenesisError(`validators[${i}].publicKey`, 'expected 32 bytes of 0x-hex');
    }
    const addr = addressFromPublicKey(publicKey).toString();
    if (v.address !== undefined && v.address !== addr) {
      throw new GenesisError(`validators[${i}].address`, 'does not match the public key');
    }
    if (seenVal.has(addr)) throw new GenesisError(`validators[${i}]`, 'duplicate validator');
    seenVal.add(addr);
    const stake = amount(v.stake, `validators[${i}].stake`);
    if (stake < params.minValidatorStake)
      throw new GenesisError(`validators[${i}].stake`, 'below params.minValidatorStake');
    return { publicKey, stake, name: v.name };
  });
  if (validators.length > params.maxValidators)
    throw new GenesisError('validators', 'more than params.maxValidators');
  return { chainId: g.chainId, genesisTime, params, accounts, validators };
}

function parseNaming(v: unknown): NamingParams {
  if (v === undefined) return DEFAULT_NAMING_PARAMS;
  if (typeof v !== 'object' || v === null) throw new GenesisError('params.naming', 'expected an object');
  const n = v as Record<string, unknown>;
  const d = DEFAULT_NAMING_PARAMS;
  const known = new Set(Object.keys(d));
  for (const k of Object.keys(n))
    if (!known.has(k)) throw new GenesisError(`params.naming.${k}`, 'unknown key');
  const num = (k: keyof NamingParams, min: number) =>
    n[k] === undefined ? (d[k] as number) : int(n[k], `params.naming.${k}`, min);
  const out: NamingParams = {
    commitMinAge: num('commitMinAge', 1),
    commitMaxAge: num('commitMaxAge', 1),
    registrationPeriod: num('registrationPeriod', 1),
    gracePeriod: num('gracePeriod', 0),
    transferLockup: num('transferLockup', 0),
    pricesByLength: d.pricesByLength,
    reserved: d.reserved,
  };
  if (out.commitMaxAge < out.commitMinAge)
    throw new GenesisError('params.naming.commitMaxAge', 'must be >= commitMinAge');
  if (n.pricesByLength !== undefined) {
    if (!Array.isArray(n.pricesByLength) || n.pricesByLength.length === 0 || n.pricesByLength.length > 61)
      throw new GenesisError('params.naming.pricesByLength', 'expected 1-61 decimal strings');
    out.pricesByLength = n.pricesByLength.map((x, i) => amount(x, `params.naming.pricesByLength[${i}]`));
    for (let i = 1; i < out.pricesByLength.length; i++)
      if (out.pricesByLength[i] > out.pricesByLength[i - 1])
        throw new GenesisError('params.naming.pricesByLength', 'prices must not increase with the length');
  }
  if (n.reserved !== undefined) {
    if (!Array.isArray(n.reserved)) throw new GenesisError('params.naming.reserved', 'expected an array');
    out.reserved = n.reserved.map((r, i) => {
      try {
        const c = normalizeName(String(r));
        if (c !== r) throw new GenesisError(`params.naming.reserved[${i}]`, `not canonical (use "${c}")`);
        return c;
      } catch (err) {
        if (err instanceof NameError) throw new GenesisError(`params.naming.reserved[${i}]`, err.message);
        throw err;
      }
    });
  }
  return out;
}

function parseStorage(v: unknown): StorageParams {
  if (v === undefined) return DEFAULT_STORAGE_PARAMS;
  if (typeof v !== 'object' || v === null) throw new GenesisError('params.storage', 'expected an object');
  const n = v as Record<string, unknown>;
  const d = DEFAULT_STORAGE_PARAMS;
  for (const k of Object.keys(n)) if (!(k in d)) throw new GenesisError(`params.storage.${k}`, 'unknown key');
  const num = (k: keyof StorageParams, min: number, max?: number) =>
    n[k] === undefined ? d[k] : int(n[k], `params.storage.${k}`, min, max);
  const out: StorageParams = {
    dataShards: num('dataShards', 1, MAX_SHARDS - 1),
    parityShards: num('parityShards', 1, MAX_SHARDS - 1),
    auditInterval: num('auditInterval', 2),
    baseQuota: num('baseQuota', 0),
    minCapacity: num('minCapacity', 1),
  };
  if (out.dataShards + out.parityShards > MAX_SHARDS)
    throw new GenesisError(
      'params.storage.parityShards',
      `dataShards + parityShards must be <= ${MAX_SHARDS}`,
    );
  return out;
}

function parseControl(v: unknown): ControlParams {
  if (v === undefined) return DEFAULT_CONTROL_PARAMS;
  if (typeof v !== 'object' || v === null) throw new GenesisError('params.control', 'expected an object');
  const n = v as Record<string, unknown>;
  const d = DEFAULT_CONTROL_PARAMS;
  for (const k of Object.keys(n)) if (!(k in d)) throw new GenesisError(`params.control.${k}`, 'unknown key');
  const num = (k: Exclude<keyof ControlParams, 'receiptMinBalance'>, min: number, max?: number) =>
    n[k] === undefined ? d[k] : int(n[k], `params.control.${k}`, min, max);
  const out: ControlParams = {
    minThreshold: num('minThreshold', 1, 2 ** 50),
    maxThreshold: num('maxThreshold', 1, 2 ** 50),
    storageKPpm: num('storageKPpm', 0, 1_000_000_000),
    mailboxBaseMessages: num('mailboxBaseMessages', 0),
    mailboxMessagesKPpm: num('mailboxMessagesKPpm', 0, 1_000_000_000),
    mailboxBaseBytes: num('mailboxBaseBytes', 0),
    mailboxBytesKPpm: num('mailboxBytesKPpm', 0, 1_000_000_000),
    appGasBase: num('appGasBase', 0),
    appGasKPpm: num('appGasKPpm', 0, 1_000_000_000),
    receiptMinBalance:
      n.receiptMinBalance === undefined
        ? d.receiptMinBalance
        : amount(n.receiptMinBalance, 'params.control.receiptMinBalance'),
    maxReceiptBytes: num('maxReceiptBytes', 1, 2 ** 50),
  };
  if (out.maxThreshold < out.minThreshold)
    throw new GenesisError('params.control.maxThreshold', 'must be >= minThreshold');
  return out;
}

function namingToJSON(n: NamingParams): NamingJSON {
  return {
    commitMinAge: n.commitMinAge,
    commitMaxAge: n.commitMaxAge,
    registrationPeriod: n.registrationPeriod,
    gracePeriod: n.gracePeriod,
    transferLockup: n.transferLockup,
    pricesByLength: n.pricesByLength.map(String),
    reserved: [...n.reserved],
  };
}

export function genesisToJSON(g: GenesisState): GenesisJSON {
  const p = g.params;
  return {
    chainId: g.chainId,
    genesisTime: new Date(g.genesisTime).toISOString(),
    params: {
      minGasPrice: p.minGasPrice.toString(),
      maxBlockGas: p.maxBlockGas.toString(),
      maxBlockBytes: p.maxBlockBytes,
      epochLength: p.epochLength,
      unbondingPeriod: p.unbondingPeriod,
      minValidatorStake: p.minValidatorStake.toString(),
      maxValidators: p.maxValidators,
      slashFractionPpm: p.slashFractionPpm,
      naming: namingToJSON(p.naming),
      storage: { ...p.storage },
      control: { ...p.control, receiptMinBalance: p.control.receiptMinBalance.toString() },
    },
    accounts: g.accounts.map((a) => ({ address: a.address.toString(), balance: a.balance.toString() })),
    validators: g.validators.map((v) => ({
      ...(v.name === undefined ? {} : { name: v.name }),
      address: addressFromPublicKey(v.publicKey).toString(),
      publicKey: toHex(v.publicKey),
      stake: v.stake.toString(),
    })),
  };
}

/** Hash of the canonical JSON (stable key order from genesisToJSON): identifies the chain's genesis. */
export function genesisHash(g: GenesisState): Uint8Array {
  return sha256(utf8(JSON.stringify(genesisToJSON(g))));
}

export async function loadGenesisFile(file: string): Promise<GenesisState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new VosError(
      { code: 'GENESIS_NOT_FOUND', file },
      `cannot read genesis file ${file}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GenesisError('$', `not valid JSON (${(err as Error).message})`);
  }
  return parseGenesis(json);
}

export interface DevGenesisOptions {
  chainId?: string;
  genesisTime?: number;
  /** Balance of each validator's own account. */
  balance?: bigint;
  stake?: bigint;
  extraAccounts?: { address: Address; balance: bigint }[];
  params?: Partial<ChainParams>;
}

/** A genesis where each key is a funded validator (devnets, tests). */
export function createDevGenesis(keys: PrivateKey[], opts: DevGenesisOptions = {}): GenesisState {
  const params = { ...DEFAULT_PARAMS, ...opts.params };
  const stake = opts.stake ?? 10n * params.minValidatorStake;
  return {
    chainId: opts.chainId ?? 'vos-devnet',
    genesisTime: opts.genesisTime ?? Date.now(),
    params,
    accounts: [
      ...keys.map((k) => ({ address: k.address, balance: opts.balance ?? 1_000_000_000_000_000n })),
      ...(opts.extraAccounts ?? []),
    ],
    validators: keys.map((k, i) => ({ publicKey: k.publicKey, stake, name: `node${i}` })),
  };
}
