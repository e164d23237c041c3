/**
 * The devnet supervisor as a newcomer sees it (`npm start` = `vos devnet`), as real processes: a banner
 * with real log paths, a status line every few seconds, a line when a node dies; a second `vos devnet`
 * on a running devnet (or on nodes left running by a killed supervisor) refuses before it writes
 * devnet.json; a port that is taken is named before any node starts; stale locks after kill -9 are
 * taken over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { cliEnv, runVos } from '../helpers/cli.js';
import { BIN, type DevnetInfo, isAlive, randomBasePort, stopProcess, waitFor } from '../helpers/devnet.js';

interface Supervisor {
  proc: ChildProcess;
  out: () => string;
}

function startSupervisor(dir: string, base: number, cwd: string): Supervisor {
  const proc = spawn(
    process.execPath,
    [BIN, 'devnet', '--validators', '2', '--dir', dir, '--base-port', String(base)],
    { cwd, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += String(d);
  });
  proc.stderr?.on('data', (d) => {
    out += String(d);
  });
  return { proc, out: () => out };
}

describe('vos devnet supervisor', () => {
  let cwd = '';
  let dir = '';
  const base = randomBasePort();
  let sup: Supervisor | undefined;
  const pids: number[] = [];

  afterAll(async () => {
    await stopProcess(sup?.proc);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  const devnetJson = async () => readFile(join(dir, 'devnet.json'), 'utf8');

  it('prints a banner with real log paths, then a status line with height and peers per node', async () => {
    cwd = await mkdtemp(join(tmpdir(), 'vos-supervisor-'));
    dir = join(cwd, '.devnet');
    sup = startSupervisor(dir, base, cwd);
    const s = sup;
    await waitFor('the banner', async () => s.out().includes('stop with Ctrl-C'), 60_000);
    expect(s.out()).not.toContain('<home>');
    expect(s.out()).toContain(`log ${join(dir, 'node0', 'node.log')}`);
    expect(s.out()).toContain(`log ${join(dir, 'node1', 'node.log')}`);
    const info = JSON.parse(await devnetJson()) as DevnetInfo;
    pids.push(...info.nodes.map((n) => n.pid));
    await waitFor(
      'a status line with both nodes connected',
      async () => /^\d\d:\d\d:\d\d {2}height \d+ {2}peers 1\/1$/m.test(s.out()),
      30_000,
    );
  }, 100_000);

  it('a second vos devnet on the running devnet refuses and leaves devnet.json alone', async () => {
    const before = await devnetJson();
    const r = await runVos(['devnet', '--validators', '2', '--dir', dir, '--base-port', String(base)], {
      cwd,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${dir} is in use by process ${sup?.proc.pid} (vos devnet --validators 2 --dir ${dir} --base-port ${base}): that devnet is running\n`,
    );
    expect(await devnetJson()).toBe(before);
  }, 30_000);

  it('prints a line when a node exits (name, pid, signal, log path) and does not restart it', async () => {
    const info = JSON.parse(await devnetJson()) as DevnetInfo;
    const node1 = info.nodes[1];
    process.kill(node1.pid, 'SIGKILL');
    const s = sup as Supervisor;
    await waitFor(
      'the exit line',
      async () =>
        s
          .out()
          .includes(
            `node1 (pid ${node1.pid}) exited with signal SIGKILL; log ${join(node1.home, 'node.log')}; it stays down until: npx vos start --home ${node1.home}`,
          ),
      20_000,
    );
    await waitFor(
      'a status line showing node1 down',
      async () => /height \d+\/- {2}peers \d\/-$/m.test(s.out()),
      20_000,
    );
  }, 60_000);

  it('with the supervisor killed and node0 left running, vos devnet refuses naming node0', async () => {
    const info = JSON.parse(await devnetJson()) as DevnetInfo;
    const before = await devnetJson();
    sup?.proc.kill('SIGKILL');
    await new Promise((r) =>
      sup?.proc.exitCode !== null || sup?.proc.signalCode !== null ? r(null) : sup?.proc.once('exit', r),
    );
    expect(isAlive(info.nodes[0].pid)).toBe(true);
    const r = await runVos(['devnet', '--validators', '2', '--dir', dir, '--base-port', String(base)], {
      cwd,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${info.nodes[0].home} is in use by process ${info.nodes[0].pid} (vos start --home ${info.nodes[0].home}): stop it first\n`,
    );
    expect(await devnetJson()).toBe(before);
    process.kill(info.nodes[0].pid, 'SIGTERM');
    await waitFor('node0 stopped', async () => !isAlive(info.nodes[0].pid), 20_000);
  }, 60_000);

  it('a port taken by another program is named before any node starts', async () => {
    const before = await devnetJson();
    const rpc1 = base + 10;
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(rpc1, '127.0.0.1', () => r()));
    try {
      const r = await runVos(['devnet', '--validators', '2', '--dir', dir, '--base-port', String(base)], {
        cwd,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: port ${rpc1} (rpc.port in ${join(dir, 'node1', 'config.json')}) is already in use\n`,
      );
      expect(await devnetJson()).toBe(before);
      expect(existsSync(join(dir, 'node0', 'LOCK'))).toBe(false);
    } finally {
      await new Promise((r) => srv.close(() => r(null)));
    }
  }, 30_000);

  it('restarts on the same dir over the stale locks of kill -9, and Ctrl-C stops every node', async () => {
    // node1's lock is stale (kill -9); node0 stopped cleanly. (The killed supervisor's lock was taken
    // over and released by the refused runs above.)
    expect(existsSync(join(dir, 'node1', 'LOCK'))).toBe(true);
    const before = await devnetJson();
    sup = startSupervisor(dir, base, cwd);
    const s = sup;
    await waitFor('the banner', async () => s.out().includes('stop with Ctrl-C'), 60_000);
    const info = JSON.parse(await devnetJson()) as DevnetInfo;
    expect(await devnetJson()).not.toBe(before);
    pids.push(...info.nodes.map((n) => n.pid));
    s.proc.kill('SIGINT');
    await new Promise((r) => s.proc.once('exit', r));
    expect(s.proc.exitCode).toBe(0);
    expect(s.out()).toContain('stopping 2 nodes');
    for (const n of info.nodes) expect(s.out()).toContain(`${n.name} (pid ${n.pid}) stopped (code 0)`);
    for (const n of info.nodes) expect(isAlive(n.pid)).toBe(false);
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  }, 100_000);
});
