/**
 * name_resolve answers checked as a light client (services/naming/light.ts) against a trusted set of 4
 * validators: honest answers verify; a tampered record, proof, header or commit each fail; a commit
 * signed by <= 2/3 of the power fails; a proof of absence verifies for a free name and cannot stand
 * for a registered one.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Commit } from '../../../../chain/commit.js';
import { CommitFlag } from '../../../../chain/commit.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { DEFAULT_NAMING_PARAMS } from '../../../../chain/ledger/params.js';
import { inlineVerifier } from '../../../../chain/ledger/verifier.js';
import { buildStateProofAnswer } from '../../../../chain/light-client.js';
import { Tx, type TxPayload } from '../../../../chain/tx/index.js';
import type { ValidatorInfo } from '../../../../chain/validators.js';
import { type NamingApiDeps, resolveName } from '../../../../services/naming/api.js';
import { commitHash } from '../../../../services/naming/layout.js';
import { type NameAnswerJSON, verifyNameAnswer } from '../../../../services/naming/light.js';
import { EMPTY_RECORDS } from '../../../../services/naming/records.js';
import { namePayload } from '../../../../services/naming/state.js';
import { openTestChain, produceBlock, type TestChain } from '../../../helpers/chain.js';

const keys = [41, 42, 43, 44].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));
const alice = keys[0];
let chain: TestChain;
let validators: ValidatorInfo[];
let deps: NamingApiDeps<Awaited<ReturnType<typeof buildStateProofAnswer>>>;

beforeAll(async () => {
  chain = await openTestChain(keys);
  let last: Commit | null = null;
  let nonce = 0n;
  const send = async (payload: TxPayload) => {
    const tx = Tx.sign(
      { chainId: 'vos-test', nonce: nonce++, payload, gasLimit: 200_000n, gasPrice: 1n },
      alice,
    );
    const r = await produceBlock(chain, [tx], last);
    last = r.commit;
  };
  const salt = randomBytes(32);
  await send(namePayload.commit(commitHash('alice', alice.address, salt)));
  await send(namePayload.reveal('alice', salt));
  await send(
    namePayload.update('alice', {
      ...EMPTY_RECORDS,
      endpoints: [{ kind: 'ip4', value: '10.1.2.3', weight: 1 }],
      txt: ['hello'],
    }),
  );
  validators = await chain.ledger.validatorsAt(chain.ledger.head.height);
  deps = {
    getState: (k) => chain.ledger.getState(k),
    headHeight: () => chain.ledger.head.height,
    params: DEFAULT_NAMING_PARAMS,
    prove: (key, height) =>
      buildStateProofAnswer(
        {
          headHeight: () => chain.ledger.head.height,
          getBlock: (h) => chain.ledger.store.getBlock(h),
          getCommit: (h) => chain.ledger.store.getCommit(h),
          prove: (k, h) => chain.tree.prove(k, h),
        },
        key,
        height,
      ),
  };
});
afterAll(() => chain.close());

const trust = () => ({ chainId: 'vos-test', validators, naming: DEFAULT_NAMING_PARAMS });
const answer = async (name: string) =>
  JSON.parse(JSON.stringify(await resolveName(deps, name, true))) as NameAnswerJSON;
const check = (a: NameAnswerJSON) => verifyNameAnswer(a, trust(), inlineVerifier);

describe('name_resolve as a light client', () => {
  it('an honest answer verifies: owner and records as proven', async () => {
    const v = await check(await answer('ALICE.vos'));
    expect(v.status).toBe('active');
    expect(v.owner).toBe(alice.address.toString());
    expect(v.records?.txt).toEqual(['hello']);
  });

  it('a tampered record fails', async () => {
    const a = await answer('alice');
    (a.records as { txt: string[] }).txt = ['evil'];
    await expect(check(a)).rejects.toThrow(/records are not the proven/);
  });

  it('a tampered proof fails', async () => {
    const a = await answer('alice');
    const p = a.proof as unknown as { siblings: string[] };
    p.siblings[0] = `0x${'00'.repeat(32)}`;
    await expect(check(a)).rejects.toThrow();
  });

  it('a tampered encoded proof fails', async () => {
    const a = await answer('alice');
    const p = a.proof as unknown as { encoded: string };
    const i = p.encoded.length - 10;
    p.encoded = `${p.encoded.slice(0, i)}${p.encoded[i] === '0' ? '1' : '0'}${p.encoded.slice(i + 1)}`;
    await expect(check(a)).rejects.toThrow();
  });

  it('a tampered proven value fails', async () => {
    const a = await answer('alice');
    const p = a.proof as unknown as { value: string; encoded: string };
    p.value = `${p.value.slice(0, -2)}00`;
    await expect(check(a)).rejects.toThrow();
  });

  it('a tampered header fails', async () => {
    const a = await answer('alice');
    a.proof!.header.time += 1;
    await expect(check(a)).rejects.toThrow(/hash/);
  });

  it('a tampered commit signature fails', async () => {
    const a = await answer('alice');
    const sig = a.proof!.commit.signatures.find((x) => x.signature !== null)!;
    sig.signature = `0x${'11'.repeat(64)}`;
    await expect(check(a)).rejects.toThrow();
  });

  it('a commit signed by <= 2/3 of the power fails', async () => {
    const a = await answer('alice');
    // 4 equal validators: 2 signatures are 1/2 of the power.
    for (const s of a.proof!.commit.signatures.slice(2)) {
      s.flag = 'absent';
      s.signature = null;
      s.time = 0;
    }
    void CommitFlag;
    await expect(check(a)).rejects.toThrow(/2\/3|power/);
  });

  it('a validator set other than the trusted one fails', async () => {
    const a = await answer('alice');
    const other = { ...trust(), validators: validators.slice(0, 3) };
    await expect(verifyNameAnswer(a, other, inlineVerifier)).rejects.toThrow(/validator set/);
  });

  it('a proof of absence verifies for a free name and cannot stand for a registered one', async () => {
    const free = await answer('nobody');
    expect((await check(free)).status).toBe('free');
    const forged = { ...free, name: 'alice' };
    await expect(check(forged)).rejects.toThrow();
    const claimedFree = {
      ...(await answer('alice')),
      status: 'free',
      owner: null,
      ownerKey: null,
      records: null,
      expires: null,
    };
    await expect(check(claimedFree)).rejects.toThrow(/status/);
  });
});
