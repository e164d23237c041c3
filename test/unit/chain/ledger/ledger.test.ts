import { afterEach, describe, expect, it } from '@jest/globals';
import { Block } from '../../../../chain/block.js';
import { Header } from '../../../../chain/header.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { BlockError } from '../../../../chain/ledger/ledger.js';
import { ReceiptStatus } from '../../../../chain/receipt.js';
import { KEY_FORMAT } from '../../../../chain/store/layout.js';
import { Tx, TxKind } from '../../../../chain/tx/index.js';
import { equalBytes } from '../../../../util/bytes.js';
import { openTestChain, produceBlock, signCommit, type TestChain } from '../../../helpers/chain.js';

const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(1));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(2));

function transfer(
  from: PrivateKey,
  nonce: bigint,
  amount: bigint,
  opts: { chainId?: string; gasPrice?: bigint } = {},
) {
  return Tx.sign(
    {
      chainId: opts.chainId ?? 'vos-test',
      nonce,
      kind: TxKind.Transfer,
      payload: { kind: TxKind.Transfer, body: { to: bob.address, amount } },
      gasLimit: 100_000n,
      gasPrice: opts.gasPrice ?? 1n,
    },
    from,
  );
}

let chain: TestChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

describe('ledger', () => {
  it('builds, validates and commits blocks; fees go to the proposer; supply is conserved', async () => {
    chain = await openTestChain([alice]);
    const l = chain.ledger;
    const before = (await l.getAccount(alice.address)).balance;
    const b1 = await produceBlock(chain, [transfer(alice, 0n, 500n), transfer(alice, 1n, 700n)], null);
    expect(b1.block.txs.length).toBe(2);
    expect(b1.execution.receipts.every((r) => r.status === ReceiptStatus.Ok)).toBe(true);
    expect((await l.getAccount(bob.address)).balance).toBe(1200n);
    // alice is the proposer: she pays the fees to herself, so she is only down the amounts
    expect((await l.getAccount(alice.address)).balance).toBe(before - 1200n);
    expect((await l.getAccount(alice.address)).nonce).toBe(2n);
    expect(l.head.height).toBe(1);
    const b2 = await produceBlock(chain, [], b1.commit);
    expect(b2.block.header.time).toBe(b1.block.header.time + 1000);
    expect(equalBytes(b2.block.header.prevHash, b1.block.hash())).toBe(true);
    expect((await l.store.getTxLocation(b1.block.txs[1].hash()))?.index).toBe(1);
  });

  it('drops invalid txs when building and rejects a block that contains one', async () => {
    chain = await openTestChain([alice]);
    const l = chain.ledger;
    const good = transfer(alice, 0n, 1n);
    const replay = transfer(alice, 0n, 2n);
    const wrongChain = transfer(alice, 1n, 1n, { chainId: 'other' });
    const { block, dropped } = await produceBlock(chain, [good, replay, wrongChain], null);
    expect(block.txs.length).toBe(1);
    expect(dropped.map((d) => (d.error as { code: string }).code).sort()).toEqual([
      'TX_NONCE_TOO_LOW',
      'TX_WRONG_CHAIN',
    ]);
    // hand-craft a block at height 2 that includes the replayed tx: rejected, head unchanged
    const head = l.head;
    const time = await l.nextBlockTime((await l.store.getCommit(1)) ?? null);
    const built = await l.buildBlock({
      time,
      proposer: alice.address,
      lastCommit: (await l.store.getCommit(1))!,
      candidates: [],
    });
    const h = built.block.header;
    const bad = new Block(new Header({ ...h }), [replay], built.block.lastCommit, []);
    await expect(l.executeBlock(bad)).rejects.toBeInstanceOf(BlockError);
    expect(l.head).toEqual(head);
  });

  it('a failed transfer pays the fee, bumps the nonce and changes nothing else', async () => {
    chain = await openTestChain([alice], { extraAccounts: [{ address: bob.address, balance: 1_000_000n }] });
    const l = chain.ledger;
    const tx = Tx.sign(
      {
        chainId: 'vos-test',
        nonce: 0n,
        kind: TxKind.Transfer,
        payload: { kind: TxKind.Transfer, body: { to: alice.address, amount: 10_000_000n } },
        gasLimit: 100_000n,
        gasPrice: 1n,
      },
      bob,
    );
    const { execution } = await produceBlock(chain, [tx], null);
    expect(execution.receipts[0].status).toBe(ReceiptStatus.Failed);
    expect(execution.receipts[0].error).toBe('INSUFFICIENT_BALANCE');
    const acct = await l.getAccount(bob.address);
    expect(acct.nonce).toBe(1n);
    expect(acct.balance).toBe(1_000_000n - execution.receipts[0].gasUsed);
  });

  it('restart keeps head and state root and keeps producing', async () => {
    chain = await openTestChain([alice]);
    let last = null;
    for (let i = 0; i < 3; i++)
      last = (await produceBlock(chain, [transfer(alice, BigInt(i), 5n)], last)).commit;
    const head = chain.ledger.head;
    chain = await chain.reopen();
    expect(chain.ledger.head).toEqual(head);
    expect((await chain.ledger.getAccount(bob.address)).balance).toBe(15n);
    const next = await produceBlock(
      chain,
      [transfer(alice, 3n, 5n)],
      (await chain.ledger.store.getCommit(3)) ?? null,
    );
    expect(next.block.height).toBe(4);
  });

  it('stake and unstake change the validator set at the epoch boundary (effective H+2)', async () => {
    chain = await openTestChain([alice], {
      params: { epochLength: 2, unbondingPeriod: 3, minValidatorStake: 100n },
      extraAccounts: [{ address: bob.address, balance: 10_000_000n }],
    });
    const l = chain.ledger;
    const stake = Tx.sign(
      {
        chainId: 'vos-test',
        nonce: 0n,
        kind: TxKind.Stake,
        payload: { kind: TxKind.Stake, body: { amount: 1000n } },
        gasLimit: 100_000n,
        gasPrice: 1n,
      },
      bob,
    );
    let c = (await produceBlock(chain, [stake], null)).commit; // h1
    expect((await l.validatorsAt(3)).length).toBe(1);
    c = (await produceBlock(chain, [], c)).commit; // h2: epoch end -> set for h4
    expect((await l.validatorsAt(3)).length).toBe(1);
    const v4 = await l.validatorsAt(4);
    expect(v4.map((v) => v.address.toString()).sort()).toEqual(
      [alice.address.toString(), bob.address.toString()].sort(),
    );
    void c;
  });
});

describe('DB format', () => {
  it('refuses chain data written by another format, saying what to do', async () => {
    chain = await openTestChain([alice]);
    await produceBlock(chain, [], null);
    await chain.db.del(KEY_FORMAT);
    await expect(chain.reopen()).rejects.toThrow(/older VOS.*move the node's data directory away/);
    chain = undefined;
  });
});

describe('deferred block writes (block sync)', () => {
  it('reads through the store wait for writes that were issued and not awaited', async () => {
    chain = await openTestChain([alice]);
    const first = await produceBlock(chain, [], null);
    const time = await chain.ledger.nextBlockTime(first.commit);
    const { block } = await chain.ledger.buildBlock({
      time,
      proposer: chain.keys[0].address,
      lastCommit: first.commit,
      candidates: [transfer(alice, 0n, 5n)],
    });
    const execution = await chain.ledger.executeBlock(block);
    const commit = await signCommit(chain, block, time + 1000);
    await chain.ledger.commitBlock(block, commit, execution, { deferWrite: true });
    expect(chain.ledger.head.height).toBe(2);
    // Issued right after the deferred commit: must see block 2, its commit and its tx index.
    const [bytes, storedCommit, loc] = await Promise.all([
      chain.ledger.store.getBlockBytes(2),
      chain.ledger.store.getCommit(2),
      chain.ledger.store.getTxLocation(block.txs[0].hash()),
    ]);
    expect(bytes !== undefined && equalBytes(bytes, block.serialize())).toBe(true);
    expect(storedCommit?.height).toBe(2);
    expect(loc).toEqual({ height: 2, index: 0 });
    expect((await chain.ledger.store.getHead())?.height).toBe(2);
    expect(chain.ledger.store.pendingWrites).toBe(0);
  });
});
