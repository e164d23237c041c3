/**
 * App lifecycle txs on a real ledger (vm/state.ts): deploy the built counter app (a hostile module is
 * refused at deploy naming the rule), create an instance, call `increment` through txs: the app state
 * under app/state/<id> holds the count; too little gas is APP_OUT_OF_GAS and writes nothing; an unknown
 * method and wrong args are refused before anything runs; only the owner migrates. A second ledger that
 * applies the same blocks reaches the same state roots.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Commit } from '../../../chain/commit.js';
import { PrivateKey } from '../../../chain/keys.js';
import { ReceiptStatus } from '../../../chain/receipt.js';
import { Tx, type TxPayload } from '../../../chain/tx/index.js';
import { toHex } from '../../../util/bytes.js';
import { appId, appPayload, decodeAppState, stateKey } from '../../../vm/state.js';
import { openTestChain, produceBlock, type TestChain } from '../../helpers/chain.js';
import { wasmModule } from '../../helpers/wasm.js';

const BUILD = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'apps', 'build');
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(41));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(42));

const chains: TestChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
});

describe('app txs', () => {
  it('deploy, create, call on chain: state, halts as receipts, the same roots on a second node', async () => {
    const a = await openTestChain([alice], {
      extraAccounts: [{ address: bob.address, balance: 10n ** 15n }],
    });
    const b = await openTestChain([alice], {
      extraAccounts: [{ address: bob.address, balance: 10n ** 15n }],
    });
    chains.push(a, b);
    const nonces = new Map<string, bigint>();
    const sign = (k: PrivateKey, payload: TxPayload, gasLimit = 3_000_000n) => {
      const n = nonces.get(k.address.toHex()) ?? 0n;
      nonces.set(k.address.toHex(), n + 1n);
      return Tx.sign({ chainId: 'vos-test', nonce: n, payload, gasLimit, gasPrice: 1n }, k);
    };
    let last: Commit | null = null;
    const block = async (...txs: Tx[]) => {
      const r = await produceBlock(a, txs, last);
      last = r.commit;
      expect(r.dropped).toEqual([]);
      const v = await b.ledger.executeBlock(r.block);
      await b.ledger.commitBlock(r.block, r.commit, v);
      expect(toHex(b.ledger.head.stateRoot)).toBe(toHex(a.ledger.head.stateRoot));
      return r.execution.receipts.map((x) => (x.status === ReceiptStatus.Ok ? '' : x.error));
    };
    const code = new Uint8Array(await readFile(join(BUILD, 'counter.wasm')));
    const hash = createHash('sha256').update(code).digest();
    const simd = wasmModule({
      funcs: [{ type: 0, body: [0xfd, 0x0c, ...new Array(16).fill(0), 0x1a, 0x41, 0] }],
    });
    // Allowed opcodes but ill-typed (i32.add with nothing on the stack): V8 refuses it at deploy.
    const illTyped = wasmModule({ funcs: [{ type: 0, body: [0x6a, 0x41, 0] }] });
    expect(
      await block(
        sign(alice, appPayload.deploy(code)),
        sign(alice, appPayload.deploy(simd)),
        sign(alice, appPayload.deploy(illTyped)),
      ),
    ).toEqual(['', 'APP_WASM_FORBIDDEN:simd', 'APP_INVALID_MODULE']);
    const createNonce = nonces.get(alice.address.toHex()) ?? 0n;
    expect(await block(sign(alice, appPayload.create(hash)))).toEqual(['']);
    const id = appId(alice.address, createNonce);
    const call = (k: PrivateKey, method: string, gas = 1_000_000n, args: bigint[] = []) =>
      sign(k, appPayload.call({ app: id, method, args, gas, input: new Uint8Array(0) }));
    expect(await block(call(alice, 'increment'), call(bob, 'increment'))).toEqual(['', '']);
    const count = async () => {
      const s = decodeAppState(await a.ledger.getState(stateKey(id)));
      const v = s.get('count');
      return v === undefined ? 0n : Buffer.from(v).readBigUInt64LE(0);
    };
    expect(await count()).toBe(2n);
    expect(
      await block(
        call(bob, 'increment', 1_000n),
        call(bob, 'nope'),
        call(bob, 'increment', 1_000_000n, [7n]),
        call(bob, '__vos_gas'),
      ),
    ).toEqual(['APP_OUT_OF_GAS', 'APP_UNKNOWN_METHOD', 'APP_BAD_ARGS', 'APP_UNKNOWN_METHOD']);
    expect(await count()).toBe(2n);
    expect(
      await block(
        sign(bob, appPayload.migrate({ app: id, codeHash: hash })),
        sign(alice, appPayload.migrate({ app: id, codeHash: hash })),
      ),
    ).toEqual(['APP_NOT_OWNER', '']);
  }, 60_000);
});
