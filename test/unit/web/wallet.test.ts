/**
 * The page's wallet (web/src/wallet.ts) bundled as the web build bundles it (esbuild, platform
 * browser, web/platform.mjs) and run in a bare V8 context: no Buffer, no process, no node:crypto
 * (its signing functions throw in the bundle), only what a browser has. Against the node's own code:
 * - the key of a seed has the node's public key and address;
 * - app-deploy, app-create and app-call txs signed in the bundle are byte for byte the txs the node's
 *   Tx.sign makes with appPayload (same hash), decode with createTxFromRlp and verify with the node's
 *   verifier; the gas limits cover txGas and are the CLI's;
 * - sendTx against a test chain (a real ledger behind a fake RPC): the counter is deployed, created
 *   and incremented by txs from the bundle, their receipts ok; an unfunded key is refused before
 *   anything is signed, with the command that funds it;
 * - the key is made once and kept in localStorage.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build, type Plugin } from 'esbuild';
import type { Commit } from '../../../chain/commit.js';
import { PrivateKey } from '../../../chain/keys.js';
import { txGas } from '../../../chain/ledger/gas.js';
import { createTxFromRlp, Tx, type TxPayload } from '../../../chain/tx/index.js';
import { fromHex, toHex } from '../../../util/bytes.js';
import { AppTxKind, appPayload, codeKey } from '../../../vm/state.js';
import { openTestChain, produceBlock, type TestChain } from '../../helpers/chain.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const COUNTER = join(ROOT, 'apps', 'build', 'counter.wasm');

type Bytes = Uint8Array;
interface Key {
  publicKey: Bytes;
  address: string;
  sign(m: Bytes): Bytes;
}
interface Draft {
  kind: number;
  payload: Bytes;
  gasLimit: bigint;
}
interface BundledTx {
  serialize(): Bytes;
  hash(): Bytes;
  size: number;
}
interface BundledWallet {
  APP_KIND: { deploy: number; create: number; call: number };
  keyFromSeed(seed: Bytes): Key;
  browserKey(store?: unknown): { key: Key; created: boolean };
  appTx: {
    deploy(code: Bytes): Draft;
    create(hash: Bytes, hosted?: boolean): Draft;
    call(c: { app: string; method: string; args: string[]; gas: bigint; input: Bytes }): Draft;
  };
  codeHashOf(code: Bytes): Bytes;
  codeStateKey(hash: Bytes): string;
  signTx(key: Key, d: Draft, o: { chainId: string; nonce: bigint; gasPrice: bigint }): BundledTx;
  sendTx(
    rpc: unknown,
    key: Key,
    d: Draft,
  ): Promise<{
    hash: string;
    height: number;
    fee: bigint;
    receipt: {
      status: string;
      error: string | null;
      events: { type: string; attributes: Record<string, string> }[];
    };
  }>;
}

const keys = [61, 62, 63, 64].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));
let wallet: BundledWallet;
let storage: Map<string, string>;
/** Bytes of the bundle's realm (the chain code checks `instanceof Uint8Array` there). */
let inCtx: (b: Uint8Array) => Bytes;
const hex = (b: Uint8Array) => Buffer.from(Uint8Array.from(b)).toString('hex');

async function loadBundledWallet(): Promise<BundledWallet> {
  const pluginUrl = pathToFileURL(join(ROOT, 'web', 'platform.mjs')).href;
  const { browserPlatform } = (await import(pluginUrl)) as { browserPlatform: (root: string) => Plugin };
  const out = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'web', 'src', 'wallet.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'VosWallet',
    platform: 'browser',
    target: ['es2022'],
    tsconfig: join(ROOT, 'web', 'tsconfig.json'),
    plugins: [browserPlatform(ROOT)],
    logLevel: 'silent',
  });
  storage = new Map();
  const encoder = new TextEncoder();
  const context = createContext({
    console,
    URL,
    TextDecoder,
    hostEncode: (s: string) => Array.from(encoder.encode(s)),
    hostRandom: (n: number) => Array.from(globalThis.crypto.getRandomValues(new Uint8Array(n))),
    localStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    },
  });
  runInContext(
    [
      'globalThis.TextEncoder = class { encode(s) { return new Uint8Array(hostEncode(String(s))); } };',
      'globalThis.crypto = { getRandomValues(a) { a.set(hostRandom(a.length)); return a; } };',
    ].join('\n'),
    context,
  );
  expect(runInContext('typeof Buffer + typeof process + typeof require', context)).toBe(
    'undefinedundefinedundefined',
  );
  runInContext(out.outputFiles[0].text, context);
  const U8 = runInContext('Uint8Array', context) as typeof Uint8Array;
  inCtx = (b) => U8.from(b);
  return runInContext('VosWallet', context) as BundledWallet;
}

/** The same tx signed by the node (Tx.sign, node:crypto) and by the bundle (noble): the same bytes. */
function sameTx(key: PrivateKey, payload: TxPayload, d: Draft, nonce: bigint) {
  const o = { chainId: 'vos-test', nonce, gasPrice: 3n };
  const browser = wallet.signTx(wallet.keyFromSeed(inCtx(key.exportSeed())), d, o);
  const node = Tx.sign({ ...o, payload, gasLimit: d.gasLimit }, key);
  expect(hex(browser.serialize())).toBe(hex(node.serialize()));
  expect(hex(browser.hash())).toBe(hex(node.hash()));
  const decoded = createTxFromRlp(Uint8Array.from(browser.serialize()));
  expect(decoded.verifySignature()).toBe(true);
  expect(decoded.sender.toString()).toBe(key.address.toString());
  expect(decoded.kind).toBe(payload.kind === 'module' ? payload.id : payload.kind);
  // The draft's gas limit covers what the tx needs, with the CLI's margin for the tx around the payload.
  expect(d.gasLimit).toBeGreaterThanOrEqual(txGas(decoded));
  expect(d.gasLimit - txGas(decoded)).toBeLessThanOrEqual(16n * 512n);
  return decoded;
}

/** A node as the page sees it, over a test chain: each tx_sendCommit is a block. */
function chainRpc(chain: TestChain) {
  let last: Commit | null = null;
  const json = <T>(v: T): T =>
    JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)));
  const sent: string[] = [];
  const handlers: Record<string, (p: unknown[]) => Promise<unknown>> = {
    chain_getParams: async () => json({ chainId: 'vos-test', minGasPrice: chain.ledger.params.minGasPrice }),
    chain_getAccount: async ([a]) => {
      const { Address } = await import('../../../chain/address.js');
      const acct = await chain.ledger.getAccount(Address.fromString(a as string));
      return json({ address: a, balance: acct.balance, nonce: acct.nonce, pendingNonce: acct.nonce });
    },
    tx_sendCommit: async ([raw]) => {
      sent.push(raw as string);
      const tx = createTxFromRlp(fromHex(raw as string));
      if (!tx.verifySignature())
        throw Object.assign(new Error('bad signature'), { data: { code: 'TX_INVALID_SIGNATURE' } });
      const r = await produceBlock(chain, [tx], last);
      last = r.commit;
      if (r.dropped.length > 0)
        throw Object.assign(new Error(String(r.dropped[0].error)), { data: { code: 'TX_REFUSED' } });
      return json({
        hash: toHex(tx.hash()),
        height: r.block.height,
        index: 0,
        receipt: r.execution.receipts[0].toJSON(),
      });
    },
  };
  return {
    sent,
    rpc: {
      callRaw: (method: string, params: unknown[] = []) => {
        const h = handlers[method];
        return h === undefined ? Promise.reject(new Error(`no ${method}`)) : h(params);
      },
    },
  };
}

let chain: TestChain;
beforeAll(async () => {
  wallet = await loadBundledWallet();
  chain = await openTestChain(keys);
}, 60_000);
afterAll(() => chain.close());

describe('the page wallet, bundled for the browser, against the node', () => {
  it('a seed gives the node key: public key and address', () => {
    for (const k of keys) {
      const w = wallet.keyFromSeed(inCtx(k.exportSeed()));
      expect(hex(w.publicKey)).toBe(hex(k.publicKey));
      expect(w.address).toBe(k.address.toString());
      const msg = new TextEncoder().encode('vos wallet test');
      expect(hex(w.sign(inCtx(msg)))).toBe(hex(k.sign(msg)));
    }
    expect(wallet.APP_KIND).toEqual({
      deploy: AppTxKind.Deploy,
      create: AppTxKind.Create,
      call: AppTxKind.Call,
    });
  });

  it('app txs signed in the bundle are the bytes the node signs, and verify', async () => {
    const code = new Uint8Array(await readFile(COUNTER));
    const codeHash = Uint8Array.from(wallet.codeHashOf(inCtx(code)));
    expect(hex(codeHash)).toBe(createHash('sha256').update(code).digest('hex'));
    expect(wallet.codeStateKey(inCtx(codeHash))).toBe(toHex(codeKey(codeHash)));
    const deploy = sameTx(keys[0], appPayload.deploy(code), wallet.appTx.deploy(inCtx(code)), 0n);
    expect(deploy.toJSON().payload).toEqual({ codeHash: toHex(codeHash), size: code.length });
    sameTx(keys[1], appPayload.create(codeHash, false), wallet.appTx.create(inCtx(codeHash)), 7n);
    sameTx(keys[1], appPayload.create(codeHash, true), wallet.appTx.create(inCtx(codeHash), true), 8n);
    const app = `0x${'ab'.repeat(32)}`;
    const input = new TextEncoder().encode('hello from the page');
    for (const args of [[], ['1', '-1', '18446744073709551615', '-9223372036854775808']]) {
      const decoded = sameTx(
        keys[2],
        appPayload.call({
          app: fromHex(app),
          method: 'increment',
          args: args.map((a) => BigInt.asUintN(64, BigInt(a))),
          gas: 1_234_567n,
          input,
        }),
        wallet.appTx.call({ app, method: 'increment', args, gas: 1_234_567n, input: inCtx(input) }),
        123_456_789n,
      );
      expect(decoded.toJSON().payload).toMatchObject({ app, method: 'increment', gas: '1234567' });
    }
    expect(() =>
      wallet.appTx.call({ app, method: 'm', args: ['1.5'], gas: 1n, input: inCtx(new Uint8Array()) }),
    ).toThrow(/not an integer/);
  });

  it('sendTx: the counter deployed, created and incremented on a chain by txs from the bundle', async () => {
    const { rpc, sent } = chainRpc(chain);
    const key = wallet.keyFromSeed(inCtx(keys[3].exportSeed()));
    const code = new Uint8Array(await readFile(COUNTER));
    const deployed = await wallet.sendTx(rpc, key, wallet.appTx.deploy(inCtx(code)));
    expect(deployed.receipt).toMatchObject({ status: 'ok', error: null });
    expect(deployed.fee).toBeGreaterThan(0n);
    const codeHash = wallet.codeHashOf(inCtx(code));
    expect(await chain.ledger.getState(codeKey(Uint8Array.from(codeHash)))).toBeDefined();
    const created = await wallet.sendTx(rpc, key, wallet.appTx.create(codeHash));
    expect(created.receipt.status).toBe('ok');
    const app = created.receipt.events.find((e) => e.type === 'app-create')?.attributes.app as string;
    expect(app).toMatch(/^0x[0-9a-f]{64}$/);
    for (const want of ['1', '2']) {
      const called = await wallet.sendTx(
        rpc,
        key,
        wallet.appTx.call({
          app,
          method: 'increment',
          args: [],
          gas: 1_000_000n,
          input: inCtx(new Uint8Array()),
        }),
      );
      expect(called.receipt.status).toBe('ok');
      expect(called.receipt.events.find((e) => e.type === 'app-call')?.attributes.value).toBe(want);
    }
    expect(sent).toHaveLength(4);
    // Nonces in order: each tx was the next of the account.
    expect(sent.map((raw) => createTxFromRlp(fromHex(raw)).nonce)).toEqual([0n, 1n, 2n, 3n]);
  });

  it('an unfunded key is refused before signing, with the command that funds it', async () => {
    const { rpc, sent } = chainRpc(chain);
    const poor = wallet.keyFromSeed(inCtx(new Uint8Array(32).fill(99)));
    const err = await wallet.sendTx(rpc, poor, wallet.appTx.create(inCtx(new Uint8Array(32)))).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('UNFUNDED');
    expect(err?.message).toContain(`vos tx transfer --to ${poor.address} --amount`);
    expect(sent).toHaveLength(0);
  });

  it('the key is made once and kept in localStorage', () => {
    storage.clear();
    const first = wallet.browserKey();
    expect(first.created).toBe(true);
    expect([...storage.keys()]).toEqual(['vos.wallet.v1']);
    const again = wallet.browserKey();
    expect(again.created).toBe(false);
    expect(again.key.address).toBe(first.key.address);
    const seed = fromHex(JSON.parse(storage.get('vos.wallet.v1') as string).seed, 32);
    expect(PrivateKey.fromSeed(seed).address.toString()).toBe(first.key.address);
    storage.set('vos.wallet.v1', 'not json');
    expect(() => wallet.browserKey()).toThrow(/unreadable/);
  });
});
