/**
 * The publish index on a real ledger: publish, a second publish of the same CID by the same owner
 * refused, update and retract by the owner only (others fail with no state change), the CID index
 * follows; payloads with a bad CID, mime, kind, title or tag never decode.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { asList, decodeRlp, encodeRlp } from '../../../../chain/codec.js';
import { PrivateKey } from '../../../../chain/keys.js';
import { DEFAULT_STORAGE_PARAMS } from '../../../../chain/ledger/params.js';
import { createTxFromRlp, Tx, type TxPayload } from '../../../../chain/tx/index.js';
import { txKindModule } from '../../../../chain/tx/kinds.js';
import { cidIndexKey, publishId, recordKey } from '../../../../services/publish/layout.js';
import { decodeRecord, type PublishMeta } from '../../../../services/publish/record.js';
import { PublishTxKind, publishPayload } from '../../../../services/publish/state.js';
import { BlockRunner, openTestChain, type TestChain } from '../../../helpers/chain.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(41));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(42));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(43));
let chain: TestChain | undefined;
let run: BlockRunner;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

const tx = (key: PrivateKey, payload: TxPayload): Tx => run.tx(key, payload);
/** Commit one block with these txs; returns each tx's receipt error ('' = ok). */
const block = (...txs: Tx[]): Promise<string[]> => run.block(...txs);

const meta: PublishMeta = {
  mime: 'text/plain',
  kind: 'text',
  title: '基于区块链技术的操作系统',
  description: 'an operating system on a blockchain',
  tags: ['os', '区块链'],
};
const cidOf = async (s: string) => CID.create(1, raw.code, await sha256.digest(Buffer.from(s)));

describe('publish state machine', () => {
  it('publish, update and retract by the owner; the same CID twice by one owner is refused', async () => {
    chain = await openTestChain([validator], {
      extraAccounts: [alice, bob].map((k) => ({ address: k.address, balance: 10_000_000n })),
    });
    run = new BlockRunner(chain);
    const cid = await cidOf('hello');
    expect(await block(tx(alice, publishPayload.publish({ cid, size: 5, ...meta })))).toEqual(['']);
    const id = publishId(alice.address, cid.bytes);
    const r = decodeRecord((await chain.ledger.getState(recordKey(id)))!);
    expect(r).toMatchObject({ ...meta, size: 5, publishedAt: 1, updatedAt: 1 });
    expect(r.owner.equals(alice.address)).toBe(true);
    expect(await chain.ledger.getState(cidIndexKey(cid.bytes, id))).toBeDefined();
    // Another owner may publish the same CID (its own record); the same owner may not twice.
    expect(
      await block(
        tx(alice, publishPayload.publish({ cid, size: 5, ...meta })),
        tx(bob, publishPayload.publish({ cid, size: 5, ...meta, title: 'mine too' })),
      ),
    ).toEqual(['PUBLISH_EXISTS', '']);
    // Only the owner updates or retracts.
    const before = await chain.ledger.getState(recordKey(id));
    expect(
      await block(
        tx(bob, publishPayload.update({ id, ...meta, title: 'stolen' })),
        tx(bob, publishPayload.retract(id)),
      ),
    ).toEqual(['PUBLISH_NOT_OWNER', 'PUBLISH_NOT_OWNER']);
    expect(await chain.ledger.getState(recordKey(id))).toEqual(before);
    expect(
      await block(tx(alice, publishPayload.update({ id, ...meta, title: 'new title', tags: ['os'] }))),
    ).toEqual(['']);
    expect(decodeRecord((await chain.ledger.getState(recordKey(id)))!)).toMatchObject({
      title: 'new title',
      tags: ['os'],
      publishedAt: 1,
      updatedAt: 4,
    });
    expect(await block(tx(alice, publishPayload.retract(id)))).toEqual(['']);
    expect(await chain.ledger.getState(recordKey(id))).toBeUndefined();
    expect(await chain.ledger.getState(cidIndexKey(cid.bytes, id))).toBeUndefined();
    expect(await block(tx(alice, publishPayload.retract(id)))).toEqual(['PUBLISH_NOT_FOUND']);
  });

  it('a bad CID, mime, kind, title or tag never decodes', async () => {
    const good = await cidOf('x');
    const base = [good.bytes, 1n, 'text/plain', 0, 'a title', '', ['tag']];
    const cases: [string, unknown[]][] = [
      ['cid', [Buffer.from('not a cid'), ...base.slice(1)]],
      ['mime', [good.bytes, 1n, 'Text Plain', ...base.slice(3)]],
      ['kind', [good.bytes, 1n, 'text/plain', 9, ...base.slice(4)]],
      ['title', [good.bytes, 1n, 'text/plain', 0, '', '', ['tag']]],
      ['title', [good.bytes, 1n, 'text/plain', 0, 'x'.repeat(201), '', ['tag']]],
      ['tags', [good.bytes, 1n, 'text/plain', 0, 'ok', '', ['UPPER']]],
      ['tags', [good.bytes, 1n, 'text/plain', 0, 'ok', '', ['a', 'a']]],
    ];
    const codec = txKindModule(PublishTxKind.Publish)!;
    const decode = (fields: unknown[]) =>
      codec.decode(asList(decodeRlp(encodeRlp(fields as Parameters<typeof encodeRlp>[0]), 'p'), 'p'));
    expect(decode(base)).toMatchObject({ title: 'a title', tags: ['tag'] });
    for (const [field, fields] of cases) expect(() => decode(fields)).toThrow(new RegExp(`^${field}`));
    // The whole tx round-trips through its wire bytes.
    const okTx = Tx.sign(
      {
        chainId: 'vos-test',
        nonce: 0n,
        payload: publishPayload.publish({ cid: good, size: 1, ...meta }),
        gasLimit: 1n,
        gasPrice: 1n,
      },
      alice,
    );
    expect(createTxFromRlp(okTx.serialize()).hash()).toEqual(okTx.hash());
    expect(PublishTxKind.Publish).toBe(30);
  });

  it('published bytes count against the storage quota; a retract gives them back', async () => {
    chain = await openTestChain([validator], {
      extraAccounts: [alice].map((k) => ({ address: k.address, balance: 10_000_000n })),
      params: { storage: { ...DEFAULT_STORAGE_PARAMS, baseQuota: 1000 } },
    });
    run = new BlockRunner(chain);
    const [a, b, c] = await Promise.all([cidOf('a'), cidOf('b'), cidOf('c')]);
    expect(
      await block(
        tx(alice, publishPayload.publish({ cid: a, size: 600, ...meta })),
        tx(alice, publishPayload.publish({ cid: b, size: 401, ...meta })),
        tx(alice, publishPayload.publish({ cid: c, size: 400, ...meta })),
      ),
    ).toEqual(['', 'PUBLISH_QUOTA_EXCEEDED', '']);
    expect(await block(tx(alice, publishPayload.retract(publishId(alice.address, a.bytes))))).toEqual(['']);
    expect(await block(tx(alice, publishPayload.publish({ cid: b, size: 600, ...meta })))).toEqual(['']);
  });
});
