/**
 * `vos publish FILE --title T [--tags a,b] [--kind K] [--mime M] [--description D]`: stores the file on
 * the node (as `vos store put`), then commits a publish tx for its CID (`--json`: `{id, cid, height}`);
 * `vos publish update ID ...`, `vos publish retract ID`; `vos fetch CID [-o FILE]` streams published
 * content from GET /content/<cid>.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { CID } from 'multiformats/cid';
import { CodecError } from '../../chain/codec.js';
import { publishId } from '../../services/publish/layout.js';
import {
  checkMeta,
  KINDS,
  normalizeTags,
  type PublishKind,
  type PublishMeta,
} from '../../services/publish/record.js';
import { publishPayload } from '../../services/publish/state.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { resolveRpcUrl, rpcClient, signingKey } from '../context.js';
import { CliError, emit } from '../output.js';
import { saveResponse, uploadFile } from './store.js';
import { submit, type TxCliOptions } from './tx.js';

/** Mime type and publish kind by file extension. */
export const MIME_BY_EXT: Record<string, [string, PublishKind]> = {
  '.txt': ['text/plain', 'text'],
  '.md': ['text/markdown', 'text'],
  '.html': ['text/html', 'text'],
  '.json': ['application/json', 'text'],
  '.png': ['image/png', 'image'],
  '.jpg': ['image/jpeg', 'image'],
  '.jpeg': ['image/jpeg', 'image'],
  '.gif': ['image/gif', 'image'],
  '.webp': ['image/webp', 'image'],
  '.svg': ['image/svg+xml', 'image'],
  '.mp3': ['audio/mpeg', 'audio'],
  '.ogg': ['audio/ogg', 'audio'],
  '.opus': ['audio/ogg', 'audio'],
  '.wav': ['audio/wav', 'audio'],
  '.mp4': ['video/mp4', 'video'],
  '.webm': ['video/webm', 'video'],
  '.wasm': ['application/wasm', 'executable'],
  '.pdf': ['application/pdf', 'other'],
};

interface PublishOptions extends TxCliOptions {
  title?: string;
  tags?: string[];
  kind?: string;
  mime?: string;
  description?: string;
  output?: string;
}

function meta(o: PublishOptions, file?: string): PublishMeta {
  const guess = file === undefined ? undefined : MIME_BY_EXT[extname(file).toLowerCase()];
  const kind = (o.kind ?? guess?.[1] ?? 'other') as PublishKind;
  if (!KINDS.includes(kind)) throw new CliError(`--kind is one of ${KINDS.join(', ')}`, 2, 'INVALID_KIND');
  if (o.title === undefined) throw new CliError('--title is required', 2, 'INVALID_ARGUMENT');
  try {
    return checkMeta({
      mime: (o.mime ?? guess?.[0] ?? 'application/octet-stream').toLowerCase(),
      kind,
      title: o.title.trim(),
      description: o.description ?? '',
      tags: normalizeTags(o.tags ?? []),
    });
  } catch (err) {
    if (err instanceof CodecError) throw new CliError(err.message, 2, 'INVALID_PUBLISH');
    throw err;
  }
}

/** A repeatable commander option's values. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A publish beyond the owner's storage quota is refused before any byte goes to the node. */
async function checkQuota(file: string, o: PublishOptions): Promise<void> {
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) return; // uploadFile says what is wrong with the file
  const key = await signingKey(o);
  const u = await (await rpcClient(o)).call<{ used: number; quota: number }>('storage_usage', [
    key.address.toString(),
  ]);
  if (u.used + size > u.quota)
    throw new CliError(
      `${file} (${size} bytes) would exceed the storage quota of ${key.address}: ${u.used} of ${u.quota} bytes used`,
      1,
      'QUOTA_EXCEEDED',
    );
}

function withOptions(cmd: Command): Command {
  return cmd
    .option('--title <text>', 'title (required)')
    .option('--tags <list>', 'comma-separated tags (repeatable)', collect)
    .option('--kind <kind>', `${KINDS.join('|')} (default: from the file extension)`)
    .option('--mime <type>', 'mime type (default: from the file extension)')
    .option('--description <text>', 'description')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'node home (the signing key)')
    .option('--from <name>', 'sign with the named key of the home; default: the node key')
    .option('--gas-price <n>', 'gas price (default: the chain minimum)')
    .option('--gas-limit <n>', 'gas limit')
    .option('--json', 'machine output');
}

export function registerPublish(program: Command): void {
  const publish = withOptions(
    program
      .command('publish')
      .description('store a file on this node and publish it in the ledger index')
      .argument('<file>'),
  ).action(async (file: string, o: PublishOptions) => {
    const m = meta(o, file);
    await checkQuota(file, o);
    const stored = await uploadFile(file, o);
    const cid = CID.parse(stored.cid);
    const done = await submit(o, publishPayload.publish({ cid, size: stored.size, ...m }));
    const key = await signingKey(o);
    const id = toHex(publishId(key.address, cid.bytes));
    emit(
      o,
      { id, cid: stored.cid, height: done.height },
      `published ${stored.cid} as ${id} at height ${done.height}`,
    );
  });
  withOptions(
    publish.command('update').description('change what a publication says').argument('<id>'),
    // The parent `publish` has the same options: commander gives them to it, so read both.
  ).action(async (id: string, _o: PublishOptions, cmd: Command) => {
    const o = cmd.optsWithGlobals() as PublishOptions;
    const done = await submit(o, publishPayload.update({ id: fromHex(id, 32), ...meta(o) }));
    emit(o, { id, height: done.height }, `updated ${id} at height ${done.height}`);
  });
  withOptions(
    publish.command('retract').description('remove a publication from the index').argument('<id>'),
  ).action(async (id: string, _o: PublishOptions, cmd: Command) => {
    const o = cmd.optsWithGlobals() as PublishOptions;
    const done = await submit(o, publishPayload.retract(fromHex(id, 32)));
    emit(o, { id, height: done.height }, `retracted ${id} at height ${done.height}`);
  });

  program
    .command('fetch')
    .description('fetch published content by CID to a file or stdout')
    .argument('<cid>')
    .option('-o, --output <file>', 'write to FILE (default: stdout)')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (cid: string, o: PublishOptions) => {
      const res = await fetch(new URL(`/content/${encodeURIComponent(cid)}`, await resolveRpcUrl(o)));
      const total = await saveResponse(res, 'fetch', o.output);
      if (o.output === undefined) return;
      emit(
        o,
        { cid, file: o.output, size: total, mime: res.headers.get('content-type') },
        `wrote ${o.output} (${total ?? '?'} bytes, ${res.headers.get('content-type')})`,
      );
    });
}
