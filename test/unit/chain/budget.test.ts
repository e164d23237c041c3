/**
 * The one resource budget (chain/budget.ts): its bounds are those of the real encodings, a proposer
 * with many validators builds blocks that fit maxBlockBytes, and the genesis refuses params whose
 * blocks could not carry a full commit or be framed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Address } from '../../../chain/address.js';
import { MAX_BLOCK_BYTES } from '../../../chain/block.js';
import {
  blockOverheadBytes,
  budgetProblem,
  commitBytesBound,
  frameBudget,
  MAX_EVIDENCE_BYTES,
  MAX_FRAME_BYTES,
  MAX_HEADER_BYTES,
  MAX_PROPOSAL_BYTES,
  MAX_VOTE_BYTES,
  minBlockBytes,
  rlpPrefixLength,
  TX_BATCH_MAX_BYTES,
  TX_IN_BLOCK_OVERHEAD,
} from '../../../chain/budget.js';
import { encodeRlp } from '../../../chain/codec.js';
import { Commit, CommitFlag } from '../../../chain/commit.js';
import { DuplicateVoteEvidence } from '../../../chain/evidence.js';
import { PrivateKey } from '../../../chain/keys.js';
import { DEFAULT_PARAMS } from '../../../chain/ledger/params.js';
import { Proposal } from '../../../chain/proposal.js';
import { Tx, TxKind } from '../../../chain/tx/index.js';
import { Vote, VoteType } from '../../../chain/vote.js';
import { encodeEnvelope, Kind } from '../../../consensus/reactor.js';
import { createDevGenesis, genesisToJSON, parseGenesis } from '../../../genesis/genesis.js';
import { openTestChain, produceBlock, type TestChain } from '../../helpers/chain.js';

const MAX = Number.MAX_SAFE_INTEGER;
const hash = new Uint8Array(32).fill(0xee);
const sig = new Uint8Array(64).fill(0xdd);
const addr = new Address(new Uint8Array(20).fill(0xcc));

function maxCommit(n: number): Commit {
  return new Commit(
    MAX,
    0xffffffff,
    hash,
    Array.from({ length: n }, () => ({ flag: CommitFlag.Nil, time: MAX, signature: sig })),
  );
}

function maxVote(blockHash: Uint8Array): Vote {
  return new Vote(
    { type: VoteType.Precommit, height: MAX, round: 0xffffffff, blockHash, time: MAX, validator: addr },
    sig,
  );
}

describe('budget bounds match the real encodings', () => {
  it('RLP prefix lengths', () => {
    for (const len of [0, 1, 55, 56, 255, 256, 65_535, 65_536, 1 << 24]) {
      const enc = encodeRlp(new Uint8Array(len).fill(0x80));
      expect(rlpPrefixLength(len)).toBe(enc.length - len);
    }
  });

  it('a commit of n validators: exact for the largest fields, above any real commit', () => {
    for (const n of [0, 1, 2, 3, 4, 100, 1000, 10_000])
      expect(commitBytesBound(n)).toBe(maxCommit(n).serialize().length);
    const real = new Commit(
      12,
      0,
      hash,
      Array.from({ length: 4 }, (_, i) =>
        i === 2
          ? { flag: CommitFlag.Absent, time: 0, signature: new Uint8Array(0) }
          : { flag: CommitFlag.Commit, time: Date.now(), signature: sig },
      ),
    );
    expect(real.serialize().length).toBeLessThanOrEqual(commitBytesBound(4));
    // It grows with the validator count: ~77 bytes each, far above the old fixed 2,048 at 100.
    expect(commitBytesBound(100)).toBeGreaterThan(7000);
  });

  it('header, proposal, vote and evidence bounds', () => {
    expect(MAX_PROPOSAL_BYTES).toBe(
      new Proposal(
        { height: MAX, round: 0xffffffff, polRound: 0xfffffffe, blockHash: hash, time: MAX, proposer: addr },
        sig,
      ).serialize().length,
    );
    expect(MAX_VOTE_BYTES).toBe(maxVote(hash).serialize().length);
    expect(MAX_EVIDENCE_BYTES).toBe(
      new DuplicateVoteEvidence(maxVote(hash), maxVote(new Uint8Array(32).fill(1))).serialize().length,
    );
    // 8 hashes, an address, a 50-char chain id, two 7-byte numbers and the list prefix.
    expect(MAX_HEADER_BYTES).toBe(8 * 33 + 21 + 51 + 2 * 8 + 3);
  });

  it('frames derive from maxBlockBytes and maxValidators', () => {
    const small = frameBudget({ maxBlockBytes: 200_000, maxValidators: 4 });
    const big = frameBudget({ maxBlockBytes: 8 << 20, maxValidators: 1000 });
    expect(small.consensusFrame).toBeGreaterThan(200_000);
    expect(small.consensusFrame).toBeLessThan(201_000);
    expect(big.blocksyncFrame).toBeGreaterThan((8 << 20) + commitBytesBound(1000));
    expect(big.blocksyncFrame - big.consensusFrame).toBeGreaterThan(commitBytesBound(999) - 1000);
    // Tx batches are capped on their own, far below the old 80 MiB.
    expect(small.txBatchFrame).toBe(big.txBatchFrame);
    expect(small.txBatchFrame).toBeLessThanOrEqual(TX_BATCH_MAX_BYTES + 4);
    // The consensus frame holds the reactor's real envelope of the largest proposal with a full block.
    const proposal = new Proposal(
      { height: MAX, round: 0xffffffff, polRound: 0xfffffffe, blockHash: hash, time: MAX, proposer: addr },
      sig,
    ).serialize();
    for (const n of [200_000, 8 << 20]) {
      const env = encodeEnvelope(Kind.Proposal, encodeRlp([proposal, new Uint8Array(n).fill(0xab)]));
      const budget = frameBudget({ maxBlockBytes: n, maxValidators: 4 }).consensusFrame;
      expect(env.length).toBeLessThanOrEqual(budget);
      expect(budget - env.length).toBeLessThan(16);
    }
    // The largest chain the genesis allows still frames under the hard cap.
    const max = frameBudget({ maxBlockBytes: MAX_BLOCK_BYTES, maxValidators: 10_000 });
    expect(Math.max(max.consensusFrame, max.blocksyncFrame)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });
});

describe('genesis params', () => {
  const key = PrivateKey.fromSeed(new Uint8Array(32).fill(3));
  const json = (params: Record<string, number>) => {
    const g = genesisToJSON(createDevGenesis([key], { chainId: 'vos-test', genesisTime: 1 }));
    return { ...g, params: { ...g.params, ...params } };
  };

  it('refuses a maxBlockBytes that cannot hold a commit of maxValidators and one max-size tx', () => {
    expect(budgetProblem(DEFAULT_PARAMS)).toBeNull();
    const min = minBlockBytes(1000);
    expect(() => parseGenesis(json({ maxValidators: 1000, maxBlockBytes: min - 1 }))).toThrow(
      /params\.maxBlockBytes: .*cannot hold a commit of 1000 validators/,
    );
    expect(parseGenesis(json({ maxValidators: 1000, maxBlockBytes: min })).params.maxBlockBytes).toBe(min);
    // Before this check, 1,024 bytes was accepted: block 2 (with 100 signatures) could never be built.
    expect(() => parseGenesis(json({ maxBlockBytes: 1024 }))).toThrow(/cannot hold a commit/);
  });

  it('refuses a maxBlockBytes above the hard cap', () => {
    expect(budgetProblem({ maxBlockBytes: MAX_BLOCK_BYTES + 1, maxValidators: 4 })?.message).toMatch(
      /hard cap/,
    );
    expect(() => parseGenesis(json({ maxBlockBytes: MAX_BLOCK_BYTES + 1 }))).toThrow(/maxBlockBytes/);
  });
});

describe('the proposer reserves room for the commit of every validator', () => {
  let chain: TestChain | undefined;
  afterEach(async () => {
    await chain?.close();
    chain = undefined;
  });

  it('with 100 validators and a full mempool, the block fits maxBlockBytes and validates', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i + 20)));
    const maxBlockBytes = minBlockBytes(100);
    chain = await openTestChain(keys, { params: { maxBlockBytes } });
    const b1 = await produceBlock(chain, [], null);
    const to = keys[1].address;
    const txs = Array.from({ length: 1200 }, (_, i) =>
      Tx.sign(
        {
          chainId: 'vos-test',
          nonce: BigInt(i),
          kind: TxKind.Transfer,
          payload: { kind: TxKind.Transfer, body: { to, amount: 1n } },
          gasLimit: 100_000n,
          gasPrice: 1n,
        },
        keys[0],
      ),
    );
    const ledger = chain.ledger;
    const { block } = await ledger.buildBlock({
      time: await ledger.nextBlockTime(b1.commit),
      proposer: keys[0].address,
      lastCommit: b1.commit,
      candidates: txs,
    });
    expect(block.lastCommit?.signatures.length).toBe(100);
    // Full: the txs stopped because the bytes ran out, not the candidates.
    expect(block.txs.length).toBeLessThan(txs.length);
    expect(block.serialize().length).toBeLessThanOrEqual(maxBlockBytes);
    // The reserve covers what the block really holds besides its txs.
    const txBytes = block.txs.reduce((n, t) => n + t.size, 0);
    expect(blockOverheadBytes(100) + block.txs.length * TX_IN_BLOCK_OVERHEAD).toBeGreaterThanOrEqual(
      block.serialize().length - txBytes,
    );
    await expect(ledger.executeBlock(block)).resolves.toBeDefined();
  }, 60_000);
});
