/**
 * The control module on real ledgers (LevelDB + state tree), fast-check with printed seeds: random
 * epochs of served-bytes receipts, good and bad mixed (forged signature, signed by the server itself,
 * same owner, unfunded signer, another epoch, replayed), each in its own tx. A model predicts each
 * receipt's result, and after every epoch end each server's contribution (the good bytes only), the
 * threshold and every quota; a second ledger applies the same blocks and must reach the same state
 * root at every height (T and every quota identical on every node).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Commit } from '../../chain/commit.js';
import { PrivateKey } from '../../chain/keys.js';
import { DEFAULT_CONTROL_PARAMS } from '../../chain/ledger/params.js';
import { ReceiptStatus } from '../../chain/receipt.js';
import { Tx, type TxPayload } from '../../chain/tx/index.js';
import { controlNode } from '../../services/control/api.js';
import { quota, threshold } from '../../services/control/formula.js';
import { signReceipt } from '../../services/control/receipt.js';
import { controlPayload, lastEpoch } from '../../services/control/state.js';
import { toHex } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';
import { BlockRunner, openTestChain, produceBlock, type TestChain } from '../helpers/chain.js';

const L = 4;
const CONTROL = { ...DEFAULT_CONTROL_PARAMS, minThreshold: 1000, maxThreshold: 1_000_000_000 };
const seed = (i: number) => PrivateKey.fromSeed(new Uint8Array(32).fill(i));
const validator = seed(1);
const servers = [seed(2), seed(3)];
const clients = [seed(4), seed(5), seed(6), seed(7)];
const owner = seed(8);
const poor = seed(9); // below receiptMinBalance
const stranger = seed(10); // signs forged receipts
const FUNDED = [...servers, ...clients, owner].map((k) => ({ address: k.address, balance: 10n ** 15n }));

type Kind = 'good' | 'forged' | 'self' | 'sameOwner' | 'unfunded' | 'wrongEpoch' | 'twice';
const KINDS: Kind[] = [
  'good',
  'good',
  'good',
  'forged',
  'self',
  'sameOwner',
  'unfunded',
  'wrongEpoch',
  'twice',
];
const ERROR: Record<Exclude<Kind, 'good' | 'twice'>, string> = {
  forged: 'CONTROL_BAD_RECEIPT',
  self: 'CONTROL_SELF_RECEIPT',
  sameOwner: 'CONTROL_SAME_OWNER',
  unfunded: 'CONTROL_RECEIPT_UNFUNDED',
  wrongEpoch: 'CONTROL_RECEIPT_EPOCH',
};

const planArb = fc.array(
  fc.array(
    fc.record({
      server: fc.integer({ min: 0, max: 1 }),
      client: fc.integer({ min: 0, max: 2 }),
      bytes: fc.integer({ min: 1, max: 100_000_000 }),
      kind: fc.constantFrom(...KINDS),
    }),
    { maxLength: 6 },
  ),
  { minLength: 1, maxLength: 3 },
);

const chains: TestChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
});

describe('control on the ledger', () => {
  it('only good receipts earn; T and every quota are the model’s and the same on a second node', async () => {
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const opts = { params: { epochLength: L, control: CONTROL }, extraAccounts: FUNDED };
        const a = await openTestChain([validator], opts);
        const b = await openTestChain([validator], opts);
        chains.push(a, b);
        const nonces = new Map<string, bigint>();
        const sign = (key: PrivateKey, payload: TxPayload) => {
          const n = nonces.get(key.address.toHex()) ?? 0n;
          nonces.set(key.address.toHex(), n + 1n);
          return Tx.sign({ chainId: 'vos-test', nonce: n, payload, gasLimit: 1_000_000n, gasPrice: 1n }, key);
        };
        let last: Commit | null = null;
        /** One block on node A, applied by node B: the same state root. */
        const block = async (txs: Tx[]) => {
          const r = await produceBlock(a, txs, last);
          last = r.commit;
          expect(r.dropped).toEqual([]);
          const verified = await b.ledger.executeBlock(r.block);
          await b.ledger.commitBlock(r.block, r.commit, verified);
          expect(toHex(b.ledger.head.stateRoot)).toBe(toHex(a.ledger.head.stateRoot));
          return r.execution.receipts.map((x) => (x.status === ReceiptStatus.Ok ? '' : x.error));
        };
        const untilEpochEnd = async () => {
          while (a.ledger.head.height % L !== 0) await block([]);
        };
        // Server 1 and client 3 are identities of one owner.
        expect(
          await block([
            sign(servers[1], controlPayload.setOwner(owner.address)),
            sign(clients[3], controlPayload.setOwner(owner.address)),
          ]),
        ).toEqual(['', '']);
        await untilEpochEnd();
        for (const [r, round] of plan.entries()) {
          const epoch = r + 1; // receipts about the epoch that just ended, submitted in the next
          const txs: Tx[] = [];
          const expected: string[] = [];
          const earned = [0, 0];
          const credited = new Set<string>();
          for (const x of round) {
            const server = servers[x.server];
            let client = clients[x.client];
            let signer = client;
            let ep = epoch;
            let kind = x.kind;
            if (kind === 'self') client = signer = server;
            if (kind === 'sameOwner') {
              if (x.server !== 1) kind = 'good';
              else client = signer = clients[3];
            }
            if (kind === 'unfunded') client = signer = poor;
            if (kind === 'forged') signer = stranger;
            if (kind === 'wrongEpoch') ep = x.bytes % 2 === 0 ? epoch - 1 : epoch + 1;
            const rc = signReceipt(signer, 'vos-test', ep, server.address, x.bytes);
            const body = { epoch: ep, receipts: [{ ...rc, client: client.publicKey }] };
            const copies = kind === 'twice' ? 2 : 1;
            for (let i = 0; i < copies; i++) {
              txs.push(sign(server, controlPayload.receipts(body)));
              const pair = `${x.server}/${client.address.toHex()}`;
              if (kind === 'good' || kind === 'twice') {
                if (credited.has(pair)) expected.push('CONTROL_RECEIPT_REPLAY');
                else {
                  credited.add(pair);
                  earned[x.server] += x.bytes;
                  expected.push('');
                }
              } else if (kind === 'forged' && credited.has(pair))
                expected.push('CONTROL_RECEIPT_REPLAY'); // the cheap check comes before the signature
              else expected.push(ERROR[kind]);
            }
          }
          expect(await block(txs)).toEqual(expected);
          await untilEpochEnd();
          const ep = await lastEpoch({ get: (k) => a.ledger.getState(k) });
          expect(ep?.epoch).toBe(epoch + 1);
          const t = threshold(earned.map(BigInt), CONTROL);
          expect(ep?.threshold).toBe(t);
          for (const [i, s] of servers.entries()) {
            const deps = {
              get: (k: Uint8Array) => b.ledger.getState(k),
              params: b.ledger.params,
              headHeight: () => b.ledger.head.height,
            };
            const n = await controlNode(deps, s.address.toString());
            expect(n.contribution).toBe(String(earned[i]));
            const base = BigInt(b.ledger.params.storage.baseQuota);
            expect(n.quota).toBe(Number(quota(base, BigInt(CONTROL.storageKPpm), BigInt(earned[i]), t)));
          }
        }
      }),
      propertyParams('control receipts on two ledgers', 6, 60),
    );
  }, 120_000);

  it('a tx with a bad receipt still counts the good ones; a client attests at most maxReceiptBytes per epoch', async () => {
    const opts = { params: { epochLength: L, control: CONTROL }, extraAccounts: FUNDED };
    const a = await openTestChain([validator], opts);
    chains.push(a);
    const runner = new BlockRunner(a, 'vos-test');
    const gas = 2_000_000n;
    while (a.ledger.head.height < L) await runner.block();
    const cap = CONTROL.maxReceiptBytes;
    const big = Math.floor(cap * 0.7);
    const good = (c: PrivateKey, s: PrivateKey, bytes: number) => ({
      ...signReceipt(c, 'vos-test', 1, s.address, bytes),
    });
    const forged = {
      ...signReceipt(stranger, 'vos-test', 1, servers[0].address, 5),
      client: clients[2].publicKey,
    };
    expect(
      await runner.block(
        runner.tx(
          servers[0],
          controlPayload.receipts({ epoch: 1, receipts: [good(clients[0], servers[0], big), forged] }),
          gas,
        ),
        runner.tx(
          servers[1],
          controlPayload.receipts({ epoch: 1, receipts: [good(clients[0], servers[1], big)] }),
          gas,
        ),
        // A third server gets nothing more from that client this epoch: all refused, the tx says why.
        runner.tx(
          validator,
          controlPayload.receipts({ epoch: 1, receipts: [good(clients[0], validator, 1)] }),
          gas,
        ),
      ),
    ).toEqual(['', '', 'CONTROL_RECEIPT_BUDGET']);
    // Over its budget the client's second receipt counts for what is left of it.
    const st = { get: (k: Uint8Array) => a.ledger.getState(k) };
    while (a.ledger.head.height % L !== 0) await runner.block();
    const deps = { ...st, params: a.ledger.params, headHeight: () => a.ledger.head.height };
    expect((await controlNode(deps, servers[0].address.toString())).parts.served).toBe(String(big));
    expect((await controlNode(deps, servers[1].address.toString())).parts.served).toBe(String(cap - big));
    // Receipts of epoch 1 are over once epoch 2 has ended.
    const late = runner.tx(
      servers[1],
      controlPayload.receipts({ epoch: 1, receipts: [good(clients[1], servers[1], 1)] }),
      gas,
    );
    expect(await runner.block(late)).toEqual(['CONTROL_RECEIPT_EPOCH']);
  }, 60_000);
});
