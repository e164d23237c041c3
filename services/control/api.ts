/** The control module's RPC answers (control_getParams, control_getNode), read from committed state. */
import { Address } from '../../chain/address.js';
import type { ChainParams } from '../../chain/ledger/params.js';
import { ownerUsage } from '../storage/prov.js';
import { boostFactor, quota } from './formula.js';
import { accKey, decodeAccrual, epochOf } from './layout.js';
import { lastEpoch, ownerOf, type Resource, resourceTerms, standing, thresholdOf } from './state.js';

export interface ControlApiDeps {
  /** Committed state. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  params: ChainParams;
  headHeight(): number;
}

const FORMULA = {
  contribution: 'C = (storage proven + bytes served) x uptimePpm / 10^6, per epoch',
  threshold: 'T = lower median of the epoch’s non-zero C, clamped to [minThreshold, maxThreshold]',
  quota: 'quota = base + kPpm x min(C, T) / 10^6',
  boost: 'boost = log2(1 + max(0, C - T) / T); search score = relevance x (1 + boost)',
  votingPower: 'power = stake x (1 + min(1, C / T)), at each epoch end, effective at H + 2',
};

const RESOURCES: Resource[] = ['storage', 'mailboxMessages', 'mailboxBytes', 'appGas'];

const safe = (n: bigint): number =>
  n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);

export async function controlParams(d: ControlApiDeps) {
  const ep = await lastEpoch(d);
  const c = d.params.control;
  const L = d.params.epochLength;
  const head = d.headHeight();
  return {
    epoch: ep?.epoch ?? 0,
    threshold: thresholdOf(ep, c).toString(),
    active: ep?.active ?? 0,
    total: (ep?.total ?? 0n).toString(),
    epochLength: L,
    nextEpochEnd: epochOf(head + 1, L) * L,
    formula: FORMULA,
    params: {
      minThreshold: c.minThreshold,
      maxThreshold: c.maxThreshold,
      storageBase: d.params.storage.baseQuota,
      storageKPpm: c.storageKPpm,
      mailboxBaseMessages: c.mailboxBaseMessages,
      mailboxMessagesKPpm: c.mailboxMessagesKPpm,
      mailboxBaseBytes: c.mailboxBaseBytes,
      mailboxBytesKPpm: c.mailboxBytesKPpm,
      appGasBase: c.appGasBase,
      appGasKPpm: c.appGasKPpm,
      receiptMinBalance: c.receiptMinBalance.toString(),
      maxReceiptBytes: c.maxReceiptBytes,
    },
  };
}

/** Every quota of a node from its standing (what the state transition and the holders enforce). */
export async function quotasOf(d: ControlApiDeps, a: Address): Promise<Record<Resource, number>> {
  const s = await standing(d, d.params.control, a);
  const out = {} as Record<Resource, number>;
  for (const r of RESOURCES) {
    const { base, kPpm } = resourceTerms(d.params, r);
    out[r] = safe(quota(base, kPpm, s.contribution, s.threshold));
  }
  return out;
}

export async function controlNode(d: ControlApiDeps, address: string) {
  const a = Address.fromString(address);
  const s = await standing(d, d.params.control, a);
  const quotas = await quotasOf(d, a);
  const current = epochOf(d.headHeight() + 1, d.params.epochLength);
  const acc = await d.get(accKey(a));
  const stored = acc === undefined ? undefined : decodeAccrual(acc);
  const pending = stored?.epoch === current ? stored : { storage: 0n, served: 0n };
  return {
    address: a.toString(),
    epoch: s.epoch,
    contribution: s.contribution.toString(),
    threshold: s.threshold.toString(),
    quota: quotas.storage,
    used: await ownerUsage(d, a),
    boost: boostFactor(s.boostPpm) - 1,
    parts: {
      storage: (s.record?.storage ?? 0n).toString(),
      served: (s.record?.served ?? 0n).toString(),
      uptimePpm: Number(s.record?.uptimePpm ?? 0n),
    },
    quotas,
    pending: {
      epoch: current,
      storage: pending.storage.toString(),
      served: pending.served.toString(),
    },
    owner: (await ownerOf(d, a)).toString(),
  };
}
