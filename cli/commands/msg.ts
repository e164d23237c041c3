/**
 * Messaging: `vos msg send NAME|ADDR TEXT [--attach FILE]...`, `vos msg listen` (`--json`: one line per
 * message `{from, text, ...}`), `vos msg history [NAME|ADDR]`, `vos msg attachment ID INDEX [-o FILE]`,
 * and the interactive `vos chat NAME|ADDR` (type a line to send it; the peer's lines appear as they
 * arrive; a tick when a message is delivered).
 */
import { basename, extname } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Command } from 'commander';
import { RpcClient } from '../../rpc/client.js';
import { resolveRpcUrl, rpcClient } from '../context.js';
import { CliError, emit, jsonString } from '../output.js';
import { collect, MIME_BY_EXT } from './publish.js';
import { saveResponse, uploadFile } from './store.js';

interface MsgOptions {
  rpc?: string;
  home?: string;
  json?: boolean;
  attach?: string[];
  ttl?: number;
  limit?: number;
  output?: string;
}

interface SendResult {
  id: string;
  to: string;
  address: string;
  seq: number;
  status: 'delivered' | 'held';
  via: string;
  holders: number;
}

interface CommEventJSON {
  type: 'message' | 'receipt';
  id: string;
  peer: string;
  peerName: string | null;
  text?: string;
  attachments?: { cid: string; name: string; mime: string; size: number }[];
  sentAt?: number;
  seq?: number;
  deliveredAt?: number;
}

const intArg = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new CliError(`${what} must be a positive integer`, 2, 'INVALID_ARGUMENT');
  return n;
};

const short = (a: string) => (a.startsWith('vos1') ? `${a.slice(0, 10)}…${a.slice(-4)}` : a);
const who = (e: { peer: string; peerName: string | null }) => e.peerName ?? short(e.peer);

async function sendMessage(to: string, text: string, o: MsgOptions, client?: { call: RpcClient['call'] }) {
  const attachments = [];
  for (const file of o.attach ?? []) {
    const put = await uploadFile(file, o);
    attachments.push({
      cid: put.cid,
      name: basename(file),
      mime: MIME_BY_EXT[extname(file).toLowerCase()]?.[0] ?? 'application/octet-stream',
    });
  }
  const c = client ?? (await rpcClient(o));
  return (await c.call('comm_send', [
    to,
    text,
    { ...(o.ttl === undefined ? {} : { ttlMs: o.ttl }), ...(attachments.length ? { attachments } : {}) },
  ] as never)) as SendResult;
}

/** The address of a name (or the address itself), to tell a conversation's messages apart. */
async function addressOf(to: string, o: MsgOptions): Promise<string> {
  if (/^vos1/.test(to)) return to;
  const r = (await (await rpcClient(o)).call('name_resolve', [to] as never)) as { owner: string | null };
  if (r.owner === null) throw new CliError(`the name ${to} is not registered`, 2, 'COMM_UNKNOWN_RECIPIENT');
  return r.owner;
}

export function registerMsg(program: Command): void {
  const msg = program
    .command('msg')
    .description('end-to-end encrypted messages between nodes, by name or address');
  const nodeOpts = (c: Command) =>
    c
      .option('--rpc <url>', 'node JSON-RPC URL')
      .option('--home <dir>', 'node home')
      .option('--json', 'machine output');

  nodeOpts(
    msg
      .command('send')
      .description(
        'send TEXT to a node by name or address (sealed to its on-chain key; held by mailboxes while it is offline)',
      )
      .argument('<to>', 'a registered name or a vos1... address')
      .argument('<text>')
      .option(
        '--attach <file>',
        'attach a file (repeatable): stored, encrypted, sealed in the message',
        collect,
      )
      .option('--ttl <ms>', 'how long mailboxes hold it (default 3 days)', intArg('--ttl')),
  ).action(async (to: string, text: string, o: MsgOptions) => {
    const r = await sendMessage(to, text, o);
    emit(
      o,
      r,
      r.status === 'delivered'
        ? `✓ delivered to ${to} (${r.id})`
        : `held for ${to} by ${r.holders} mailbox node(s) until it comes online (${r.id})`,
    );
  });

  nodeOpts(
    msg
      .command('listen')
      .description('print messages as they arrive (--json: one JSON line per message {from, text, ...})'),
  ).action(async (o: MsgOptions) => {
    const ws = await RpcClient.connectWs(await resolveRpcUrl(o));
    await ws.subscribeMethod('comm_subscribe', [], (p) => {
      const e = p as CommEventJSON;
      if (e.type !== 'message') return;
      if (o.json)
        process.stdout.write(
          `${jsonString({
            from: e.peerName ?? e.peer,
            text: e.text,
            id: e.id,
            address: e.peer,
            name: e.peerName,
            sentAt: e.sentAt,
            attachments: e.attachments,
          })}\n`,
        );
      else {
        const files = (e.attachments ?? []).map((a, i) => `  [${i}] ${a.name || a.cid} (${a.size} bytes)`);
        process.stdout.write(`${who(e)}: ${e.text}\n${files.map((f) => `${f}\n`).join('')}`);
      }
    });
    if (!o.json) process.stderr.write('listening for messages (Ctrl-C to stop)\n');
    await new Promise<void>((resolve) => {
      ws.socket.on('close', () => resolve());
      process.once('SIGINT', () => {
        ws.close();
        resolve();
      });
      process.once('SIGTERM', () => {
        ws.close();
        resolve();
      });
    });
  });

  nodeOpts(
    msg
      .command('history')
      .description('messages sent and received, newest first (of one conversation with NAME|ADDR)')
      .argument('[peer]')
      .option('--limit <n>', 'at most n (default 50)', intArg('--limit')),
  ).action(async (peer: string | undefined, o: MsgOptions) => {
    const list = (await (
      await rpcClient(o)
    ).call('comm_history', [
      { ...(peer === undefined ? {} : { peer }), limit: o.limit ?? 50 },
    ] as never)) as unknown as (CommEventJSON & { direction: string; status: string; at: number })[];
    emit(
      o,
      list,
      () =>
        list
          .map((e) => {
            const t = new Date(e.at).toISOString().replace('T', ' ').slice(0, 19);
            const dir = e.direction === 'in' ? `${who(e)} ->` : `-> ${who(e)}`;
            const tick = e.direction === 'out' ? (e.status === 'delivered' ? ' ✓' : ` (${e.status})`) : '';
            return `${t}  ${dir}  ${e.text}${tick}`;
          })
          .join('\n') || 'no messages',
    );
  });

  nodeOpts(
    msg
      .command('attachment')
      .description('decrypt attachment INDEX of message ID (fetched from the network) to a file or stdout')
      .argument('<id>')
      .argument('<index>')
      .option('-o, --output <file>', 'write to FILE (default: stdout)'),
  ).action(async (id: string, index: string, o: MsgOptions) => {
    const r = (await (await rpcClient(o)).call('comm_attachment', [id, Number(index)] as never)) as {
      cid: string;
      size: number;
      name: string;
    };
    const res = await fetch(new URL(`/storage/${r.cid}`, await resolveRpcUrl(o)));
    await saveResponse(res, 'get', o.output);
    if (o.output !== undefined)
      emit(o, { ...r, file: o.output }, `wrote ${o.output} (${r.size} bytes, ${r.name})`);
  });

  nodeOpts(
    program
      .command('chat')
      .description(
        'interactive chat with a node by name or address: type a line and Enter to send; /quit or Ctrl-D ends',
      )
      .argument('<to>'),
  ).action(async (to: string, o: MsgOptions) => {
    const peer = await addressOf(to, o);
    const url = await resolveRpcUrl(o);
    const ws = await RpcClient.connectWs(url);
    // Escapes only on a terminal: piped, the output is plain lines.
    const tty = process.stdout.isTTY === true;
    let rl: Interface | undefined;
    let closed = false;
    const print = (line: string) => {
      // Above the prompt, keeping what is being typed.
      process.stdout.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
      if (rl !== undefined && !closed) rl.prompt(true);
    };
    const tick = (id: string) => print(`  ✓ delivered ${id.slice(0, 10)}`);
    // Held messages wait for their receipt; a receipt can also come before the answer to comm_send.
    const pendingTicks = new Set<string>();
    const receipts = new Set<string>();
    await ws.subscribeMethod('comm_subscribe', [], (p) => {
      const e = p as CommEventJSON;
      if (e.peer !== peer) return;
      if (e.type === 'message') print(`${who(e)}: ${e.text}`);
      else if (pendingTicks.delete(e.id)) tick(e.id);
      else receipts.add(e.id);
    });
    // Created only now, with its handlers at once: no typed (or piped) line and no end of input is
    // missed while the subscription was being set up.
    rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY,
    });
    rl.setPrompt('> ');
    const inflight = new Set<Promise<void>>();
    const done = new Promise<void>((resolve) =>
      rl.on('close', () => {
        closed = true;
        resolve();
      }),
    );
    rl.on('line', (line) => {
      const text = line.trim();
      if (text === '') return rl.prompt();
      if (text === '/quit') return rl.close();
      const sending = ws
        .call('comm_send', [to, text] as never)
        .then((res) => {
          const r = res as SendResult;
          if (r.status === 'delivered') {
            receipts.delete(r.id);
            tick(r.id);
          } else {
            print(`  … held by ${r.holders} mailbox node(s) ${r.id.slice(0, 10)}`);
            if (receipts.delete(r.id)) tick(r.id);
            else pendingTicks.add(r.id);
          }
        })
        .catch((err: Error) => print(`  ✗ not sent: ${err.message}`))
        .finally(() => inflight.delete(sending));
      inflight.add(sending);
      rl.prompt();
    });
    print(`chat with ${to} (${short(peer)}); /quit to end`);
    await done;
    // Lines sent just before /quit or the end of input get their answer (and tick) first.
    await Promise.allSettled([...inflight]);
    ws.close();
  });
}
