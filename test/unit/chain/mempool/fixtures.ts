/** Shared by the mempool tests: funded keys, signed txs, an account view the test can move, a clock. */
import type { Address } from '../../../../chain/address.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { Mempool, type MempoolLimits } from '../../../../chain/mempool/mempool.js';
import { Tx, TxKind } from '../../../../chain/tx/index.js';

export const keys = Array.from({ length: 8 }, (_, i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i + 1)));
const recipient = PrivateKey.fromSeed(new Uint8Array(32).fill(99)).address;

export function accounts(init: [PrivateKey, bigint, bigint?][]) {
  const map = new Map(
    init.map(([k, balance, nonce]) => [k.address.toString(), { nonce: nonce ?? 0n, balance }]),
  );
  return {
    map,
    set(k: PrivateKey, v: { nonce: bigint; balance: bigint }) {
      map.set(k.address.toString(), v);
    },
    async getAccount(addr: Address) {
      return map.get(addr.toString()) ?? { nonce: 0n, balance: 0n };
    },
  };
}

export type Accounts = ReturnType<typeof accounts>;

/** size 'small' = a stake tx, 'big' = a transfer with a 26-byte amount; 'normal' = a small transfer. */
export function mk(
  from: PrivateKey,
  nonce: bigint,
  opts: { gasPrice?: bigint; amount?: bigint; size?: 'small' | 'normal' | 'big' } = {},
): Tx {
  const size = opts.size ?? 'normal';
  const amount = opts.amount ?? (size === 'big' ? (1n << 200n) + nonce : 1n);
  return Tx.sign(
    {
      chainId: 'vos-test',
      nonce,
      kind: size === 'small' ? TxKind.Stake : TxKind.Transfer,
      payload:
        size === 'small'
          ? { kind: TxKind.Stake, body: { amount } }
          : { kind: TxKind.Transfer, body: { to: recipient, amount } },
      gasLimit: 60_000n,
      gasPrice: opts.gasPrice ?? 1n,
    },
    from,
  );
}

export function clock(start = 1_000_000) {
  const c = {
    t: start,
    now: () => c.t,
    advance(ms: number) {
      c.t += ms;
    },
  };
  return c;
}

export function mempool(
  limits: Partial<MempoolLimits> = {},
  accts: Accounts = accounts(keys.map((k) => [k, 1n << 210n])),
  now?: () => number,
): Mempool {
  return new Mempool({
    chainId: 'vos-test',
    minGasPrice: 1n,
    maxBlockGas: 10_000_000n,
    accounts: accts,
    verifier: null,
    limits,
    now,
  });
}

/** "a0", "b2": sender letter (index in keys) and nonce. */
export function label(tx: Tx): string {
  const i = keys.findIndex((k) => k.address.equals(tx.sender));
  return `${'abcdefgh'[i]}${tx.nonce}`;
}

/** Every pending tx as labels, sorted. */
export function contents(m: Mempool): string[] {
  return keys.flatMap((k) => m.pendingFor(k.address).map(label)).sort();
}

export function sumBytes(m: Mempool): number {
  return keys.flatMap((k) => m.pendingFor(k.address)).reduce((s, t) => s + t.size, 0);
}
