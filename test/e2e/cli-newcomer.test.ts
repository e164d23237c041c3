/**
 * A newcomer's first ten minutes, through the `vos` command as real processes: a node on a port that
 * is taken, a second node on a home in use, `vos start --json`, a key made with `vos keys new` used
 * with `--from`, and the errors a first user meets (bad checksum, placeholder address, no key, no
 * node, a URL without a scheme), each one line with one prefix, or JSON with --json.
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RpcClient } from '../../rpc/client.js';
import { runVos, type Started, startNode } from '../helpers/cli.js';
import { randomBasePort, stopProcess, waitFor } from '../helpers/devnet.js';

let cwd = '';
let home = '';
let port = 0;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'vos-newcomer-'));
  home = join(cwd, 'node');
  port = randomBasePort();
  const init = await runVos(['init', '--home', home, '--rpc-port', String(port)], { cwd });
  expect(init.code).toBe(0);
});

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function holdTcp(p: number): Promise<Server> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(p, '127.0.0.1', () => resolve());
  });
  return srv;
}

async function holdUdp(p: number): Promise<Socket> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(p, '127.0.0.1', () => resolve());
  });
  return sock;
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

describe('vos start on a port that is taken', () => {
  const cases = [
    { what: 'the RPC port', hold: () => holdTcp(port), at: () => `port ${port}`, key: 'rpc.port' },
    {
      what: 'the P2P TCP port',
      hold: () => holdTcp(port + 1),
      at: () => `port ${port + 1}`,
      key: 'p2p.port',
    },
    {
      what: 'the P2P QUIC (UDP) port',
      hold: () => holdUdp(port + 1),
      at: () => `port ${port + 1}/udp`,
      key: 'p2p.port',
    },
  ];
  for (const c of cases) {
    it(`${c.what}: one line naming the port and its config key, exit 1, no lock left`, async () => {
      const holder = await c.hold();
      try {
        const r = await runVos(['start', '--home', home], { cwd });
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
          `error: ${c.at()} (${c.key} in ${join(home, 'config.json')}) is already in use\n`,
        );
        expect(existsSync(join(home, 'LOCK'))).toBe(false);
        const j = await runVos(['start', '--home', home, '--json'], { cwd });
        expect(j.code).toBe(1);
        expect(JSON.parse(j.stdout)).toEqual({
          error: {
            code: 'PORT_IN_USE',
            message: `${c.at()} (${c.key} in ${join(home, 'config.json')}) is already in use`,
          },
        });
      } finally {
        await new Promise((r) => holder.close(() => r(null)));
      }
    }, 60_000);
  }
});

describe('a running node', () => {
  let proc: ChildProcess | undefined;
  let started: Started;
  let output: () => { stdout: string; stderr: string };

  afterAll(async () => {
    await stopProcess(proc);
  });

  it('vos start --json prints one started line with its RPC, P2P, chain and height; logs go to stderr', async () => {
    ({ proc, started, output } = await startNode(home, { cwd }));
    expect(started).toMatchObject({
      event: 'started',
      chainId: 'vos-local',
      rpc: `http://127.0.0.1:${port}`,
      home,
      pid: proc.pid,
    });
    expect(started.height).toBeGreaterThanOrEqual(0);
    expect(started.p2p).toContain(`/ip4/127.0.0.1/tcp/${port + 1}/p2p/${started.p2p[0].split('/p2p/')[1]}`);
    expect(started.address).toMatch(/^vos1[a-z0-9]{38}$/);
    // stdout is machine output only: every line is JSON, and no log line is among them.
    for (const l of lines(output().stdout)) expect(JSON.parse(l).event).toBe('started');
  }, 60_000);

  it('logs each committed height at info: height, txs, round, hash prefix', async () => {
    const line = await waitFor(
      'a committed-block log line',
      async () => lines(output().stderr).find((l) => l.includes('"msg":"committed block"')),
      30_000,
    );
    const j = JSON.parse(line);
    expect(j).toMatchObject({ level: 30, txs: 0, round: expect.any(Number) });
    expect(j.height).toBeGreaterThan(0);
    expect(j.hash).toMatch(/^0x[0-9a-f]{12}$/);
  }, 40_000);

  it('a second vos start on the same home is refused, naming the process that holds it', async () => {
    const r = await runVos(['start', '--home', home], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${home} is in use by process ${proc?.pid} (vos start --home ${home} --json)\n`,
    );
    const j = await runVos(['start', '--home', home, '--json'], { cwd });
    expect(JSON.parse(j.stdout).error.code).toBe('HOME_IN_USE');
    // The refused starts changed nothing: the first node still serves.
    await new RpcClient(started.rpc).call('node_status', []);
  }, 60_000);

  it('vos status takes --rpc HOST:PORT without a scheme and says which Node.js versions are supported', async () => {
    const r = await runVos(['status', '--rpc', `127.0.0.1:${port}`], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^chain {5}vos-local$/m);
    expect(r.stdout).toMatch(/^node\.js {3}v\d+\.\d+\.\d+ \(VOS supports Node\.js >=20\.19/m);
    const j = JSON.parse((await runVos(['status', '--rpc', `127.0.0.1:${port}`, '--json'], { cwd })).stdout);
    expect(j.cli).toEqual({ node: process.version, supported: '>=20.19' });
  }, 30_000);

  it('a key made with vos keys new signs with --from NAME', async () => {
    const alice = JSON.parse(
      (await runVos(['keys', 'new', 'alice', '--home', home, '--json'], { cwd })).stdout,
    );
    const bob = (await runVos(['keys', 'new', 'bob', '--home', home], { cwd })).stdout.split(' ')[0];
    expect(bob).toMatch(/^vos1/);
    expect(
      (await runVos(['keys', 'show', 'alice', '--home', home, '--address'], { cwd })).stdout.trim(),
    ).toBe(alice.address);
    // The node key (funded in the genesis) pays alice, then alice pays bob.
    const fund = await runVos(
      ['tx', 'transfer', '--home', home, '--to', alice.address, '--amount', '1000000', '--json'],
      { cwd, timeoutMs: 60_000 },
    );
    expect(fund.stderr).toBe('');
    expect(fund.code).toBe(0);
    const pay = await runVos(
      ['tx', 'transfer', '--home', home, '--from', 'alice', '--to', bob, '--amount', '1000', '--json'],
      { cwd, timeoutMs: 60_000 },
    );
    expect(pay.stderr).toBe('');
    expect(pay.code).toBe(0);
    expect(JSON.parse(pay.stdout)).toEqual({
      hash: expect.stringMatching(/^0x/),
      height: expect.any(Number),
    });
    const rpc = new RpcClient(started.rpc);
    const bobAcct = (await rpc.call('chain_getAccount', [bob])) as { balance: string };
    expect(bobAcct.balance).toBe('1000');
    const aliceAcct = (await rpc.call('chain_getAccount', [alice.address])) as { nonce: string };
    expect(aliceAcct.nonce).toBe('1');
  }, 120_000);

  it('--from a key that does not exist says how to make it', async () => {
    const r = await runVos(
      ['tx', 'transfer', '--home', home, '--from', 'carol', '--to', started.address, '--amount', '1'],
      {
        cwd,
      },
    );
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`error: no key named "carol" in ${home}`);
    expect(r.stderr).toContain(`vos keys new carol --home ${home}`);
  }, 30_000);

  it('a mistyped address says "checksum", a placeholder says what an address looks like; JSON with --json', async () => {
    const a = started.address;
    const typo = `${a.slice(0, -1)}${a.endsWith('q') ? 'p' : 'q'}`;
    const r = await runVos(['tx', 'transfer', '--home', home, '--to', typo, '--amount', '1'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: invalid address ${typo}: bad checksum (a mistyped or truncated address?)\n`,
    );
    const j = await runVos(['tx', 'transfer', '--home', home, '--to', typo, '--amount', '1', '--json'], {
      cwd,
    });
    expect(j.code).toBe(2);
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout)).toEqual({
      error: { code: 'INVALID_ADDRESS', message: expect.stringContaining('bad checksum') },
    });
    const p = await runVos(['tx', 'transfer', '--home', home, '--to', 'vos1...', '--amount', '1'], { cwd });
    expect(p.stderr).toBe(
      'error: invalid address vos1...: 7 characters, a VOS address has 42 (vos1 and 38 more)\n',
    );
  }, 30_000);
});

describe('errors a first user meets, with no node running', () => {
  it('no key in the home suggests vos init or --home', async () => {
    const empty = join(cwd, 'empty');
    await mkdir(empty);
    const r = await runVos(
      [
        'tx',
        'transfer',
        '--home',
        empty,
        '--to',
        'vos1xw4zk0ldjh25d0f8z24nkwrusj8t7sdsypj5dv',
        '--amount',
        '1',
      ],
      { cwd },
    );
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: no key in /);
    expect(r.stderr).toContain(`vos init --home ${empty}`);
    expect(r.stderr).toContain('--home DIR');
  }, 30_000);

  it('usage errors have the same prefix, and are JSON with --json', async () => {
    const r = await runVos(['status', '--bogus'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown option '--bogus'\n");
    const j = await runVos(['status', '--bogus', '--json'], { cwd });
    expect(j.code).toBe(2);
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout)).toEqual({ error: { code: 'USAGE', message: "unknown option '--bogus'" } });
  }, 30_000);

  it('no node at --rpc: one line that says how to start one', async () => {
    const r = await runVos(['status', '--rpc', '127.0.0.1:1'], { cwd });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: cannot reach node at http:\/\/127\.0\.0\.1:1: .*npm start/);
    const j = await runVos(['status', '--rpc', '127.0.0.1:1', '--json'], { cwd });
    expect(JSON.parse(j.stdout).error.code).toBe('NODE_UNREACHABLE');
  }, 30_000);

  it('after kill -9 the stale lock is taken over by the next vos start', async () => {
    const first = await startNode(home, { cwd });
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    expect((await readFile(join(home, 'LOCK'), 'utf8')).split('\n')[0]).toBe(String(first.proc.pid));
    const next = await startNode(home, { cwd });
    try {
      expect(next.started.pid).not.toBe(first.proc.pid);
      expect((await readFile(join(home, 'LOCK'), 'utf8')).split('\n')[0]).toBe(String(next.proc.pid));
    } finally {
      await stopProcess(next.proc);
    }
    // A clean stop (SIGTERM) releases the home and says so on stdout.
    expect(next.proc.exitCode).toBe(0);
    expect(existsSync(join(home, 'LOCK'))).toBe(false);
    expect(lines(next.output().stdout).map((l) => JSON.parse(l).event)).toEqual(['started', 'stopped']);
  }, 90_000);
});
