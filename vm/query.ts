/**
 * app_query: a read-only call against committed state at one height (every read, the app's state
 * included, is of that height). It runs the same instrumented module and gas as a tx, with the node's
 * own gas cap; nothing it writes is kept. The answer carries what a tx receipt would (value, output,
 * events, gas used) plus the app's debug log.
 */
import { Address } from '../chain/address.js';
import { TxFailure } from '../chain/ledger/failure.js';
import { toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import { runCall } from './call.js';
import { appAccount, prepareCall } from './state.js';

/** The gas a query may use unless the node configures another cap. */
export const DEFAULT_QUERY_GAS = 100_000_000n;

export interface QueryDeps {
  /** State at a committed height. */
  getAt(key: Uint8Array, height: number): Promise<Uint8Array | undefined>;
  head(): { height: number; time: number };
  maxGas: bigint;
}

export interface AppQuery {
  app: Uint8Array;
  method: string;
  args: bigint[];
  input: Uint8Array;
  /** The caller the app sees (zero address when absent). */
  from?: Address;
  gas?: bigint;
}

/** A call refused before it ran (unknown app, method or args, gas over the cap). */
export class AppQueryError extends VosError<{ code: string }> {}

const textOf = (b: Uint8Array): string | null => {
  const s = Buffer.from(b).toString('utf8');
  return Buffer.from(s, 'utf8').equals(Buffer.from(b)) ? s : null;
};

export function effectsToJSON(r: {
  halt: string;
  value?: number | bigint;
  gasUsed: bigint;
  message?: string;
  effects: { output: Uint8Array; events: { topic: Uint8Array; data: Uint8Array }[]; logs: string[] };
}) {
  return {
    halt: r.halt,
    value: r.value === undefined ? null : String(r.value),
    gasUsed: r.gasUsed.toString(),
    output: toHex(r.effects.output),
    outputText: textOf(r.effects.output),
    events: r.effects.events.map((e) => ({
      topic: Buffer.from(e.topic).toString('utf8'),
      data: toHex(e.data),
      dataText: textOf(e.data),
    })),
    logs: r.effects.logs,
    ...(r.message !== undefined && r.halt !== 'ok' ? { message: r.message } : {}),
  };
}

export async function queryApp(d: QueryDeps, q: AppQuery) {
  const gas = q.gas ?? d.maxGas;
  if (gas > d.maxGas)
    throw new AppQueryError({ code: 'APP_GAS_CAP' }, `gas ${gas} is over this node's query cap ${d.maxGas}`);
  const { height, time } = d.head();
  const read = (key: Uint8Array) => d.getAt(key, height);
  let p: Awaited<ReturnType<typeof prepareCall>>;
  try {
    p = await prepareCall({ get: read }, q.app, q.method, q.args);
  } catch (err) {
    if (err instanceof TxFailure) throw new AppQueryError({ code: err.code }, messageOf(err.code));
    throw err;
  }
  const r = await runCall({
    ...p,
    gas,
    env: {
      caller: (q.from ?? new Address(new Uint8Array(20))).bytes,
      self: q.app,
      account: appAccount(q.app).bytes,
      height,
      time,
      input: q.input,
    },
    read,
  });
  return { height, ...effectsToJSON(r) };
}

const MESSAGES: Record<string, string> = {
  APP_NOT_FOUND: 'no app with this id',
  APP_CODE_NOT_FOUND: "the app's code is not on chain",
  APP_UNKNOWN_METHOD: 'the app exports no such method',
  APP_BAD_ARGS: "the args do not match the method's params",
  APP_HOSTED_ONLY: 'this app is hosted off chain: call it through a node that serves it',
};

function messageOf(code: string): string {
  return MESSAGES[code] ?? code;
}
