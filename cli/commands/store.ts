/**
 * `vos store put FILE [--distributed [--data K --parity M]]` (streamed to the node's POST /storage:
 * `{id, cid, size}`), `vos store get ID [-o FILE]` (streamed from GET /storage/<id>), `vos store stat
 * ID`, `vos store delete ID` (a distributed object), `vos store providers`. A progress line on stderr
 * when it is a terminal.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { resolveRpcUrl, rpcClient } from '../context.js';
import { CliError, emit } from '../output.js';

interface StoreOptions {
  rpc?: string;
  home?: string;
  json?: boolean;
  output?: string;
  distributed?: boolean;
  data?: number;
  parity?: number;
}

/** Counts bytes through and redraws a progress line on a terminal. */
export function progress(label: string, total: number | null): Transform {
  let n = 0;
  let last = 0;
  const tty = process.stderr.isTTY === true;
  const draw = (end = false) => {
    const mb = (x: number) => (x / 1024 / 1024).toFixed(1);
    const pct = total ? ` ${((100 * n) / total).toFixed(0)}%` : '';
    process.stderr.write(`\r${label} ${mb(n)}${total ? `/${mb(total)}` : ''} MiB${pct}${end ? '\n' : ''}`);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (tty && Date.now() - last > 200) {
        last = Date.now();
        draw();
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (tty) draw(true);
      cb();
    },
  });
}

export function failure(status: number, body: string): CliError {
  let code = 'STORAGE_ERROR';
  let message = body.slice(0, 500);
  try {
    const j = JSON.parse(body) as { error?: { code?: string; message?: string } };
    code = j.error?.code ?? code;
    message = j.error?.message ?? message;
  } catch {
    // not JSON: the text as it came
  }
  return new CliError(`${message} (HTTP ${status})`, status === 404 || status === 400 ? 2 : 1, code);
}

/** Streams a file (or a pipe) to the node's POST /storage: `{id, cid, size}`. */
export async function uploadFile(
  file: string,
  o: { rpc?: string; home?: string; distributed?: boolean; data?: number; parity?: number },
): Promise<{ id: string; cid: string; size: number }> {
  const st = await stat(file).catch(() => {
    throw new CliError(`cannot read ${file}`, 2, 'FILE_NOT_FOUND');
  });
  // A pipe or a device has no size: sent chunked (the node then checks the budget as bytes arrive).
  const size = st.isFile() ? st.size : null;
  const url = new URL('/storage', await resolveRpcUrl(o));
  if (o.distributed === true) {
    if (size === null)
      throw new CliError(
        '--distributed needs a regular file (its size is sealed with it)',
        2,
        'INVALID_ARGUMENT',
      );
    url.searchParams.set('distributed', '1');
    if (o.data !== undefined) url.searchParams.set('k', String(o.data));
    if (o.parity !== undefined) url.searchParams.set('m', String(o.parity));
  } else if (o.data !== undefined || o.parity !== undefined)
    throw new CliError('--data and --parity go with --distributed', 2, 'INVALID_ARGUMENT');
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const src = createReadStream(file);
    let grace: NodeJS.Timeout | undefined;
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/octet-stream',
          ...(size === null ? {} : { 'Content-Length': size }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          clearTimeout(grace);
          resolve({ status: res.statusCode ?? 0, text });
          // An answer before the whole body went out is a refusal: stop sending.
          if (!req.writableFinished) {
            src.destroy();
            req.destroy();
          }
        });
        res.on('error', reject);
      },
    );
    // A node that refuses an upload answers before it has read the body and may cut the connection
    // later: the write side then fails (EPIPE, reset) while the answer is on its way. Prefer the answer:
    // a send error only counts if no answer follows within ANSWER_GRACE_MS (a timer that keeps the
    // process alive: unref'd, a lost answer would end the CLI with exit 0).
    const failed = (err: unknown) => {
      grace ??= setTimeout(() => reject(err), ANSWER_GRACE_MS);
    };
    req.on('error', failed);
    pipeline(src, progress('put', size), req).catch(failed);
  });
  if (body.status !== 200) throw failure(body.status, body.text);
  return JSON.parse(body.text) as { id: string; cid: string; size: number };
}

const ANSWER_GRACE_MS = 2000;

/**
 * A download to stdout or to FILE, with progress; a file is written next to the target and renamed, so
 * a failed download leaves no partial file. Returns the Content-Length (null when not given).
 */
export async function saveResponse(
  res: Response,
  label: string,
  output: string | undefined,
): Promise<number | null> {
  if (!res.ok || res.body === null) throw failure(res.status, await res.text());
  const total = Number(res.headers.get('content-length') ?? 0) || null;
  const src = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  if (output === undefined) {
    await pipeline(src, progress(label, total), process.stdout);
    return total;
  }
  const tmp = `${output}.part`;
  try {
    await pipeline(src, progress(label, total), createWriteStream(tmp));
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return total;
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('store files on this node (content-addressed, pinned)');
  const nodeOpts = (c: Command) =>
    c
      .option('--rpc <url>', 'node JSON-RPC URL')
      .option('--home <dir>', 'node home')
      .option('--json', 'machine output');

  nodeOpts(
    store
      .command('put')
      .description(
        "store a file (streamed): on this node within storage.maxBytes, or --distributed: encrypted to this node's key and erasure-coded across providers",
      )
      .argument('<file>')
      .option('--distributed', 'encrypt, erasure-code and spread over the storage providers')
      .option(
        '--data <k>',
        "data shards (default: the chain's, shrunk to the providers there are)",
        shardCount,
      )
      .option('--parity <m>', 'parity shards: any k of k + m rebuild the file', shardCount),
  ).action(async (file: string, o: StoreOptions) => {
    const r = (await uploadFile(file, o)) as {
      id: string;
      cid: string;
      size: number;
      k?: number;
      m?: number;
    };
    emit(
      o,
      r,
      r.k === undefined
        ? `stored ${file}: ${r.cid} (${r.size} bytes)`
        : `stored ${file} across ${r.k + (r.m ?? 0)} providers (any ${r.k} rebuild it): id ${r.id}, cid ${r.cid} (${r.size} bytes)`,
    );
  });

  nodeOpts(
    store
      .command('get')
      .description('fetch a stored object by its id (CID) to a file or stdout')
      .argument('<id>')
      .option('-o, --output <file>', 'write to FILE (default: stdout)'),
  ).action(async (id: string, o: StoreOptions) => {
    const url = new URL(`/storage/${encodeURIComponent(id)}`, await resolveRpcUrl(o));
    const res = await fetch(url);
    const total = await saveResponse(res, 'get', o.output);
    if (o.output === undefined) return;
    emit(o, { id, file: o.output, size: total }, `wrote ${o.output} (${total ?? '?'} bytes)`);
  });

  nodeOpts(
    store
      .command('stat')
      .description('size and pin of a stored object, or the placement of a distributed one')
      .argument('<id>'),
  ).action(async (id: string, o: StoreOptions) => {
    const r = await (await rpcClient(o)).call<StatJSON>('storage_stat', [id]);
    if (r.distributed !== true)
      return emit(o, r, `${r.cid}  ${r.size} bytes  ${r.pinned ? 'pinned' : 'not pinned'}`);
    const lines = (r.shards ?? []).map(
      (x) => `  ${x.index}  ${x.status.padEnd(6)}  ${x.provider}  proven in epoch ${x.provenEpoch}`,
    );
    emit(
      o,
      r,
      [
        `${r.id}  ${r.size} bytes  ${r.k}+${r.m}  ${r.healthy}/${(r.k ?? 0) + (r.m ?? 0)} healthy`,
        ...lines,
      ].join('\n'),
    );
  });

  nodeOpts(
    store.command('delete').description('delete a distributed object of this node').argument('<id>'),
  ).action(async (id: string, o: StoreOptions) => {
    const r = await (await rpcClient(o)).call<{ id: string; height: number }>('storage_delete', [id]);
    emit(o, r, `deleted ${id} at height ${r.height}`);
  });

  nodeOpts(store.command('providers').description('the registered storage providers')).action(
    async (o: StoreOptions) => {
      const r = await (await rpcClient(o)).call<
        { address: string; capacity: number; used: number; faults: number }[]
      >('storage_providers', []);
      emit(
        o,
        r,
        r.map((p) => `${p.address}  ${p.used}/${p.capacity} bytes  ${p.faults} faults`).join('\n') ||
          'no providers',
      );
    },
  );
}

interface StatJSON {
  id: string;
  cid?: string;
  size: number;
  pinned?: boolean;
  distributed?: boolean;
  k?: number;
  m?: number;
  healthy?: number;
  shards?: { index: number; status: string; provider: string; provenEpoch: number }[];
}

function shardCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 15) throw new CliError(`invalid shard count ${v} (1-15)`, 2);
  return n;
}
