/**
 * The page's light client (web/src/light.ts) bundled as the web build bundles it (esbuild, platform
 * browser, web/platform.mjs) and run in a bare V8 context: no Buffer, no process, no node:crypto, only
 * what a browser also has. Against answers of a real test chain: an honest name_resolve answer
 * verifies (with the same proven fields as the node's own check), the trust anchor is pinned in
 * localStorage, and tampered records, a forged signature or a missing proof do not verify.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build, type Plugin } from 'esbuild';
import type { Commit } from '../../../chain/commit.js';
import { PrivateKey } from '../../../chain/keys.js';
import { DEFAULT_NAMING_PARAMS } from '../../../chain/ledger/params.js';
import { inlineVerifier } from '../../../chain/ledger/verifier.js';
import { buildStateProofAnswer } from '../../../chain/light-client.js';
import { Tx, type TxPayload } from '../../../chain/tx/index.js';
import { totalPower, validatorToJSON } from '../../../chain/validators.js';
import { type NamingApiDeps, resolveName } from '../../../services/naming/api.js';
import { commitHash } from '../../../services/naming/layout.js';
import { type NameAnswerJSON, verifyNameAnswer } from '../../../services/naming/light.js';
import { EMPTY_RECORDS } from '../../../services/naming/records.js';
import { namePayload } from '../../../services/naming/state.js';
import { toHex } from '../../../util/bytes.js';
import { openTestChain, produceBlock, type TestChain } from '../../helpers/chain.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const keys = [51, 52, 53, 54].map((i) => PrivateKey.fromSeed(new Uint8Array(32).fill(i)));

interface Check {
  verified: boolean;
  reason?: string;
  proven?: unknown;
  signedPower?: string;
  totalPower?: string;
}
interface BundledLight {
  checkNameAnswer(rpc: unknown, chainId: string, answer: unknown): Promise<Check>;
}

let chain: TestChain;
let deps: NamingApiDeps<Awaited<ReturnType<typeof buildStateProofAnswer>>>;
let light: BundledLight;
let storage: Map<string, string>;

/** The node's answers to what the page asks, as JSON (what POST / would carry). */
function fakeRpc() {
  const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));
  const handlers: Record<string, (p: unknown[]) => Promise<unknown>> = {
    chain_getParams: async () =>
      json({
        naming: {
          ...DEFAULT_NAMING_PARAMS,
          pricesByLength: DEFAULT_NAMING_PARAMS.pricesByLength.map(String),
        },
      }),
    chain_getHeader: async ([h]) => {
      const b = await chain.ledger.store.getBlock(h as number);
      return b === undefined ? null : json({ ...b.header.toJSON(), hash: toHex(b.hash()) });
    },
    chain_getCommit: async ([h]) => json((await chain.ledger.store.getCommit(h as number))?.toJSON() ?? null),
    chain_getValidators: async ([h]) => {
      const vals = await chain.ledger.validatorsAt(h as number);
      return json({
        height: h,
        totalPower: totalPower(vals).toString(),
        validators: vals.map(validatorToJSON),
      });
    },
  };
  const call = (method: string, params: unknown[] = []) => {
    const h = handlers[method];
    return h === undefined ? Promise.reject(new Error(`no ${method}`)) : h(params);
  };
  return {
    call,
    callRaw: call,
    batch: (calls: { method: string; params?: unknown[] }[]) =>
      Promise.all(calls.map((c) => call(c.method, c.params).catch((e: Error) => e))),
  };
}

/** Bundle web/src/light.ts for the browser and evaluate it in a context without Node's globals. */
async function loadBundledLight(): Promise<BundledLight> {
  const pluginUrl = pathToFileURL(join(ROOT, 'web', 'platform.mjs')).href;
  const { browserPlatform } = (await import(pluginUrl)) as { browserPlatform: (root: string) => Plugin };
  const out = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'web', 'src', 'light.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'VosLight',
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
    localStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
      removeItem: (k: string) => void storage.delete(k),
    },
  });
  // TextEncoder of this context's own realm (its Uint8Array), as a browser's is.
  runInContext(
    'globalThis.TextEncoder = class { encode(s) { return new Uint8Array(hostEncode(String(s))); } };',
    context,
  );
  expect(runInContext('typeof Buffer + typeof process + typeof require', context)).toBe(
    'undefinedundefinedundefined',
  );
  runInContext(out.outputFiles[0].text, context);
  return runInContext('VosLight', context) as BundledLight;
}

beforeAll(async () => {
  chain = await openTestChain(keys);
  let last: Commit | null = null;
  let nonce = 0n;
  const send = async (payload: TxPayload) => {
    const tx = Tx.sign(
      { chainId: 'vos-test', nonce: nonce++, payload, gasLimit: 200_000n, gasPrice: 1n },
      keys[0],
    );
    last = (await produceBlock(chain, [tx], last)).commit;
  };
  const salt = randomBytes(32);
  await send(namePayload.commit(commitHash('webname', keys[0].address, salt)));
  await send(namePayload.reveal('webname', salt));
  await send(
    namePayload.update('webname', {
      ...EMPTY_RECORDS,
      endpoints: [
        { kind: 'ip4', value: '10.9.8.7', weight: 2 },
        { kind: 'ip6', value: '2001:db8::7', weight: 1 },
        { kind: 'multiaddr', value: '/ip4/10.9.8.7/tcp/4001', weight: 1 },
      ],
      txt: ['hello browser'],
    }),
  );
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
  light = await loadBundledLight();
}, 60_000);
afterAll(() => chain.close());

const answer = async (name: string) =>
  JSON.parse(JSON.stringify(await resolveName(deps, name, true))) as NameAnswerJSON;

describe("the page's light client, bundled for the browser, in a context without Node", () => {
  it('verifies an honest answer as the node does and pins the genesis set', async () => {
    const a = await answer('webname');
    const check = await light.checkNameAnswer(fakeRpc(), 'vos-test', a);
    expect(check.reason).toBeUndefined();
    expect(check.verified).toBe(true);
    expect(check.signedPower).toBe(check.totalPower);
    const node = await verifyNameAnswer(
      a,
      {
        chainId: 'vos-test',
        validators: await chain.ledger.validatorsAt(a.height),
        naming: DEFAULT_NAMING_PARAMS,
      },
      inlineVerifier,
    );
    expect(JSON.parse(JSON.stringify(check.proven))).toEqual(JSON.parse(JSON.stringify(node)));
    const pinned = JSON.parse(storage.get('vos.trust.vos-test') ?? 'null');
    expect(pinned.pinnedHeight).toBe(1);
    expect(pinned.state.height).toBe(a.height);
  });

  it('verifies a proof of absence for a free name', async () => {
    const check = await light.checkNameAnswer(fakeRpc(), 'vos-test', await answer('nobody-here'));
    expect(check.verified).toBe(true);
  });

  it('does not verify tampered records, a forged signature, a missing proof or another chain', async () => {
    const honest = await answer('webname');
    const records = JSON.parse(JSON.stringify(honest)) as NameAnswerJSON & { records: { txt: string[] } };
    records.records.txt = ['tampered'];
    const r1 = await light.checkNameAnswer(fakeRpc(), 'vos-test', records);
    expect(r1).toMatchObject({ verified: false });
    expect(r1.reason).toMatch(/records are not the proven ones/);

    const forged = JSON.parse(JSON.stringify(honest)) as NameAnswerJSON;
    const sig = forged.proof!.commit.signatures.find((s) => s.signature !== null)!;
    sig.signature = `0x${'11'.repeat(64)}`;
    const r2 = await light.checkNameAnswer(fakeRpc(), 'vos-test', forged);
    expect(r2.verified).toBe(false);
    expect(r2.reason).toMatch(/signature/);

    const bare = { ...honest, proof: undefined };
    expect((await light.checkNameAnswer(fakeRpc(), 'vos-test', bare)).verified).toBe(false);

    const other = await light.checkNameAnswer(fakeRpc(), 'vos-other', honest);
    expect(other.verified).toBe(false);
  });
});
