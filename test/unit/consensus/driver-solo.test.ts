/**
 * A validator with more than 2/3 of the power decides its own block as soon as it votes. When it may
 * build the next block at once (empty-block interval 0, or txs waiting), the next height must start
 * in a consensus task of its own: run inline, every following height ran inside one never-ending
 * task, so start() never resolved (VosNode.open() hung) and the chain of pending frames grew without
 * bound.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Address } from '../../../chain/address.js';
import { Block } from '../../../chain/block.js';
import { ZERO_HASH } from '../../../chain/hash.js';
import { Header } from '../../../chain/header.js';
import { PrivateKey } from '../../../chain/keys.js';
import type { ValidatorInfo } from '../../../chain/validators.js';
import { type ConsensusApp, ConsensusDriver, type ConsensusWal } from '../../../consensus/driver.js';
import { TendermintEngine } from '../../../consensus/engine/engine.js';

const CHAIN = 'vos-test';
const key = PrivateKey.fromSeed(new Uint8Array(32).fill(9));
const vals: ValidatorInfo[] = [{ address: key.address, publicKey: key.publicKey, power: 10n }];

const wal: ConsensusWal = {
  async append() {},
  async endHeight() {},
  async recordsOfCurrentHeight() {
    return [];
  },
};

class SoloApp implements ConsensusApp {
  readonly chainId = CHAIN;
  height = 0;
  #waiters: { height: number; resolve: () => void }[] = [];
  constructor(readonly pending: boolean) {}
  headHeight() {
    return this.height;
  }
  headTime() {
    return 0;
  }
  async validatorsAt() {
    return vals;
  }
  async buildBlock(height: number, proposer: Address): Promise<Block> {
    const h = new Header({
      chainId: CHAIN,
      height,
      time: 1_700_000_000_000 + height,
      prevHash: ZERO_HASH,
      txRoot: ZERO_HASH,
      stateRoot: ZERO_HASH,
      validatorsHash: ZERO_HASH,
      nextValidatorsHash: ZERO_HASH,
      proposer,
      lastCommitHash: ZERO_HASH,
      evidenceRoot: ZERO_HASH,
      receiptsRoot: ZERO_HASH,
    });
    return new Block(h, [], null, []);
  }
  async validateBlock() {
    return true;
  }
  async commitBlock(block: Block) {
    this.height = block.height;
    for (const w of this.#waiters.filter((x) => x.height <= this.height)) w.resolve();
    this.#waiters = this.#waiters.filter((x) => x.height > this.height);
  }
  hasPendingTxs() {
    return this.pending;
  }
  reached(height: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.height >= height) resolve();
      else this.#waiters.push({ height, resolve });
    });
  }
}

let driver: ConsensusDriver | undefined;

afterEach(async () => {
  await driver?.stop();
  driver = undefined;
});

describe('consensus driver: a validator holding > 2/3 of the power', () => {
  it.each([
    { case: 'empty-block interval 0', emptyBlockIntervalMs: 0, pending: false },
    { case: 'txs always waiting', emptyBlockIntervalMs: 60_000, pending: true },
  ])('start() resolves and heights follow in tasks of their own ($case)', async (c) => {
    const app = new SoloApp(c.pending);
    driver = new ConsensusDriver({
      app,
      key,
      createEngine: () => new TendermintEngine({ proposer: () => 0 }),
      proposerOf: () => 0,
      transport: { broadcastProposal() {}, broadcastVote() {} },
      wal,
      guard: { lastSigned: null, sign: async (_hrs, bytes, signFn) => signFn(bytes) },
      // No timeout ever fires: a solo validator decides without one.
      ticker: { schedule: () => () => {} },
      config: { emptyBlockIntervalMs: c.emptyBlockIntervalMs, maxBufferedFutureMessages: 100 },
    });
    const first = await Promise.race([
      driver.start().then(() => 'started'),
      app.reached(20).then(() => 'still starting after 20 blocks'),
    ]);
    expect(first).toBe('started');
    // ... and it keeps making blocks after start() returned, input by input.
    await app.reached(20);
    await driver.idle();
    expect(app.height).toBeGreaterThanOrEqual(20);
  });
});
