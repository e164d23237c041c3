import { afterAll, describe, expect, it } from '@jest/globals';
import type { Address } from '../../../../chain/address.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { Mempool, type MempoolLimits } from '../../../../chain/mempool/mempool.js';
import { VerifyPool } from '../../../../chain/mempool/verify-pool.js';
import { Tx, TxKind } from '../../../../chain/tx/index.js';

const [a, b, c] = [1, 2, 3].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));
const pool = new VerifyPool(2);
afterAll(() => pool.close());

function accounts(init: [PrivateKey, bigint, bigint?][]) {
  const m = new Map(
    init.map(([k, balance, nonce]) => [k.address.toString(), { nonce: nonce ?? 0n, balance }]),
  );
  return {
    map: m,
    async getAccount(addr: Address) {
      return m.get(addr.toString()) ?? { nonce: 0n, balance: 0n };
    },
  };
}

function mk(
  from: PrivateKey,
  nonce: bigint,
  opts: { amount?: bigint; gasPrice?: bigint; gasLimit?: bigint; chainId?: string } = {},
) {
  return Tx.sign(
    {
      chainId: opts.chainId ?? 'vos-test',
      nonce,
      kind: TxKind.Transfer,
      payload: { kind: TxKind.Transfer, body: { to: c.address, amount: opts.amount ?? 1n } },
      gasLimit: opts.gasLimit ?? 30_000n,
      gasPrice: opts.gasPrice ?? 1n,
    },
    from,
  );
}

function mempool(
  limits: Partial<MempoolLimits> = {},
  accts = accounts([
    [a, 10_000_000n],
    [b, 10_000_000n],
  ]),
) {
  return new Mempool({
    chainId: 'vos-test',
    minGasPrice: 1n,
    maxBlockGas: 10_000_000n,
    accounts: accts,
    verifier: pool,
    limits,
  });
}

async function rejects(m: Mempool, tx: Tx, code: string) {
  const before = { size: m.size, bytes: m.bytes };
  await expect(m.add(tx)).rejects.toMatchObject({ code });
  expect({ size: m.size, bytes: m.bytes }).toEqual(before);
}

describe('mempool admission', () => {
  it('admits a valid tx once', async () => {
    const m = mempool();
    const tx = mk(a, 0n);
    await m.add(tx);
    expect(m.size).toBe(1);
    await rejects(m, tx, 'TX_ALREADY_KNOWN');
  });
  it('rejects each invalid tx with its code and changes nothing', async () => {
    const m = mempool();
    await m.add(mk(a, 0n));
    await rejects(m, mk(a, 1n, { chainId: 'other-chain' }), 'TX_WRONG_CHAIN');
    await rejects(m, mk(a, 1n, { gasPrice: 0n }), 'TX_FEE_TOO_LOW');
    await rejects(m, mk(a, 1n, { gasLimit: 100n }), 'TX_GAS_LIMIT_TOO_LOW');
    await rejects(m, mk(a, 1n, { gasLimit: 20_000_000n }), 'TX_GAS_LIMIT_TOO_HIGH');
    await rejects(m, mk(a, 1n, { amount: (1n << 256n) - 1n }), 'TX_AMOUNT_OVERFLOW');
    await rejects(m, mk(a, 1n, { amount: 20_000_000n }), 'TX_INSUFFICIENT_BALANCE');
    await rejects(m, mk(a, 300n), 'TX_NONCE_TOO_HIGH');
    const bad = mk(a, 1n);
    const sig = Uint8Array.from(bad.signature);
    sig[5] ^= 1;
    await rejects(m, new Tx(bad, sig), 'TX_INVALID_SIGNATURE');
    const stale = mempool({}, accounts([[a, 10_000_000n, 5n]]));
    await rejects(stale, mk(a, 4n), 'TX_NONCE_TOO_LOW');
  });
  it('counts pending txs against the balance', async () => {
    const m = mempool({}, accounts([[a, 100_000n]]));
    await m.add(mk(a, 0n, { amount: 40_000n }));
    await rejects(m, mk(a, 1n, { amount: 40_000n }), 'TX_INSUFFICIENT_BALANCE');
  });
  it('replaces a pending tx only for >= 10% more gas price', async () => {
    const m = mempool();
    await m.add(mk(a, 0n, { gasPrice: 10n }));
    await rejects(m, mk(a, 0n, { gasPrice: 10n, amount: 2n }), 'TX_REPLACEMENT_UNDERPRICED');
    await m.add(mk(a, 0n, { gasPrice: 11n }));
    expect(m.size).toBe(1);
    expect(m.pendingFor(a.address)[0].gasPrice).toBe(11n);
  });
  it('evicts the cheapest tx when full, and refuses a tx that pays no more', async () => {
    const m = mempool({ maxTxs: 2, maxTxsPerSender: 2 });
    await m.add(mk(a, 0n, { gasPrice: 1n }));
    await m.add(mk(b, 0n, { gasPrice: 5n }));
    await rejects(m, mk(a, 1n, { gasPrice: 1n }), 'MEMPOOL_FULL');
    // a0 is cheaper but a1 depends on it: b0 is the victim, so a1 must pay more than b0
    await rejects(m, mk(a, 1n, { gasPrice: 3n }), 'MEMPOOL_FULL');
    await m.add(mk(a, 1n, { gasPrice: 6n }));
    expect(m.size).toBe(2);
    expect(m.reap().map((t) => t.nonce)).toEqual([0n, 1n]);
  });
});

describe('mempool ordering and updates', () => {
  it('reaps by fee across senders, by nonce within a sender, and holds gaps', async () => {
    const accts = accounts([
      [a, 10_000_000n],
      [b, 10_000_000n],
    ]);
    const m = mempool({}, accts);
    await m.addMany([
      mk(a, 0n, { gasPrice: 1n }),
      mk(a, 1n, { gasPrice: 9n }),
      mk(b, 0n, { gasPrice: 5n }),
      mk(b, 2n, { gasPrice: 50n }),
    ]);
    const order = m.reap().map((t) => `${t.sender.equals(a.address) ? 'a' : 'b'}${t.nonce}`);
    expect(order).toEqual(['b0', 'a0', 'a1']);
    expect(m.reap({ maxTxs: 1 }).length).toBe(1);
  });
  it('update removes committed txs and drops those made stale', async () => {
    const accts = accounts([[a, 10_000_000n]]);
    const m = mempool({}, accts);
    const [t0, t1, t2] = [mk(a, 0n), mk(a, 1n), mk(a, 2n)];
    await m.addMany([t0, t1, t2]);
    accts.map.set(a.address.toString(), { nonce: 2n, balance: 10_000_000n });
    await m.update([t0]);
    expect(m.has(t0.hash())).toBe(false);
    expect(m.has(t1.hash())).toBe(false); // nonce 1 was consumed by another tx
    expect(m.has(t2.hash())).toBe(true);
    expect(m.nextNonce(a.address, 2n)).toBe(3n);
  });
  it('addMany reports per-tx results', async () => {
    const m = mempool();
    const r = await m.addMany([mk(a, 0n), mk(a, 0n, { chainId: 'x' }), mk(b, 0n)]);
    expect(r.map((x) => ('hash' in x ? 'ok' : x.error.code))).toEqual(['ok', 'TX_WRONG_CHAIN', 'ok']);
  });
});

describe('verify pool', () => {
  it('agrees with the in-thread verify on valid and tampered signatures', async () => {
    const items = Array.from({ length: 200 }, (_, i) => {
      const msg = new Uint8Array([i, i + 1]);
      const sig = a.sign(msg);
      if (i % 3 === 0) sig[0] ^= 1;
      return { publicKey: a.publicKey, message: msg, signature: sig };
    });
    items.push({
      publicKey: a.publicKey.subarray(1),
      message: new Uint8Array(1),
      signature: new Uint8Array(64),
    });
    const ok = await pool.verifyBatch(items);
    expect(ok.slice(0, 200).every((v, i) => v === (i % 3 !== 0))).toBe(true);
    expect(ok[200]).toBe(false);
  });
});

describe('admission racing a commit', () => {
  it('a tx admitted while a block commits is not stranded behind a stale nonce', async () => {
    const accts = accounts([[a, 10_000_000n]]);
    const m = mempool({}, accts);
    const tx0 = mk(a, 0n);
    const tx1 = mk(a, 1n);
    await m.add(tx0);
    // The next account read blocks until released and then answers with what it read before.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const real = accts.getAccount.bind(accts);
    let first = true;
    accts.getAccount = async (addr: Address) => {
      const snapshot = { ...(await real(addr)) };
      if (first) {
        first = false;
        await gate;
      }
      return snapshot;
    };
    const adding = m.add(tx1);
    // Wait until admission is inside the account read (the first call has taken its snapshot).
    while (first) await new Promise((r) => setTimeout(r, 1));
    // A block commits tx0: state moves to nonce 1, the mempool drops tx0 (and the emptied queue).
    accts.map.set(a.address.toString(), { nonce: 1n, balance: 10_000_000n - 30_001n });
    await m.update([tx0]);
    release();
    await adding;
    expect(m.reap().map((t) => t.nonce)).toEqual([1n]);
  });
});

describe('update beyond the recheck bound', () => {
  it("moves every committed sender's queue base, even past recheckMax", async () => {
    const accts = accounts([
      [a, 10_000_000n],
      [b, 10_000_000n],
    ]);
    const m = mempool({ recheckMax: 1 }, accts);
    const [a0, a1, b0, b1] = [mk(a, 0n), mk(a, 1n), mk(b, 0n), mk(b, 1n)];
    for (const t of [a0, a1, b0, b1]) await m.add(t);
    accts.map.set(a.address.toString(), { nonce: 1n, balance: 10_000_000n });
    accts.map.set(b.address.toString(), { nonce: 1n, balance: 10_000_000n });
    await m.update([a0, b0]); // only the first sender is rechecked
    expect(
      m
        .reap()
        .map((t) => `${t.sender.toString() === a.address.toString() ? 'a' : 'b'}${t.nonce}`)
        .sort(),
    ).toEqual(['a1', 'b1']);
  });
});
