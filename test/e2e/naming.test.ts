/**
 * The naming service on a real 4-validator devnet through the CLI (`vos name ...`), queried on another
 * node than the one that sent the txs: register (commit, wait, reveal), update, resolve --verify (light
 * client against the genesis validators), reverse, bad input; and the no-CA demo: an HTTPS server with
 * a self-signed certificate whose SPKI sha256 is the name's TLSA record, reached by
 * `curl --pinnedpubkey "$(vos name pin NAME)" --resolve ...`; after the server swaps its key without
 * updating the record, curl fails.
 */
import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BIN, type DevnetInfo, randomBasePort, startDevnet, stopProcess } from '../helpers/devnet.js';

const run = promisify(execFile);

async function vos(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function vosJson<T>(args: string[]): Promise<T> {
  const r = await vos([...args, '--json']);
  if (r.code !== 0) throw new Error(`vos ${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

function tool(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${name} is required under CI=true (.ci/run installs it)`);
    return false;
  }
}

describe('naming on a devnet (real processes, the CLI)', () => {
  let dir = '';
  let supervisor: ChildProcess | undefined;
  let info: DevnetInfo;
  let home0 = '';
  let rpc2 = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-naming-'));
    ({ proc: supervisor, info } = await startDevnet(dir, 4, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '200',
    }));
    home0 = info.nodes[0].home;
    rpc2 = info.nodes[2].rpc;
  }, 90_000);

  afterAll(async () => {
    await stopProcess(supervisor);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('register, update and resolve on another node; verified as a light client; reverse', async () => {
    const reg = await vosJson<{ name: string; owner: string; height: number }>([
      'name',
      'register',
      'Alice.vos',
      '--home',
      home0,
    ]);
    expect(reg.name).toBe('alice');
    expect(reg.owner).toBe(info.nodes[0].address);
    await vosJson([
      'name',
      'update',
      'alice',
      '--home',
      home0,
      '--a',
      '10.0.0.1=3',
      '--a',
      '10.0.0.2',
      '--aaaa',
      '2001:db8::1',
      '--txt',
      'hello',
    ]);
    const r = await vosJson<{
      status: string;
      owner: string;
      records: { endpoints: { value: string; weight: number }[]; txt: string[] };
      verified: boolean;
    }>(['name', 'resolve', 'alice', '--rpc', rpc2, '--home', home0, '--verify']);
    expect(r.verified).toBe(true);
    expect(r.status).toBe('active');
    expect(r.owner).toBe(info.nodes[0].address);
    expect(r.records.endpoints.map((e) => [e.value, e.weight])).toEqual([
      ['10.0.0.1', 3],
      ['10.0.0.2', 1],
      ['2001:db8::1', 1],
    ]);
    expect(r.records.txt).toEqual(['hello']);
    const rev = await vosJson<{ name: string } | null>([
      'name',
      'reverse',
      info.nodes[0].address,
      '--rpc',
      rpc2,
    ]);
    expect(rev?.name).toBe('alice');
    const free = await vosJson<{ status: string; verified: boolean }>([
      'name',
      'resolve',
      'nobody',
      '--rpc',
      rpc2,
      '--home',
      home0,
      '--verify',
    ]);
    expect(free).toMatchObject({ status: 'free', verified: true });
  }, 120_000);

  it('bad input: an invalid name, a taken name and a non-owner update fail with a specific code and change nothing', async () => {
    const bad = await vos(['name', 'register', 'a_b', '--home', home0, '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('NAME_CHARACTERS');
    const taken = await vos(['name', 'register', 'alice', '--home', info.nodes[1].home, '--json']);
    expect(taken.code).toBe(1);
    expect(JSON.parse(taken.stdout).error.code).toBe('NAME_TAKEN');
    const foreign = await vos([
      'name',
      'update',
      'alice',
      '--home',
      info.nodes[1].home,
      '--txt',
      'mine',
      '--json',
    ]);
    expect(foreign.code).toBe(1);
    expect(JSON.parse(foreign.stdout).error.message).toMatch(/NAME_NOT_OWNER/);
    const r = await vosJson<{ records: { txt: string[] } }>(['name', 'resolve', 'alice', '--rpc', rpc2]);
    expect(r.records.txt).toEqual(['hello']);
  }, 120_000);

  it('no CA: curl pins the HTTPS server key from the verified TLSA record; a swapped key fails', async () => {
    if (!tool('curl') || !tool('openssl')) return;
    const certs = join(dir, 'certs');
    const makeCert = (tag: string) => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=alice.vos',
          '-addext',
          'subjectAltName=DNS:alice.vos',
          '-keyout',
          `${certs}-${tag}.key`,
          '-out',
          `${certs}-${tag}.pem`,
        ],
        { stdio: 'ignore' },
      );
      return { key: `${certs}-${tag}.key`, cert: `${certs}-${tag}.pem` };
    };
    const a = makeCert('a');
    const spki = new X509Certificate(await readFile(a.cert)).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const digest = createHash('sha256').update(spki).digest('hex');
    await vosJson(['name', 'update', 'alice', '--home', home0, '--tlsa', `3 1 1 ${digest}`]);
    const pin = (await vosJson<{ pin: string }>(['name', 'pin', 'alice', '--rpc', rpc2, '--home', home0]))
      .pin;
    expect(pin).toBe(`sha256//${Buffer.from(digest, 'hex').toString('base64')}`);
    const serve = async (files: { key: string; cert: string }) => {
      const server: Server = createServer(
        { key: await readFile(files.key), cert: await readFile(files.cert) },
        (_q, s) => s.end('hello from alice.vos\n'),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return server;
    };
    const curl = async (port: number) => {
      try {
        const r = await run(
          'curl',
          [
            '-sS',
            '--insecure',
            '--pinnedpubkey',
            pin,
            '--resolve',
            `alice.vos:${port}:127.0.0.1`,
            `https://alice.vos:${port}/`,
          ],
          { timeout: 20_000 },
        );
        return { ok: true, out: r.stdout };
      } catch (err) {
        return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
      }
    };
    const s1 = await serve(a);
    const port1 = (s1.address() as { port: number }).port;
    const good = await curl(port1);
    s1.close();
    expect(good).toEqual({ ok: true, out: 'hello from alice.vos\n' });
    // The server swaps its key; the record still pins the old one.
    const s2 = await serve(makeCert('b'));
    const port2 = (s2.address() as { port: number }).port;
    const swapped = await curl(port2);
    s2.close();
    expect(swapped.ok).toBe(false);
    expect(swapped.out).toMatch(/public key|pinned/i);
  }, 120_000);
});
