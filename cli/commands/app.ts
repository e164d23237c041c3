/**
 * `vos app ...`: WASM apps on chain.
 *   deploy FILE.wasm [--hosted] [--no-create]   the code (stored by hash), then an instance of it
 *                                               (`--json`: {app, codeHash, height, hosted})
 *   instantiate CODEHASH [--hosted]             another instance of deployed code
 *   call APP METHOD [ARGS...] [--input TEXT]    a tx: waits for the commit, prints the value and output
 *   query APP METHOD [ARGS...] [--input TEXT]   read-only, nothing kept (app_query)
 *   list [--owner ADDR] · show APP              instances; one instance with its methods and account
 *   install PUBLISH_ID [--store APP]            fetch a published executable, deploy and instantiate it
 *   serve APP                                   host an app on this node (admin token of the home)
 *   call APP METHOD --via NODE                  call an app NODE hosts, over comm (no tx)
 * ARGS are integers passed by the method's params (i32 or i64); text and bytes go as --input.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { GAS, kindGas } from '../../chain/ledger/gas.js';
import type { TxPayload } from '../../chain/tx/kinds.js';
import { MAX_TX_BYTES } from '../../chain/tx/tx.js';
import { homePaths } from '../../node/config.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { appId, appPayload } from '../../vm/state.js';
import {
  adminClient,
  type NodeOptions,
  resolveHome,
  resolveRpcUrl,
  rpcClient,
  signingKey,
} from '../context.js';
import { CliError, emit, parseAmount } from '../output.js';
import { submit, type TxCliOptions, withTxOptions } from './tx.js';

interface AppOptions extends TxCliOptions {
  via?: string;
  hosted?: boolean;
  create?: boolean;
  input?: string;
  inputHex?: string;
  inputFile?: string;
  gas?: string;
  owner?: string;
  store?: string;
  limit?: string;
}

const DEFAULT_CALL_GAS = 10_000_000n;
/** A tx is at most MAX_TX_BYTES; the rest of a deploy tx (nonce, gas, signature, key) fits in 512. */
const MAX_DEPLOY_BYTES = MAX_TX_BYTES - 512;

/** A tx's gas limit: its kind's gas plus the intrinsic gas of a payload of `bytes` (+512: the rest). */
function gasFor(payload: TxPayload, bytes: number): bigint {
  const p = payload as { id: number; body: unknown };
  return kindGas(p.id, p.body) + GAS.txBase + GAS.perTxByte * BigInt(bytes + 512);
}

const tooLarge = (what: string, size: string) =>
  new CliError(
    `${what} is ${size} bytes: one deploy tx carries at most ${MAX_DEPLOY_BYTES} bytes of code`,
    1,
    'TOO_LARGE',
  );

/** A response's body, refused (and no longer read) once it is over MAX_DEPLOY_BYTES. */
export async function readCode(res: Response, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > MAX_DEPLOY_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(what, String(declared));
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_DEPLOY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(what, `over ${MAX_DEPLOY_BYTES}`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function hexId(s: string, what: string): Uint8Array {
  try {
    return fromHex(s, 32);
  } catch {
    throw new CliError(`${what} is 0x + 64 hex characters, got ${JSON.stringify(s)}`, 2, 'INVALID_ARGUMENT');
  }
}

function parseArgs(args: string[]): string[] {
  for (const a of args)
    if (!/^-?[0-9]{1,20}$/.test(a))
      throw new CliError(
        `argument ${JSON.stringify(a)} is not an integer (pass text with --input)`,
        2,
        'INVALID_ARGUMENT',
      );
  return args;
}

async function inputOf(o: AppOptions): Promise<Uint8Array> {
  const given = [o.input, o.inputHex, o.inputFile].filter((x) => x !== undefined);
  if (given.length > 1)
    throw new CliError('give one of --input, --input-hex, --input-file', 2, 'INVALID_ARGUMENT');
  if (o.input !== undefined) return new Uint8Array(Buffer.from(o.input, 'utf8'));
  if (o.inputHex !== undefined) {
    try {
      return fromHex(o.inputHex);
    } catch (err) {
      throw new CliError(`--input-hex: ${(err as Error).message}`, 2, 'INVALID_ARGUMENT');
    }
  }
  if (o.inputFile !== undefined) return new Uint8Array(await readFile(o.inputFile));
  return new Uint8Array(0);
}

const withInput = (cmd: Command) =>
  cmd
    .option('--input <text>', 'input text the app reads (UTF-8)')
    .option('--input-hex <hex>', 'input bytes as 0x-hex')
    .option('--input-file <file>', 'input bytes from a file')
    .option('--gas <n>', 'gas budget of the call');

async function deployCode(o: AppOptions, code: Uint8Array) {
  const deploy = appPayload.deploy(code);
  const d = await submit({ ...o, gasLimit: o.gasLimit ?? String(gasFor(deploy, code.length)) }, deploy);
  const codeHash = createHash('sha256').update(code).digest();
  return { codeHash, height: d.height };
}

async function instantiate(o: AppOptions, codeHash: Uint8Array, hosted: boolean) {
  const key = await signingKey(o);
  const client = await rpcClient(o);
  const acct = await client.call<{ nonce: string; pendingNonce?: string }>('chain_getAccount', [
    key.address.toString(),
  ]);
  const nonce = BigInt(acct.pendingNonce ?? acct.nonce);
  const create = appPayload.create(codeHash, hosted);
  const r = await submit({ ...o, gasLimit: o.gasLimit ?? String(gasFor(create, 64)) }, create);
  // The id comes from the creator's nonce: check it against the receipt's event.
  const id = toHex(appId(key.address, nonce));
  const events = r.receipt.events as { type: string; attributes: Record<string, string> }[];
  const made = events.find((e) => e.type === 'app-create')?.attributes.app ?? id;
  return { app: made, height: r.height };
}

interface QueryAnswer {
  halt: string;
  value: string | null;
  gasUsed: string;
  output: string;
  outputText: string | null;
  logs: string[];
  message?: string;
}

function showResult(r: { value: string | null; outputText: string | null; output: string }): string {
  if (r.outputText !== null && r.outputText !== '') return r.outputText;
  if (r.output !== '0x') return r.output;
  return r.value ?? '';
}

/** Refuse a call the chain would refuse (no app, no method, wrong arg count) before paying for a tx. */
async function checkMethod(o: NodeOptions, id: string, method: string, args: string[]): Promise<void> {
  hexId(id, 'APP');
  const a = await (await rpcClient(o)).call<{
    hosted: boolean;
    methods: { name: string; params: string[] }[];
  } | null>('app_get', [id]);
  if (a === null) throw new CliError(`no app ${id}`, 1, 'APP_NOT_FOUND');
  if (a.hosted)
    throw new CliError(
      `app ${id} is hosted off chain: call it with vos app call --via NAME`,
      1,
      'APP_HOSTED_ONLY',
    );
  const m = a.methods.find((x) => x.name === method);
  if (m === undefined)
    throw new CliError(
      `app ${id} has no method ${method} (it has: ${a.methods.map((x) => x.name).join(', ')})`,
      1,
      'APP_UNKNOWN_METHOD',
    );
  if (m.params.length !== args.length)
    throw new CliError(
      `${method} takes ${m.params.length} integer args (${m.params.join(', ')}), got ${args.length}`,
      2,
      'APP_BAD_ARGS',
    );
}

/** A call to an app another node hosts (app_callHosted): no tx, the gas from this node's quota there. */
async function callHosted(o: AppOptions, id: string, method: string, args: string[]): Promise<void> {
  hexId(id, 'APP');
  const client = await rpcClient(o);
  const r = await client.call<QueryAnswer & { quotaUsed?: string; quota?: string }>('app_callHosted', [
    {
      via: o.via!,
      app: id,
      method,
      args,
      input: toHex(await inputOf(o)),
      ...(o.gas !== undefined ? { gas: String(parseAmount(o.gas, '--gas')) } : {}),
    },
  ]);
  if (r.halt !== 'ok')
    throw new CliError(
      `${method} on ${o.via} halted: ${r.halt}${r.message ? `: ${r.message}` : ''} (gas charged ${r.gasUsed})`,
      1,
      `APP_${r.halt.toUpperCase()}`,
    );
  emit(o, r, showResult(r));
}

export function registerApp(program: Command): void {
  const app = program.command('app').description('WASM apps: deploy, call, query, install, serve');

  withTxOptions(
    app
      .command('deploy')
      .description('deploy a WASM module and create an instance of it (the app id)')
      .argument('<file>', 'the .wasm module (e.g. apps/build/counter.wasm)')
      .option('--hosted', 'an app for off-chain hosting (it imports dstore/comm/search)')
      .option('--no-create', 'only store the code (prints its hash)'),
  ).action(async (file: string, o: AppOptions) => {
    const code = new Uint8Array(await readFile(file));
    if (code.length > MAX_DEPLOY_BYTES)
      throw new CliError(
        `${file} is ${code.length} bytes: one deploy tx carries at most ${MAX_DEPLOY_BYTES} bytes of code`,
        2,
        'TOO_LARGE',
      );
    const { codeHash, height } = await deployCode(o, code);
    if (o.create === false) {
      emit(o, { codeHash: toHex(codeHash), height }, `deployed code ${toHex(codeHash)} at height ${height}`);
      return;
    }
    const made = await instantiate(o, codeHash, o.hosted === true);
    emit(
      o,
      { app: made.app, codeHash: toHex(codeHash), height: made.height, hosted: o.hosted === true },
      `app ${made.app} (code ${toHex(codeHash)}) created at height ${made.height}`,
    );
  });

  withTxOptions(
    app
      .command('instantiate')
      .description('create another instance of deployed code')
      .argument('<codeHash>')
      .option('--hosted', 'an instance served off chain'),
  ).action(async (hash: string, o: AppOptions) => {
    const made = await instantiate(o, hexId(hash, 'CODEHASH'), o.hosted === true);
    emit(
      o,
      { app: made.app, codeHash: hash, height: made.height },
      `app ${made.app} created at height ${made.height}`,
    );
  });

  withTxOptions(
    withInput(
      app
        .command('call')
        .description('call an app method in a tx; waits until committed')
        .argument('<app>')
        .argument('<method>')
        .argument('[args...]', 'integer args')
        .option('--via <node>', 'call an app hosted off chain by this node (a name or address) over comm'),
    ),
  ).action(async (id: string, method: string, args: string[], o: AppOptions) => {
    if (o.via !== undefined) return callHosted(o, id, method, parseArgs(args));
    await checkMethod(o, id, method, parseArgs(args));
    const payload = appPayload.call({
      app: hexId(id, 'APP'),
      method,
      args: parseArgs(args).map((a) => BigInt.asUintN(64, BigInt(a))),
      gas: o.gas === undefined ? DEFAULT_CALL_GAS : parseAmount(o.gas, '--gas'),
      input: await inputOf(o),
    });
    const bytes = (payload.body as { input: Uint8Array }).input.length;
    const r = await submit({ ...o, gasLimit: o.gasLimit ?? String(gasFor(payload, bytes)) }, payload);
    const events = r.receipt.events as { type: string; attributes: Record<string, string> }[];
    const call = events.find((e) => e.type === 'app-call')?.attributes ?? {};
    const output = call.output ?? '0x';
    const outputText = output === '0x' ? '' : Buffer.from(fromHex(output)).toString('utf8');
    emit(
      o,
      {
        hash: r.hash,
        height: r.height,
        app: id,
        method,
        value: call.value === '' ? null : (call.value ?? null),
        output,
        outputText,
        gasUsed: call.gasUsed,
        events: events.filter((e) => e.type === 'app-event').map((e) => e.attributes),
      },
      showResult({ value: call.value || null, outputText, output }),
    );
  });

  withInput(
    app
      .command('query')
      .description('run an app method read-only against committed state (nothing is kept)')
      .argument('<app>')
      .argument('<method>')
      .argument('[args...]', 'integer args')
      .option('--from <address>', 'the caller the app sees')
      .option('--rpc <url>', 'node JSON-RPC URL')
      .option('--home <dir>', 'node home')
      .option('--json', 'machine output'),
  ).action(async (id: string, method: string, args: string[], o: AppOptions & { from?: string }) => {
    hexId(id, 'APP');
    const client = await rpcClient(o);
    const input = await inputOf(o);
    const r = await client.call<QueryAnswer>('app_query', [
      {
        app: id,
        method,
        args: parseArgs(args),
        input: toHex(input),
        ...(o.from !== undefined ? { from: o.from } : {}),
        ...(o.gas !== undefined ? { gas: String(parseAmount(o.gas, '--gas')) } : {}),
      },
    ]);
    if (r.halt !== 'ok')
      throw new CliError(
        `${method} halted: ${r.halt}${r.message ? `: ${r.message}` : ''} (gas used ${r.gasUsed})`,
        1,
        `APP_${r.halt.toUpperCase()}`,
      );
    emit(o, r, showResult(r));
  });

  app
    .command('list')
    .description('app instances on chain, newest first')
    .option('--owner <address>', 'only this owner’s')
    .option('--limit <n>', 'at most this many', '100')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (o: AppOptions) => {
      const client = await rpcClient(o);
      const list = await client.call<
        { app: string; codeHash: string; owner: string; createdAt: number; hosted: boolean }[]
      >('app_list', [{ ...(o.owner ? { owner: o.owner } : {}), limit: Number(o.limit) }]);
      emit(o, { apps: list }, () =>
        list.length === 0
          ? 'no apps'
          : list
              .map(
                (a) =>
                  `${a.app}  code ${a.codeHash.slice(0, 14)}…  by ${a.owner}  at ${a.createdAt}${a.hosted ? '  hosted' : ''}`,
              )
              .join('\n'),
      );
    });

  app
    .command('show')
    .description('one app: owner, code, methods, account and balance')
    .argument('<app>')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (id: string, o: NodeOptions & { json?: boolean }) => {
      hexId(id, 'APP');
      const client = await rpcClient(o);
      const a = await client.call<Record<string, unknown> | null>('app_get', [id]);
      if (a === null) throw new CliError(`no app ${id}`, 1, 'APP_NOT_FOUND');
      const methods = (a.methods as { name: string; params: string[] }[]).map(
        (m) => `${m.name}(${m.params.join(', ')})`,
      );
      emit(o, a, () =>
        [
          `app      ${a.app}`,
          `code     ${a.codeHash}`,
          `owner    ${a.owner}`,
          `created  ${a.createdAt}${a.hosted ? ' (hosted off chain)' : ''}`,
          `account  ${a.account} (balance ${a.balance})`,
          `methods  ${methods.join(' ')}`,
        ].join('\n'),
      );
    });

  app
    .command('serve')
    .description('host an app (created with --hosted) on this node; peers call it with vos app call --via')
    .argument('<app>')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'the node home (its admin token; app.serve in its config keeps it served)')
    .option('--json', 'machine output')
    .action(async (id: string, o: NodeOptions & { json?: boolean }) => {
      hexId(id, 'APP');
      const r = await (await adminClient(o)).call<{ app: string; stateBytes: number }>('admin_appServe', [
        id,
      ]);
      const file = homePaths(resolveHome(o)).config;
      const cfg = JSON.parse(await readFile(file, 'utf8'));
      cfg.app ??= {};
      cfg.app.serve = [...new Set([...(cfg.app.serve ?? []), r.app])];
      await writeFile(file, `${JSON.stringify(cfg, null, 2)}\n`);
      emit(o, r, `serving ${r.app} (${r.stateBytes} bytes of state); kept in ${file}`);
    });

  withTxOptions(
    app
      .command('install')
      .description('install a published app (kind=executable): fetch it, deploy and instantiate it')
      .argument('<publishId>')
      .option('--store <app>', 'the app store instance to count the install in'),
  ).action(async (pid: string, o: AppOptions) => {
    hexId(pid, 'PUBLISH_ID');
    const client = await rpcClient(o);
    const rec = await client.call<{ cid: string; kind: string; title: string } | null>('publish_get', [pid]);
    if (rec === null) throw new CliError(`no publish record ${pid}`, 1, 'NOT_FOUND');
    if (rec.kind !== 'executable')
      throw new CliError(`${pid} is kind=${rec.kind}, not an executable`, 1, 'NOT_EXECUTABLE');
    const res = await fetch(new URL(`/content/${encodeURIComponent(rec.cid)}`, await resolveRpcUrl(o)));
    if (!res.ok)
      throw new CliError(`fetching ${rec.cid}: HTTP ${res.status} ${await res.text()}`, 1, 'FETCH_FAILED');
    const code = await readCode(res, rec.cid);
    const { codeHash } = await deployCode(o, code);
    const made = await instantiate(o, codeHash, false);
    if (o.store !== undefined) {
      const payload = appPayload.call({
        app: hexId(o.store, '--store'),
        method: 'installed',
        args: [],
        gas: DEFAULT_CALL_GAS,
        input: new Uint8Array(Buffer.from(pid.toLowerCase(), 'utf8')),
      });
      await submit({ ...o, gasLimit: String(gasFor(payload, 80)) }, payload);
    }
    emit(
      o,
      { app: made.app, codeHash: toHex(codeHash), cid: rec.cid, title: rec.title, height: made.height },
      `installed "${rec.title}" as app ${made.app} at height ${made.height}`,
    );
  });
}
