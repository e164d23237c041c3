/** The app RPC answers (app_query, app_get, app_list), read from committed state. */
import { Address } from '../chain/address.js';
import { accountKey, decodeAccount } from '../chain/ledger/accounts.js';
import { TxFailure } from '../chain/ledger/failure.js';
import { fromHex, toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { type AppQuery, AppQueryError, type QueryDeps, queryApp } from './query.js';
import {
  APP_INST_PREFIX,
  appAccount,
  decodeInstance,
  type Instance,
  instanceKey,
  loadApp,
  stateKey,
} from './state.js';
import { I64 } from './wasm/opcodes.js';

export interface AppApiDeps extends QueryDeps {
  /** The chain DB's index of app/inst/ keys (written with each block). */
  indexed(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export interface AppQueryParams {
  app: string;
  method: string;
  args?: string[];
  input?: string;
  inputText?: string;
  from?: string;
  gas?: string;
}

const invalid = (code: string, message: string) => new AppQueryError({ code }, message);

/** Query params to an AppQuery: args as u64 words (negative numbers two's complement). */
export function toAppQuery(p: AppQueryParams): AppQuery {
  if (p.input !== undefined && p.inputText !== undefined)
    throw invalid('INVALID_PARAMS', 'give input (hex) or inputText, not both');
  const words = (p.args ?? []).map((a) => BigInt.asUintN(64, BigInt(a)));
  for (const [i, a] of (p.args ?? []).entries()) {
    const n = BigInt(a);
    if (n < -(1n << 63n) || n >= 1n << 64n)
      throw invalid('APP_BAD_ARGS', `args[${i}] is out of the 64-bit range`);
  }
  return {
    app: fromHex(p.app, 32),
    method: p.method,
    args: words,
    input:
      p.inputText !== undefined ? new Uint8Array(Buffer.from(p.inputText, 'utf8')) : fromHex(p.input ?? '0x'),
    from: p.from === undefined ? undefined : Address.fromString(p.from),
    gas: p.gas === undefined ? undefined : BigInt(p.gas),
  };
}

export const appQuery = (d: AppApiDeps, p: AppQueryParams) => queryApp(d, toAppQuery(p));

function summary(id: Uint8Array, i: Instance) {
  return {
    app: toHex(id),
    codeHash: toHex(i.codeHash),
    owner: i.owner.toString(),
    createdAt: i.createdAt,
    hosted: i.hosted,
  };
}

export async function appGet(d: AppApiDeps, app: string) {
  const id = fromHex(app, 32);
  const { height } = d.head();
  const get = (key: Uint8Array) => d.getAt(key, height);
  if ((await get(instanceKey(id))) === undefined) return null;
  let loaded: Awaited<ReturnType<typeof loadApp>>;
  try {
    // The compiled module (cached) knows its exports: nothing is decoded again.
    loaded = await loadApp({ get }, id, { hosted: true });
  } catch (err) {
    if (err instanceof TxFailure) throw new VosError({ code: err.code }, "the app's code is not on chain");
    throw err;
  }
  const { app: compiled, instance } = loaded;
  const methods = [...compiled.exports]
    .filter(([name]) => !name.startsWith('__vos') && name !== '_initialize')
    .map(([name, params]) => ({ name, params: params.map((t) => (t === I64 ? 'i64' : 'i32')) }));
  const account = appAccount(id);
  const acct = await get(accountKey(account));
  const state = await get(stateKey(id));
  return {
    ...summary(id, instance),
    account: account.toString(),
    balance: (acct === undefined ? 0n : decodeAccount(acct).balance).toString(),
    methods,
    stateBytes: state?.length ?? 0,
  };
}

export async function appList(d: AppApiDeps, q: { owner?: string; codeHash?: string; limit?: number }) {
  const owner = q.owner === undefined ? undefined : Address.fromString(q.owner);
  const code = q.codeHash === undefined ? undefined : toHex(fromHex(q.codeHash, 32));
  const all: ReturnType<typeof summary>[] = [];
  for await (const [k, v] of d.indexed(APP_INST_PREFIX)) {
    const i = decodeInstance(v);
    if (owner !== undefined && !i.owner.equals(owner)) continue;
    if (code !== undefined && toHex(i.codeHash) !== code) continue;
    all.push(summary(k.subarray(APP_INST_PREFIX.length), i));
  }
  all.sort((a, b) => b.createdAt - a.createdAt || (a.app < b.app ? -1 : 1));
  return all.slice(0, q.limit ?? 100);
}
