/**
 * `vos name register|resolve|update|renew|transfer|cancel-transfer|release|reverse|pin`: the naming
 * service from the command line. `register` runs the commit and the reveal, waiting the blocks between;
 * `resolve --verify` checks the answer as a light client; `pin` prints curl's --pinnedpubkey value from
 * a verified TLSA record.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { Command } from 'commander';
import { addressFromPublicKey } from '../../chain/address.js';
import type { NamingParams } from '../../chain/ledger/params.js';
import { inlineVerifier } from '../../chain/ledger/verifier.js';
import { LightClientError, validatorFromJSON } from '../../chain/light-client.js';
import { encodePayload } from '../../chain/tx/kinds.js';
import type { ValidatorInfo } from '../../chain/validators.js';
import { loadGenesisFile } from '../../genesis/genesis.js';
import { homePaths } from '../../node/config.js';
import type { RpcClient } from '../../rpc/client.js';
import { commitHash } from '../../services/naming/layout.js';
import { type NameAnswerJSON, verifyNameAnswer } from '../../services/naming/light.js';
import { NameError, normalizeName } from '../../services/naming/name.js';
import {
  EMPTY_RECORDS,
  type Endpoint,
  type NameRecords,
  RecordError,
} from '../../services/naming/records.js';
import { namePayload } from '../../services/naming/state.js';
import { fromHex } from '../../util/bytes.js';
import { type NodeOptions, resolveHome, rpcClient, signingKey } from '../context.js';
import { CliError, emit } from '../output.js';
import { submit } from './tx.js';

interface NameCliOptions extends NodeOptions {
  gasPrice?: string;
  gasLimit?: string;
}

function canonical(input: string): string {
  try {
    return normalizeName(input);
  } catch (err) {
    if (err instanceof NameError) throw new CliError(err.message, 2, err.code);
    throw err;
  }
}

function withNodeOptions(cmd: Command, signs: boolean): Command {
  cmd.option('--rpc <url>', 'node JSON-RPC URL').option('--home <dir>', 'node home');
  if (signs)
    cmd
      .option('--from <name>', 'sign with the named key of the home; default: the node key')
      .option('--gas-price <n>', 'gas price (default: the chain minimum)')
      .option('--gas-limit <n>', 'gas limit');
  return cmd.option('--json', 'machine output');
}

async function namingParams(client: RpcClient): Promise<NamingParams> {
  const p = await client.call<{
    naming: Omit<NamingParams, 'pricesByLength'> & { pricesByLength: string[] };
  }>('chain_getParams', []);
  return { ...p.naming, pricesByLength: p.naming.pricesByLength.map((x) => BigInt(x)) };
}

async function waitForHeight(client: RpcClient, height: number, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await client.call<{ height: number }>('node_status', []);
    if (s.height >= height) return;
    if (Date.now() > end)
      throw new CliError(`the chain did not reach height ${height} in time`, 1, 'TIMEOUT');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `IP`, `IP=WEIGHT`. */
function endpoint(kind: 'ip4' | 'ip6' | 'multiaddr', v: string): Endpoint {
  const eq = v.lastIndexOf('=');
  const value = eq === -1 ? v : v.slice(0, eq);
  const weight = eq === -1 ? 1 : Number(v.slice(eq + 1));
  if (!Number.isInteger(weight) || weight < 0 || weight > 65_535)
    throw new CliError(`bad weight in "${v}" (an integer 0-65535 after =)`, 2, 'INVALID_RECORD');
  if (kind === 'ip4' && !isIPv4(value))
    throw new CliError(`--a wants an IPv4 address, got "${value}"`, 2, 'INVALID_RECORD');
  if (kind === 'ip6' && !isIPv6(value))
    throw new CliError(`--aaaa wants an IPv6 address, got "${value}"`, 2, 'INVALID_RECORD');
  return { kind, value, weight };
}

function tlsa(v: string) {
  const m = /^\s*(\d{1,3})\s+(\d{1,3})\s+(\d{1,3})\s+([0-9a-fA-F]+)\s*$/.exec(v);
  if (m === null)
    throw new CliError(
      `--tlsa wants "USAGE SELECTOR TYPE HEX" (e.g. "3 1 1 ab12..."), got "${v}"`,
      2,
      'INVALID_RECORD',
    );
  return {
    usage: Number(m[1]),
    selector: Number(m[2]),
    matchingType: Number(m[3]),
    data: fromHex(`0x${m[4].toLowerCase()}`),
  };
}

/** The trusted validator set: --trusted-validators FILE, else the genesis of the home. */
async function trustedValidators(o: NodeOptions & { trustedValidators?: string }): Promise<ValidatorInfo[]> {
  if (o.trustedValidators !== undefined) {
    const j = JSON.parse(await readFile(o.trustedValidators, 'utf8'));
    const list = Array.isArray(j) ? j : j?.validators;
    if (!Array.isArray(list))
      throw new CliError(`${o.trustedValidators}: expected a validator list`, 2, 'INVALID_ARGUMENT');
    return list.map(validatorFromJSON);
  }
  const genesisFile = homePaths(resolveHome(o)).genesis;
  let g: Awaited<ReturnType<typeof loadGenesisFile>>;
  try {
    g = await loadGenesisFile(genesisFile);
  } catch {
    throw new CliError(
      `--verify needs a trusted validator set: the genesis in --home (${genesisFile} not found) or --trusted-validators FILE`,
      2,
      'NO_TRUST',
    );
  }
  return g.validators.map((v) => ({
    address: addressFromPublicKey(v.publicKey),
    publicKey: v.publicKey,
    power: v.stake,
  }));
}

async function verifiedAnswer(
  client: RpcClient,
  name: string,
  o: NodeOptions & { trustedValidators?: string },
) {
  const [answer, status, naming, validators] = await Promise.all([
    client.call<NameAnswerJSON>('name_resolve', [name, { proof: true }]),
    client.call<{ chainId: string }>('node_status', []),
    namingParams(client),
    trustedValidators(o),
  ]);
  try {
    const v = await verifyNameAnswer(answer, { chainId: status.chainId, validators, naming }, inlineVerifier);
    return { answer, verified: v };
  } catch (err) {
    if (err instanceof LightClientError && /validator set/.test(err.message))
      throw new CliError(
        `cannot verify ${name}: the header of height ${answer.height} is signed by another validator set than the trusted one (the set changed since genesis?): pass --trusted-validators FILE`,
        1,
        'VERIFY_FAILED',
      );
    throw new CliError(
      `the answer for ${name} does not verify: ${(err as Error).message}`,
      1,
      'VERIFY_FAILED',
    );
  }
}

function describe(a: NameAnswerJSON & { records: NameRecordsJSON | null; display?: string }): string {
  if (a.status === 'free') return `${a.name}: free (height ${a.height})`;
  const r = a.records;
  const lines = [
    `${a.name}${a.display && a.display !== a.name ? ` (${a.display})` : ''}  ${a.status}, owner ${a.owner}, expires at height ${a.expires}`,
  ];
  for (const e of r?.endpoints ?? []) lines.push(`  ${e.kind.padEnd(9)} ${e.value}  weight ${e.weight}`);
  for (const t of r?.txt ?? []) lines.push(`  txt       ${JSON.stringify(t)}`);
  for (const t of r?.tlsa ?? [])
    lines.push(`  tlsa      ${t.usage} ${t.selector} ${t.matchingType} ${t.data.slice(2)}`);
  if (r?.content) lines.push(`  content   ${r.content}`);
  if (r?.app) lines.push(`  app       ${r.app}`);
  if (r?.encryptionKey) lines.push(`  enc key   ${r.encryptionKey}`);
  if (r?.ttl) lines.push(`  ttl       ${r.ttl} s`);
  return lines.join('\n');
}

interface NameRecordsJSON {
  encryptionKey: string | null;
  endpoints: Endpoint[];
  txt: string[];
  tlsa: { usage: number; selector: number; matchingType: number; data: string }[];
  content: string | null;
  app: string | null;
  ttl: number;
}

function recordsFromJSON(j: NameRecordsJSON | null): NameRecords {
  if (j === null) return { ...EMPTY_RECORDS };
  return {
    encryptionKey: j.encryptionKey === null ? null : fromHex(j.encryptionKey, 32),
    endpoints: j.endpoints.map((e) => ({ ...e })),
    txt: [...j.txt],
    tlsa: j.tlsa.map((t) => ({ ...t, data: fromHex(t.data) })),
    content: j.content ?? '',
    app: j.app ?? '',
    ttl: j.ttl,
  };
}

const collect = (v: string, acc: string[] = []) => [...acc, v];

export function registerName(program: Command): void {
  const name = program
    .command('name')
    .description('register and manage names (the on-chain registry that replaces DNS)');

  withNodeOptions(
    name
      .command('register')
      .description('register a name: commit, wait, reveal (burns its price)')
      .argument('<name>'),
    true,
  ).action(async (input: string, o: NameCliOptions) => {
    const n = canonical(input);
    const client = await rpcClient(o);
    const key = await signingKey(o);
    const params = await namingParams(client);
    if (params.reserved.includes(n)) throw new CliError(`${n} is reserved`, 1, 'NAME_RESERVED');
    const current = await client.call<NameAnswerJSON>('name_resolve', [n]);
    if (current.status !== 'free')
      throw new CliError(`${n} is taken (owner ${current.owner})`, 1, 'NAME_TAKEN');
    const salt = randomBytes(32);
    const c = await submit(o, namePayload.commit(commitHash(n, key.address, salt)));
    await waitForHeight(client, c.height + params.commitMinAge);
    const r = await submit(o, namePayload.reveal(n, salt));
    emit(
      o,
      { name: n, owner: key.address.toString(), height: r.height },
      `registered ${n} to ${key.address} at height ${r.height}`,
    );
  });

  withNodeOptions(
    name
      .command('resolve')
      .description('show a name: owner, records, expiry (--verify: check it as a light client)')
      .argument('<name>')
      .option('--verify', 'ask for the proof and check it against the trusted validator set')
      .option('--trusted-validators <file>', 'JSON validator list to trust (default: the genesis of --home)'),
    false,
  ).action(async (input: string, o: NameCliOptions & { verify?: boolean; trustedValidators?: string }) => {
    const n = canonical(input);
    const client = await rpcClient(o);
    if (!o.verify) {
      const a = await client.call<NameAnswerJSON & { records: NameRecordsJSON | null }>('name_resolve', [n]);
      emit(o, a, () => describe(a));
      return;
    }
    const { answer, verified } = await verifiedAnswer(client, n, o);
    const { proof: _proof, ...rest } = answer;
    emit(
      o,
      { ...rest, verified: true },
      () =>
        `${describe(answer as NameAnswerJSON & { records: NameRecordsJSON | null })}\n  verified: the state proof checks against the header of height ${verified.height}, signed by > 2/3 of the trusted validators`,
    );
  });

  withNodeOptions(
    name
      .command('update')
      .description("change a name's records (the kinds given replace the current ones; --clear starts empty)")
      .argument('<name>')
      .option('--a <ip>', 'IPv4 endpoint, IP or IP=WEIGHT (repeatable)', collect)
      .option('--aaaa <ip6>', 'IPv6 endpoint, IP or IP=WEIGHT (repeatable)', collect)
      .option('--multiaddr <addr>', 'libp2p multiaddr endpoint, ADDR or ADDR=WEIGHT (repeatable)', collect)
      .option('--txt <text>', 'TXT record (repeatable)', collect)
      .option('--tlsa <record>', 'TLSA record "USAGE SELECTOR TYPE HEX" (repeatable)', collect)
      .option('--content <cid>', 'content pointer (a CID)')
      .option('--app <id>', 'app id')
      .option('--enc-key <hex>', 'X25519 public key (32 bytes hex) for sealed messages')
      .option('--ttl <seconds>', 'how long resolvers may cache the answers')
      .option('--clear', 'start from empty records'),
    true,
  ).action(async (input: string, o: NameCliOptions & Record<string, unknown>) => {
    const n = canonical(input);
    const client = await rpcClient(o);
    const cur = await client.call<NameAnswerJSON & { records: NameRecordsJSON | null }>('name_resolve', [n]);
    if (cur.status === 'free') throw new CliError(`${n} is not registered`, 1, 'NAME_NOT_REGISTERED');
    const r = o.clear ? { ...EMPTY_RECORDS } : recordsFromJSON(cur.records);
    const a = o.a as string[] | undefined;
    const aaaa = o.aaaa as string[] | undefined;
    const ma = o.multiaddr as string[] | undefined;
    if (a !== undefined || aaaa !== undefined || ma !== undefined) {
      const keep = (k: Endpoint['kind'], given: string[] | undefined) =>
        given === undefined ? r.endpoints.filter((e) => e.kind === k) : given.map((v) => endpoint(k, v));
      r.endpoints = [...keep('ip4', a), ...keep('ip6', aaaa), ...keep('multiaddr', ma)];
    }
    if (o.txt !== undefined) r.txt = o.txt as string[];
    if (o.tlsa !== undefined) r.tlsa = (o.tlsa as string[]).map(tlsa);
    if (o.content !== undefined) r.content = o.content as string;
    if (o.app !== undefined) r.app = o.app as string;
    if (o.encKey !== undefined) r.encryptionKey = fromHex(o.encKey as string, 32);
    if (o.ttl !== undefined) r.ttl = Number(o.ttl);
    let payload: ReturnType<typeof namePayload.update>;
    try {
      payload = namePayload.update(n, r);
      // Encode now: a record over the caps is refused here with its field named.
      encodePayload(payload);
    } catch (err) {
      if (err instanceof RecordError) throw new CliError(err.message, 2, 'INVALID_RECORD');
      throw err;
    }
    const done = await submit(o, payload);
    emit(o, { name: n, hash: done.hash, height: done.height }, `updated ${n} at height ${done.height}`);
  });

  const simple = (cmd: string, what: string, payload: (n: string) => ReturnType<typeof namePayload.renew>) =>
    withNodeOptions(name.command(cmd).description(what).argument('<name>'), true).action(
      async (input: string, o: NameCliOptions) => {
        const n = canonical(input);
        const done = await submit(o, payload(n));
        emit(o, { name: n, hash: done.hash, height: done.height }, `${cmd}: ${n} at height ${done.height}`);
      },
    );
  simple(
    'renew',
    'extend a name by one registration period (burns its price; also during grace)',
    namePayload.renew,
  );
  simple('cancel-transfer', 'cancel a pending transfer', namePayload.cancelTransfer);
  simple('release', 'give a name up at once (no refund)', namePayload.release);

  withNodeOptions(
    name
      .command('transfer')
      .description(
        'transfer a name to another key (takes effect after the lockup; cancel before with cancel-transfer)',
      )
      .argument('<name>')
      .requiredOption(
        '--to <publicKey>',
        "the new owner's public key (0x + 64 hex: `vos keys show` prints it)",
      ),
    true,
  ).action(async (input: string, o: NameCliOptions & { to: string }) => {
    const n = canonical(input);
    let toKey: Uint8Array;
    try {
      toKey = fromHex(o.to, 32);
    } catch {
      throw new CliError(
        "--to wants the new owner's public key (0x + 64 hex), not an address",
        2,
        'INVALID_ARGUMENT',
      );
    }
    const done = await submit(o, namePayload.transfer(n, toKey));
    emit(
      o,
      { name: n, to: addressFromPublicKey(toKey).toString(), hash: done.hash, height: done.height },
      `transfer of ${n} to ${addressFromPublicKey(toKey)} committed at height ${done.height}`,
    );
  });

  withNodeOptions(
    name.command('reverse').description('the name of an address (forward-confirmed)').argument('<address>'),
    false,
  ).action(async (address: string, o: NodeOptions) => {
    const client = await rpcClient(o);
    const r = await client.call<{ name: string } | null>('name_reverse', [address]);
    emit(o, r, r === null ? `${address} has no name` : r.name);
  });

  withNodeOptions(
    name
      .command('pin')
      .description(
        "print curl's --pinnedpubkey value (sha256//BASE64) from the name's verified TLSA 3 1 1 record",
      )
      .argument('<name>')
      .option('--trusted-validators <file>', 'JSON validator list to trust (default: the genesis of --home)'),
    false,
  ).action(async (input: string, o: NameCliOptions & { trustedValidators?: string }) => {
    const n = canonical(input);
    const client = await rpcClient(o);
    const { verified } = await verifiedAnswer(client, n, o);
    const rec = verified.records?.tlsa.find((t) => t.usage === 3 && t.selector === 1 && t.matchingType === 1);
    if (rec === undefined)
      throw new CliError(`${n} has no TLSA "3 1 1" record (SPKI sha256) to pin`, 1, 'NO_TLSA');
    const pin = `sha256//${Buffer.from(fromHex(rec.data)).toString('base64')}`;
    emit(o, { name: n, pin, height: verified.height }, pin);
  });
}
