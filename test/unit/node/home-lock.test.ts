/** One process per home: the LOCK file, its stale takeover and its release. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { HomeLock } from '../../../node/home-lock.js';

let home = '';
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'vos-lock-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A pid that is not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid as number;
}

describe('HomeLock', () => {
  it('creates a home that does not exist yet (a node opened on a new home)', () => {
    const fresh = join(home, 'new', 'home');
    const lock = HomeLock.acquire(fresh);
    expect(existsSync(join(fresh, 'LOCK'))).toBe(true);
    lock.release();
  });

  it('writes the pid, refuses a second holder naming the first, and removes the file on release', async () => {
    const lock = HomeLock.acquire(home);
    expect((await readFile(join(home, 'LOCK'), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    expect(() => HomeLock.acquire(home)).toThrow(`${home} is in use by process ${process.pid}`);
    expect(HomeLock.holder(home)?.pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(home, 'LOCK'))).toBe(false);
    expect(HomeLock.holder(home)).toBeUndefined();
    HomeLock.acquire(home).release();
  });

  it('a lock held by a running process is refused with its pid and command', async () => {
    // A live process that is not us: our parent (the jest runner) is alive for the test's duration.
    const cmdline = await readFile(`/proc/${process.ppid}/cmdline`, 'latin1').catch(() => '');
    await writeFile(
      join(home, 'LOCK'),
      `${process.ppid}\nvos start --home ${home}\n${cmdline.replace(/\0$/, '')}\n`,
    );
    let err: unknown;
    try {
      HomeLock.acquire(home);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe(
      `${home} is in use by process ${process.ppid} (vos start --home ${home})`,
    );
    expect((err as { code?: string }).code).toBe('HOME_IN_USE');
  });

  it('takes over a stale lock whose process is gone (kill -9)', async () => {
    const pid = await deadPid();
    await writeFile(join(home, 'LOCK'), `${pid}\nvos start --home ${home}\n\n`);
    expect(HomeLock.holder(home)).toBeUndefined();
    const lock = HomeLock.acquire(home);
    expect((await readFile(join(home, 'LOCK'), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another program (pid reuse after a reboot)', async () => {
    if (process.platform !== 'linux') return;
    await writeFile(
      join(home, 'LOCK'),
      `${process.ppid}\nvos start --home ${home}\nnode\0/gone/vos.js\0start\n`,
    );
    HomeLock.acquire(home).release();
  });

  it('an unreadable or empty lock is stale', async () => {
    await writeFile(join(home, 'LOCK'), '');
    HomeLock.acquire(home).release();
  });

  it('release leaves a lock that another process took over alone', async () => {
    const lock = HomeLock.acquire(home);
    await writeFile(join(home, 'LOCK'), `${process.ppid}\nsomeone else\n\n`);
    lock.release();
    expect(existsSync(join(home, 'LOCK'))).toBe(true);
  });
});
