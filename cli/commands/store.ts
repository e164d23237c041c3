/**
 * `vos store put FILE` (streamed to the node's POST /storage: `{id, cid, size}`), `vos store get ID
 * [-o FILE]` (streamed from GET /storage/<cid>), `vos store stat ID`. A progress line on stderr when
 * it is a terminal.
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
  o: { rpc?: string; home?: string },
): Promise<{ id: string; cid: string; size: number }> {
  const st = await stat(file).catch(() => {
    throw new CliError(`cannot read ${file}`, 2, 'FILE_NOT_FOUND');
  });
  // A pipe or a device has no size: sent chunked (the node then checks the budget as bytes arrive).
  const size = st.isFile() ? st.size : null;
  const url = new URL('/storage', await resolveRpcUrl(o));
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    pipeline(createReadStream(file), progress('put', size), req).catch(reject);
  });
  if (body.status !== 200) throw failure(body.status, body.text);
  return JSON.parse(body.text) as { id: string; cid: string; size: number };
}

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
      .description('store a file (streamed; any size within storage.maxBytes)')
      .argument('<file>'),
  ).action(async (file: string, o: StoreOptions) => {
    const r = await uploadFile(file, o);
    emit(o, r, `stored ${file}: ${r.cid} (${r.size} bytes)`);
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

  nodeOpts(store.command('stat').description('size and pin of a stored object').argument('<id>')).action(
    async (id: string, o: StoreOptions) => {
      const r = await (await rpcClient(o)).call<{ cid: string; size: number; pinned: boolean }>(
        'storage_stat',
        [id],
      );
      emit(o, r, `${r.cid}  ${r.size} bytes  ${r.pinned ? 'pinned' : 'not pinned'}`);
    },
  );
}
