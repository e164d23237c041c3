/**
 * A tx whose execution throws an unexpected error (not a TxFailure with a receipt) is left out of the
 * block by the proposer, as TX_EXECUTION_ERROR, and the rest of the block is built: one bad tx never
 * stops block building (and so the chain). A test-only tx kind (250) throws a TypeError.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../../chain/keys.js';
import { Tx, TxKind } from '../../../../chain/tx/index.js';
import { expectFields, modulePayload, registerRlpTxKind } from '../../../../chain/tx/kinds.js';
import { openTestChain, produceBlock, type TestChain } from '../../../helpers/chain.js';

registerRlpTxKind<Record<string, never>>(1_000n, {
  kind: 250,
  name: 'test-throws',
  decode(f) {
    expectFields(f, 0, 'test-throws');
    return {};
  },
  raw: () => [],
  toJSON: () => ({}),
  async execute() {
    throw new TypeError("Cannot read properties of undefined (reading 'params')");
  },
});

const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(61));
const chains: TestChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
});

describe('building a block', () => {
  it('leaves out a tx that throws and builds the rest', async () => {
    const chain = await openTestChain([alice]);
    chains.push(chain);
    const sign = (nonce: bigint, payload: Parameters<typeof Tx.sign>[0]['payload']) =>
      Tx.sign({ chainId: 'vos-test', nonce, payload, gasLimit: 100_000n, gasPrice: 1n }, alice);
    const bad = sign(0n, modulePayload(250, {}));
    const good = sign(0n, { kind: TxKind.Transfer, body: { to: alice.address, amount: 1n } });
    const r = await produceBlock(chain, [bad, good], null);
    expect(r.dropped.map((d) => (d.error as { code: string }).code)).toEqual(['TX_EXECUTION_ERROR']);
    expect(r.block.txs.map((t) => t.hash())).toEqual([good.hash()]);
  });
});
