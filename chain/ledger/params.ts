/** Chain parameters (from genesis; consensus rules) and the initial state the ledger is built from. */
import type { Address } from '../address.js';

export interface ChainParams {
  /** Gas price floor: txs paying less are refused. */
  minGasPrice: bigint;
  /** Max total gas of one block. */
  maxBlockGas: bigint;
  /** Max encoded bytes of one block (soft limit for proposers, checked by validators). */
  maxBlockBytes: number;
  /** Blocks per epoch: validator-set changes are computed at the last block of an epoch, effective H+2. */
  epochLength: number;
  /**
   * Blocks until unstaked tokens return to the balance. Unbonding stake stays slashable until then;
   * must exceed epochLength (see maxEvidenceAge).
   */
  unbondingPeriod: number;
  minValidatorStake: bigint;
  maxValidators: number;
  /** Stake slashed for a double sign, in parts per million. */
  slashFractionPpm: number;
  /** The naming service's rules (services/naming). */
  naming: NamingParams;
  /** The distributed storage rules (services/storage). */
  storage: StorageParams;
  /** The control module's rules (services/control): threshold, quotas, receipts. */
  control: ControlParams;
}

/**
 * Contribution C is counted in bytes (bytes of shards proven by audits + bytes served, attested by
 * the counterparty), times the validator's precommit participation. Threshold T = the lower median of
 * the epoch's non-zero contributions, clamped to [minThreshold, maxThreshold]. A quota of a resource
 * = base + kPpm x min(C, T) / 10^6; boost = log2(1 + max(0, C - T) / T).
 */
export interface ControlParams {
  minThreshold: number;
  maxThreshold: number;
  /** Storage and publish bytes: base = storage.baseQuota. */
  storageKPpm: number;
  mailboxBaseMessages: number;
  mailboxMessagesKPpm: number;
  mailboxBaseBytes: number;
  mailboxBytesKPpm: number;
  /** Off-chain app gas per epoch (the VM charges hosted calls to it). */
  appGasBase: number;
  appGasKPpm: number;
  /** A served-bytes receipt counts only if its signer's balance is at least this (Sybil cost). */
  receiptMinBalance: bigint;
  /** The most bytes one client may attest per epoch, over all the servers it signs receipts for. */
  maxReceiptBytes: number;
}

export const DEFAULT_CONTROL_PARAMS: ControlParams = {
  minThreshold: 64 * 1024 * 1024,
  maxThreshold: 2 ** 40,
  storageKPpm: 1_000_000,
  mailboxBaseMessages: 200,
  mailboxMessagesKPpm: 1,
  mailboxBaseBytes: 4 * 1024 * 1024,
  mailboxBytesKPpm: 1_000,
  appGasBase: 100_000_000,
  appGasKPpm: 100_000,
  receiptMinBalance: 1_000_000n,
  maxReceiptBytes: 1024 ** 3,
};

export interface StorageParams {
  /** Default Reed-Solomon code of an object: data shards k and parity shards m (k-of-(k+m) rebuild). */
  dataShards: number;
  parityShards: number;
  /** Blocks per audit epoch; the block hash before an epoch's first block seeds its challenges. */
  auditInterval: number;
  /** Bytes of objects an owner may keep in network storage (the control module raises it later). */
  baseQuota: number;
  /** Smallest capacity a provider may register (bytes). */
  minCapacity: number;
}

export const DEFAULT_STORAGE_PARAMS: StorageParams = {
  dataShards: 4,
  parityShards: 4,
  auditInterval: 100,
  baseQuota: 1024 * 1024 * 1024,
  minCapacity: 64 * 1024 * 1024,
};

export interface NamingParams {
  /** A reveal must come at least this many blocks after its commit (>= 1: no same-block front-run). */
  commitMinAge: number;
  /** ... and at most this many. */
  commitMaxAge: number;
  /** Blocks a registration or a renewal lasts. */
  registrationPeriod: number;
  /** Blocks after expiry during which only the owner may renew; then the name is free. */
  gracePeriod: number;
  /** Blocks between a transfer and its effect; the owner may cancel before. */
  transferLockup: number;
  /**
   * Price (burned) per registration period by name length: entry i is for length 3 + i, the last for
   * every longer name. Non-increasing.
   */
  pricesByLength: bigint[];
  /** Names nobody may register (canonical form). */
  reserved: string[];
}

export const DEFAULT_NAMING_PARAMS: NamingParams = {
  commitMinAge: 1,
  commitMaxAge: 86_400,
  registrationPeriod: 31_536_000,
  gracePeriod: 2_592_000,
  transferLockup: 86_400,
  pricesByLength: [1_000_000_000_000n, 100_000_000_000n, 10_000_000_000n, 1_000_000_000n],
  reserved: ['vos', 'www', 'localhost', 'example', 'invalid', 'test', 'node', 'root'],
};

/** The price of registering (or renewing) a name of this length for one period. */
export function namePrice(params: Pick<NamingParams, 'pricesByLength'>, length: number): bigint {
  const p = params.pricesByLength;
  return p[Math.min(Math.max(0, length - 3), p.length - 1)];
}

export interface GenesisAccount {
  address: Address;
  balance: bigint;
}

export interface GenesisValidator {
  publicKey: Uint8Array;
  stake: bigint;
  name?: string;
}

export interface GenesisState {
  chainId: string;
  /** Unix ms: the time of block 1 (and the earliest valid block time). */
  genesisTime: number;
  params: ChainParams;
  accounts: GenesisAccount[];
  validators: GenesisValidator[];
}

export const DEFAULT_PARAMS: ChainParams = {
  minGasPrice: 1n,
  maxBlockGas: 1_000_000_000n,
  maxBlockBytes: 8 * 1024 * 1024,
  epochLength: 100,
  unbondingPeriod: 1000,
  minValidatorStake: 1_000_000n,
  maxValidators: 100,
  slashFractionPpm: 50_000,
  naming: DEFAULT_NAMING_PARAMS,
  storage: DEFAULT_STORAGE_PARAMS,
  control: DEFAULT_CONTROL_PARAMS,
};

/**
 * The last epoch end whose validator set signs `height`: a set computed at the end of block E signs
 * heights E + 2 ... E + epochLength + 1 (0 = the genesis set). Stake unbonded after it still backed the
 * voting power of `height`, so evidence of `height` slashes it.
 */
export function powerSnapshotHeight(height: number, params: Pick<ChainParams, 'epochLength'>): number {
  if (height < 2) return 0;
  return Math.floor((height - 2) / params.epochLength) * params.epochLength;
}

/**
 * Evidence of height h may be included up to h + maxEvidenceAge. Stake unbonded after the power snapshot
 * of h (at a height >= h - epochLength) is released at >= h - epochLength + unbondingPeriod, so with this
 * age every slashable unbonding entry is still held when the evidence lands: slashing cannot be escaped.
 */
export function maxEvidenceAge(params: Pick<ChainParams, 'epochLength' | 'unbondingPeriod'>): number {
  return params.unbondingPeriod - params.epochLength;
}
