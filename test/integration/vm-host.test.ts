/**
 * The host API and the sample apps on a real ledger (txs, then app_query's queryApp on committed
 * state): the guestbook signs entries with the caller and height and lists them; the chat-room
 * directory lets only a VOS name's owner create its room (name_owner) and counts members; the app store
 * takes only kind=executable records published by the caller (publish_field) and finds them by words;
 * an app account is funded by a transfer and pays out with the transfer host call; events and output
 * are in the receipt; imports are checked at deploy (unknown name, wrong type, off-chain only).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { PrivateKey } from '../../chain/keys.js';
import { DEFAULT_NAMING_PARAMS } from '../../chain/ledger/params.js';
import { TxKind } from '../../chain/tx/index.js';
import '../../node/app-lookups.js';
import { vosApi } from '../../rpc/methods.js';
import { commitHash } from '../../services/naming/layout.js';
import { namePayload } from '../../services/naming/state.js';
import { publishId } from '../../services/publish/layout.js';
import { publishPayload } from '../../services/publish/state.js';
import { toHex } from '../../util/bytes.js';
import { queryApp } from '../../vm/query.js';
import { appAccount, appId, appPayload } from '../../vm/state.js';
import { BlockRunner, openTestChain, type TestChain } from '../helpers/chain.js';
import { I32, I64, section, sleb, uleb, wasmModule } from '../helpers/wasm.js';

const BUILD = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'apps', 'build');
const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(51));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(52));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(53));

let chain: TestChain;
let run: BlockRunner;
const nonces = new Map<string, bigint>();
const GAS = 20_000_000n;
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

/** Sign through the runner and remember the nonce (an app's id comes from its creator's nonce). */
function tx(k: PrivateKey, payload: Parameters<BlockRunner['tx']>[1], gas = 200_000n) {
  const t = run.tx(k, payload, gas);
  nonces.set(k.address.toString(), t.nonce);
  return t;
}

async function install(k: PrivateKey, file: string): Promise<Uint8Array> {
  const code = new Uint8Array(await readFile(join(BUILD, file)));
  const hash = createHash('sha256').update(code).digest();
  expect(await run.block(tx(k, appPayload.deploy(code), 20_000_000n))).toEqual(['']);
  expect(await run.block(tx(k, appPayload.create(hash)))).toEqual(['']);
  return appId(k.address, nonces.get(k.address.toString())!);
}

const call = (k: PrivateKey, app: Uint8Array, method: string, input = '', args: bigint[] = []) =>
  tx(k, appPayload.call({ app, method, args, gas: GAS, input: utf8(input) }), GAS + 1_000_000n);

const query = (app: Uint8Array, method: string, input = '', args: bigint[] = [], from = alice) =>
  queryApp(
    {
      getAt: (key) => chain.ledger.getState(key),
      head: () => ({ height: chain.ledger.head.height, time: chain.ledger.head.time }),
      maxGas: 100_000_000n,
    },
    { app, method, args, input: utf8(input), from: from.address },
  );

beforeAll(async () => {
  chain = await openTestChain([validator], {
    params: { naming: { ...DEFAULT_NAMING_PARAMS, commitMinAge: 1 } },
    extraAccounts: [alice, bob].map((k) => ({ address: k.address, balance: 10n ** 15n })),
  });
  run = new BlockRunner(chain);
  const salt = randomBytes(32);
  expect(await run.block(tx(alice, namePayload.commit(commitHash('alice', alice.address, salt))))).toEqual([
    '',
  ]);
  expect(await run.block(tx(alice, namePayload.reveal('alice', salt)))).toEqual(['']);
}, 60_000);
afterAll(() => chain?.close());

describe('host API and sample apps', () => {
  it('guestbook: entries carry the caller and height; list outputs JSON; an app-event per entry', async () => {
    const gb = await install(alice, 'guestbook.wasm');
    expect(await run.block(call(alice, gb, 'sign', 'hello "world"'), call(bob, gb, 'sign', 'hi'))).toEqual([
      '',
      '',
    ]);
    const receipts = (await chain.ledger.store.getReceipts(chain.ledger.head.height))!;
    const events = receipts[0].toJSON().events;
    expect(events.map((e) => e.type)).toEqual(['app-call', 'app-event']);
    expect(events[0].attributes.value).toBe('1');
    const tooLong = 'APP_ABORT:an entry is 1 to 280 bytes of text';
    expect(await run.block(call(bob, gb, 'sign', ''), call(bob, gb, 'sign', 'x'.repeat(281)))).toEqual([
      tooLong,
      tooLong,
    ]);
    expect((await query(gb, 'count')).value).toBe('2');
    const list = await query(gb, 'list', '', [0n, 10n]);
    expect(list.halt).toBe('ok');
    expect(() => vosApi.methods.app_query.result.parse(list)).not.toThrow();
    const entries = JSON.parse(list.outputText!);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ n: 0, by: alice.address.toHex(), text: 'hello "world"' });
    expect(entries[1]).toMatchObject({ n: 1, by: bob.address.toHex(), text: 'hi' });
    expect(entries[0].height).toBe(chain.ledger.head.height - 1);
  }, 60_000);

  it('chat rooms: only the owner of a VOS name creates its room; join counts members; find by name', async () => {
    const rooms = await install(bob, 'chatrooms.wasm');
    expect(
      await run.block(
        call(bob, rooms, 'create', 'alice\tstolen'),
        call(bob, rooms, 'create', 'nobody\tx'),
        call(alice, rooms, 'create', 'alice\tgeneral chat'),
      ),
    ).toEqual([
      'APP_ABORT:only the owner of the name creates its room',
      'APP_ABORT:no such VOS name (register it first)',
      '',
    ]);
    expect(await run.block(call(bob, rooms, 'join', 'alice'), call(bob, rooms, 'join', 'alice'))).toEqual([
      '',
      '',
    ]);
    const found = await query(rooms, 'find', 'alice');
    expect(found.value).toBe('1');
    expect(JSON.parse(found.outputText!)).toMatchObject({
      name: 'alice',
      owner: alice.address.toHex(),
      topic: 'general chat',
      members: 1,
    });
    expect((await query(rooms, 'find', 'bob')).value).toBe('0');
    expect(JSON.parse((await query(rooms, 'list')).outputText!)).toHaveLength(1);
  }, 60_000);

  it('app store: executables published by the caller only; search by words; installs counted', async () => {
    const store = await install(bob, 'appstore.wasm');
    const code = await readFile(join(BUILD, 'counter.wasm'));
    const cid = CID.create(1, raw.code, await sha256.digest(code));
    const text = CID.create(1, raw.code, await sha256.digest(Buffer.from('a note')));
    const meta = { mime: 'application/wasm', title: 'Counter', description: 'counts calls', tags: ['demo'] };
    expect(
      await run.block(
        tx(alice, publishPayload.publish({ cid, size: code.length, kind: 'executable', ...meta })),
        tx(alice, publishPayload.publish({ cid: text, size: 6, ...meta, kind: 'text', mime: 'text/plain' })),
      ),
    ).toEqual(['', '']);
    const id = toHex(publishId(alice.address, cid.bytes));
    const note = toHex(publishId(alice.address, text.bytes));
    expect(
      await run.block(
        call(bob, store, 'submit', id),
        call(alice, store, 'submit', note),
        call(alice, store, 'submit', 'zz'),
        call(alice, store, 'submit', id),
      ),
    ).toEqual([
      'APP_ABORT:only the publisher submits an app',
      'APP_ABORT:only kind=executable records are apps',
      'APP_ABORT:input: a publish id (0x + 64 hex)',
      '',
    ]);
    expect(await run.block(call(bob, store, 'installed', id))).toEqual(['']);
    const hit = JSON.parse((await query(store, 'search', 'COUNTS counter')).outputText!);
    expect(hit).toEqual([
      {
        id,
        title: 'Counter',
        description: 'counts calls',
        cid: cid.toString(),
        owner: alice.address.toHex(),
        installs: 1,
      },
    ]);
    expect(JSON.parse((await query(store, 'search', 'chess')).outputText!)).toEqual([]);
  }, 60_000);

  it('an app account: funded by a transfer, spent only by the transfer host call', async () => {
    // refund(amount): transfer `amount` from the app's account to the caller; returns 0 or 1 (short).
    const code = wasmModule({
      types: [
        { params: [I32], results: [] },
        { params: [I32, I64], results: [I32] },
        { params: [I64], results: [I32] },
      ],
      imports: [
        { module: 'env', name: 'caller', type: 0 },
        { module: 'env', name: 'transfer', type: 1 },
      ],
      memory: [0x01, 0x00, 0x01],
      exports: [
        { name: 'memory', kind: 2, index: 0 },
        { name: 'refund', kind: 0, index: 2 },
      ],
      funcs: [{ type: 2, body: [0x41, 0, 0x10, 0, 0x41, 0, 0x20, 0, 0x10, 1] }],
    });
    const hash = createHash('sha256').update(code).digest();
    expect(await run.block(tx(alice, appPayload.deploy(code), 20_000_000n))).toEqual(['']);
    expect(await run.block(tx(alice, appPayload.create(hash)))).toEqual(['']);
    const app = appId(alice.address, nonces.get(alice.address.toString())!);
    const account = appAccount(app);
    expect(
      await run.block(tx(alice, { kind: TxKind.Transfer, body: { to: account, amount: 1000n } })),
    ).toEqual(['']);
    const before = (await chain.ledger.getAccount(bob.address)).balance;
    expect(await run.block(call(bob, app, 'refund', '', [400n]))).toEqual(['']);
    const receipts = (await chain.ledger.store.getReceipts(chain.ledger.head.height))!;
    expect(receipts[0].toJSON().events[0].attributes.value).toBe('0');
    expect(await run.block(call(bob, app, 'refund', '', [700n]))).toEqual(['']); // returns 1: short
    const r2 = (await chain.ledger.store.getReceipts(chain.ledger.head.height))!;
    expect(r2[0].toJSON().events[0].attributes.value).toBe('1');
    expect((await chain.ledger.getAccount(account)).balance).toBe(600n);
    const fees = receipts[0].gasUsed + r2[0].gasUsed; // gas price 1
    expect((await chain.ledger.getAccount(bob.address)).balance).toBe(before + 400n - fees);
  }, 60_000);

  it('deploy checks imports by name and type; off-chain imports only for --hosted instances', async () => {
    const importing = (nameOf: string, params: number[], results: number[]) =>
      wasmModule({
        types: [{ params, results }],
        imports: [{ module: 'env', name: nameOf, type: 0 }],
        funcs: [],
      });
    const hosted = importing('comm_send', [I32, I32, I32, I32], [I32]);
    const hostedHash = createHash('sha256').update(hosted).digest();
    expect(
      await run.block(
        tx(alice, appPayload.deploy(importing('fs_read', [], [])), 3_000_000n),
        tx(alice, appPayload.deploy(importing('storage_get', [I32], [I32])), 3_000_000n),
        tx(alice, appPayload.deploy(hosted), 3_000_000n),
      ),
    ).toEqual(['APP_UNKNOWN_IMPORT:env.fs_read', 'APP_IMPORT_TYPE:env.storage_get', '']);
    expect(
      await run.block(
        tx(alice, appPayload.create(hostedHash)),
        tx(alice, appPayload.create(hostedHash, true)),
      ),
    ).toEqual(['APP_HOSTED_ONLY_IMPORT:env.comm_send', '']);
    const app = appId(alice.address, nonces.get(alice.address.toString())!);
    expect(await run.block(call(alice, app, 'anything'))).toEqual(['APP_HOSTED_ONLY']);
    await expect(query(app, 'anything')).rejects.toMatchObject({ code: 'APP_HOSTED_ONLY' });
    // Names an object has by inheritance are not host calls (a lookup that found them would throw).
    expect(
      await run.block(
        ...['toString', '__proto__', 'constructor', 'hasOwnProperty'].map((n) =>
          tx(alice, appPayload.deploy(importing(n, [], [])), 3_000_000n),
        ),
      ),
    ).toEqual([
      'APP_UNKNOWN_IMPORT:env.toString',
      'APP_UNKNOWN_IMPORT:env.__proto__',
      'APP_UNKNOWN_IMPORT:env.constructor',
      'APP_UNKNOWN_IMPORT:env.hasOwnProperty',
    ]);
    // An on-chain instance cannot migrate to code that imports an off-chain API.
    const plain = importing('caller', [I32], []);
    expect(await run.block(tx(alice, appPayload.deploy(plain), 3_000_000n))).toEqual(['']);
    expect(
      await run.block(tx(alice, appPayload.create(createHash('sha256').update(plain).digest()))),
    ).toEqual(['']);
    const onChain = appId(alice.address, nonces.get(alice.address.toString())!);
    expect(await run.block(tx(alice, appPayload.migrate({ app: onChain, codeHash: hostedHash })))).toEqual([
      'APP_HOSTED_ONLY_IMPORT:env.comm_send',
    ]);
  }, 60_000);

  it('segments that do not fit the initial memory or table are refused at deploy; the chain goes on', async () => {
    const withData = (offset: number, bytes: number, pages: number) =>
      wasmModule({
        memory: [1, 0x00, pages],
        funcs: [],
        extra: [
          section(11, [1, 0x00, 0x41, ...sleb(offset), 0x0b, ...uleb(bytes), ...new Array(bytes).fill(7)]),
        ],
      });
    // One table of 2 entries, a segment of 1 function at `offset`: sections 4 and 9 go between the
    // function (3) and code (10) sections, so the module is put together here.
    const withElems = (offset: number) =>
      Uint8Array.from([
        ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
        ...section(1, [1, 0x60, 0, 1, I32]),
        ...section(3, [1, 0]),
        ...section(4, [1, 0x70, 0x00, 2]),
        ...section(9, [1, 0x00, 0x41, ...sleb(offset), 0x0b, 1, 0]),
        ...section(10, [1, 4, 0, 0x41, 0, 0x0b]),
      ]);
    expect(
      await run.block(
        tx(alice, appPayload.deploy(withData(65_530, 10, 1)), 3_000_000n),
        tx(alice, appPayload.deploy(withData(0, 1, 0)), 3_000_000n),
        tx(alice, appPayload.deploy(withData(-1, 1, 1)), 3_000_000n),
        tx(alice, appPayload.deploy(withData(65_526, 10, 1)), 3_000_000n),
        tx(alice, appPayload.deploy(withElems(2)), 3_000_000n),
        tx(alice, appPayload.deploy(withElems(1)), 3_000_000n),
      ),
    ).toEqual([
      'APP_WASM_LIMIT:segment-bounds',
      'APP_WASM_LIMIT:segment-bounds',
      'APP_WASM_LIMIT:segment-bounds',
      '',
      'APP_WASM_LIMIT:segment-bounds',
      '',
    ]);
  }, 60_000);
});
