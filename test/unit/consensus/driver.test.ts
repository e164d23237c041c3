/**
 * The driver filters before expensive work: a peer replaying a proposal (with its block) or votes
 * costs neither a block execution nor a WAL write; proposals from the wrong proposer, for rounds far
 * ahead, or whose block names another builder than its signer are refused before execution.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Block } from '../../../chain/block.js';
import { ZERO_HASH } from '../../../chain/hash.js';
import { Header } from '../../../chain/header.js';
import { PrivateKey } from '../../../chain/keys.js';
import { Proposal } from '../../../chain/proposal.js';
import { sortValidators, type ValidatorInfo } from '../../../chain/validators.js';
import { Vote, VoteType } from '../../../chain/vote.js';
import { type ConsensusApp, ConsensusDriver, type ConsensusWal } from '../../../consensus/driver.js';
import { TendermintEngine } from '../../../consensus/engine/engine.js';

const CHAIN = 'vos-test';
const keys = [1, 2, 3, 4].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));
const vals: ValidatorInfo[] = sortValidators(
  keys.map((k) => ({ address: k.address, publicKey: k.publicKey, power: 10n })),
);
const keyOf = (i: number) => keys.find((k) => k.address.equals(vals[i].address))!;
const proposerOf = (_v: readonly ValidatorInfo[], h: number, r: number) => (h + r) % vals.length;

class CountingWal implements ConsensusWal {
  bytes = 0;
  records = 0;
  async append(record: Uint8Array): Promise<void> {
    this.bytes += record.length;
    this.records++;
  }
  async endHeight(): Promise<void> {}
  async recordsOfCurrentHeight(): Promise<Uint8Array[]> {
    return [];
  }
}

class FakeApp implements ConsensusApp {
  readonly chainId = CHAIN;
  executions = 0;
  headHeight() {
    return 0;
  }
  headTime() {
    return 0;
  }
  async validatorsAt() {
    return vals;
  }
  async buildBlock(): Promise<Block> {
    throw new Error('a full node does not build');
  }
  async validateBlock() {
    this.executions++;
    return true;
  }
  async commitBlock() {}
  hasPendingTxs() {
    return false;
  }
}

function blockBy(builder: PrivateKey, height = 1, tag = 0): Block {
  const h = new Header({
    chainId: CHAIN,
    height,
    time: 1_700_000_000_000 + tag,
    prevHash: ZERO_HASH,
    txRoot: ZERO_HASH,
    stateRoot: ZERO_HASH,
    validatorsHash: ZERO_HASH,
    nextValidatorsHash: ZERO_HASH,
    proposer: builder.address,
    lastCommitHash: ZERO_HASH,
    evidenceRoot: ZERO_HASH,
    receiptsRoot: ZERO_HASH,
  });
  return new Block(h, [], null, []);
}

function propose(signer: PrivateKey, block: Block, round: number, polRound = -1): Proposal {
  return Proposal.sign(
    { height: block.height, round, polRound, blockHash: block.hash(), time: 1, proposer: signer.address },
    CHAIN,
    signer,
  );
}

function prevote(i: number, block: Block, round = 0): Vote {
  return Vote.sign(
    {
      type: VoteType.Prevote,
      height: 1,
      round,
      blockHash: block.hash(),
      time: 2,
      validator: vals[i].address,
    },
    CHAIN,
    keyOf(i),
  );
}

let app: FakeApp;
let wal: CountingWal;
let driver: ConsensusDriver;

beforeEach(async () => {
  app = new FakeApp();
  wal = new CountingWal();
  driver = new ConsensusDriver({
    app,
    key: null,
    createEngine: () => new TendermintEngine({ proposer: (h, r) => proposerOf(vals, h, r) }),
    proposerOf,
    transport: { broadcastProposal() {}, broadcastVote() {} },
    wal,
    guard: {
      async sign() {
        throw new Error('a full node does not sign');
      },
    },
    ticker: { schedule: () => () => {} },
    config: { emptyBlockIntervalMs: 0, maxBufferedFutureMessages: 100, maxFutureRounds: 4 },
  });
  await driver.start();
});

describe('consensus driver: cheap checks before execution and the WAL', () => {
  it('a flood of replayed proposals and votes leaves the WAL size and the execution count unchanged', async () => {
    const proposer = keyOf(proposerOf(vals, 1, 0));
    const block = blockBy(proposer);
    const proposal = propose(proposer, block, 0);
    await driver.onProposal(proposal, block);
    const votes = [0, 1, 2].map((i) => prevote(i, block));
    for (const v of votes) await driver.onVote(v);
    expect(app.executions).toBe(1);
    const after = { bytes: wal.bytes, records: wal.records };
    expect(after.records).toBe(4);
    for (let i = 0; i < 200; i++) {
      await driver.onProposal(proposal, block);
      for (const v of votes) await driver.onVote(v);
    }
    expect(app.executions).toBe(1);
    expect({ bytes: wal.bytes, records: wal.records }).toEqual(after);
  });

  it('refuses a proposal from a validator that is not proposer(h, r), before executing it', async () => {
    const wrong = keyOf((proposerOf(vals, 1, 0) + 1) % vals.length);
    const block = blockBy(wrong);
    await expect(driver.onProposal(propose(wrong, block, 0), block)).rejects.toThrow(/not the proposer/);
    expect(app.executions).toBe(0);
    expect(wal.records).toBe(0);
  });

  it('refuses a proposal whose block header names another validator than its signer', async () => {
    const proposer = keyOf(proposerOf(vals, 1, 0));
    const other = keyOf((proposerOf(vals, 1, 0) + 1) % vals.length);
    const block = blockBy(other);
    await expect(driver.onProposal(propose(proposer, block, 0), block)).rejects.toThrow(
      /names another proposer/,
    );
    expect(app.executions).toBe(0);
    expect(wal.records).toBe(0);
  });

  it('accepts a re-proposed block built by the proposer of a round up to its polRound', async () => {
    const builder = keyOf(proposerOf(vals, 1, 0));
    const block = blockBy(builder);
    const signer = keyOf(proposerOf(vals, 1, 2));
    await driver.onProposal(propose(signer, block, 2, 0), block);
    expect(app.executions).toBe(1);
    const stranger = blockBy(keyOf(proposerOf(vals, 1, 3)), 1, 7);
    await expect(driver.onProposal(propose(signer, stranger, 2, 1), stranger)).rejects.toThrow(
      /no proposer of the rounds/,
    );
  });

  it('ignores proposals and votes for rounds beyond the window, and bounds buffered proposals of the next height', async () => {
    const r = 5; // window: current round 0 + maxFutureRounds 4
    const proposer = keyOf(proposerOf(vals, 1, r));
    const block = blockBy(proposer);
    await expect(driver.onProposal(propose(proposer, block, r), block)).rejects.toThrow(/too far ahead/);
    await expect(driver.onVote(prevote(0, block, r))).rejects.toThrow(/too far ahead/);
    expect(app.executions).toBe(0);
    expect(wal.records).toBe(0);
    const next = keyOf(proposerOf(vals, 2, 0));
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      const b = blockBy(next, 2, i);
      await driver.onProposal(propose(next, b, 0), b).catch(() => refused++);
    }
    expect(refused).toBe(12);
  });

  it('keeps at most two distinct votes per validator and step (the second is evidence)', async () => {
    const a = blockBy(keyOf(0), 1, 1);
    const b = blockBy(keyOf(0), 1, 2);
    const c = blockBy(keyOf(0), 1, 3);
    await driver.onVote(prevote(0, a));
    await driver.onVote(prevote(0, b));
    await expect(driver.onVote(prevote(0, c))).rejects.toThrow(/too many votes/);
    expect(wal.records).toBe(2);
  });
});
