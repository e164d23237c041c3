/**
 * One process per home: `<home>/LOCK` holds the pid and command line of the process using the home.
 * It is created atomically (written aside, then hard-linked into place); a lock whose process is gone (kill -9, power loss) is
 * stale and taken over (also when its pid now belongs to another program). Released on close and, as a fallback, when the process exits.
 *
 * LevelDB's own lock (data/chain/LOCK) is the real guard of the database; this one exists so that a
 * second node on a home is refused with a message naming the process that holds it, before it touches
 * anything (ports, database, devnet.json).
 */
import { linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VosError } from '../util/errors.js';

export const LOCK_FILE = 'LOCK';

export type HomeLockErrorCode = 'HOME_IN_USE' | 'HOME_LOCK_FAILED';
export class HomeLockError extends VosError<{ code: HomeLockErrorCode; home: string; pid?: number }> {}

interface LockInfo {
  pid: number;
  command: string;
  /** The holder's /proc/<pid>/cmdline (Linux), compared on a check so a recycled pid is not taken for it. */
  argv: string;
}

/** Homes locked by this process (a second VosNode in the same process on the same home is refused too). */
const held = new Map<string, HomeLock>();

export class HomeLock {
  #released = false;
  readonly #onExit = () => this.release();

  private constructor(
    readonly file: string,
    readonly home: string,
  ) {
    process.once('exit', this.#onExit);
  }

  /** Take the lock of `dir` or throw HOME_IN_USE naming the holder. `what` names the dir in messages. */
  static acquire(dir: string, what = dir): HomeLock {
    const home = resolve(dir);
    const file = join(home, LOCK_FILE);
    const mine = held.get(file);
    if (mine !== undefined) throw inUse(what, home, { pid: process.pid, command: describeSelf(), argv: '' });
    // The content is written to a temporary file first and linked into place (atomic, fails when the
    // lock exists), so no other process ever reads a half-written lock. Two attempts: the second after
    // removing a stale lock.
    const tmp = `${file}.${process.pid}.tmp`;
    // A node opened on a new home creates it (as it creates its data directory).
    mkdirSync(home, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(tmp, `${process.pid}\n${describeSelf()}\n${selfCmdline()}\n`, { mode: 0o644 });
        linkSync(tmp, file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST')
          throw new HomeLockError(
            { code: 'HOME_LOCK_FAILED', home },
            `cannot lock ${what}: ${(err as Error).message}`,
            { cause: err },
          );
        const holder = readLock(file);
        if (holder !== undefined && holderAlive(holder)) throw inUse(what, home, holder);
        // Stale (its process is gone) or unreadable: take it over.
        try {
          unlinkSync(file);
        } catch {
          // removed by a concurrent taker; the next link decides
        }
        continue;
      } finally {
        rmSync(tmp, { force: true });
      }
      const lock = new HomeLock(file, home);
      held.set(file, lock);
      return lock;
    }
    const holder = readLock(file);
    throw inUse(what, home, holder ?? { pid: -1, command: 'unknown', argv: '' });
  }

  /** The process holding the lock of `dir`, or undefined when it is free or stale. */
  static holder(dir: string): { pid: number; command: string } | undefined {
    const file = join(resolve(dir), LOCK_FILE);
    const h = readLock(file);
    if (h === undefined) return undefined;
    if (h.pid === process.pid) return held.has(file) ? h : undefined;
    return holderAlive(h) ? h : undefined;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    process.off('exit', this.#onExit);
    held.delete(this.file);
    // Remove it only if it is still ours (never another process's lock that replaced a stale one).
    if (readLock(this.file)?.pid === process.pid) {
      try {
        unlinkSync(this.file);
      } catch {
        // already gone
      }
    }
  }
}

function inUse(what: string, home: string, holder: LockInfo): HomeLockError {
  return new HomeLockError(
    { code: 'HOME_IN_USE', home, pid: holder.pid },
    `${what} is in use by process ${holder.pid} (${holder.command})`,
  );
}

function readLock(file: string): LockInfo | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine, command = '', argv = ''] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, command, argv };
}

/** Whether the process that wrote the lock still runs (our own pid: only if we hold it, see `held`). */
function holderAlive(h: LockInfo): boolean {
  // Our pid but not held by us: left by an earlier process that had the same pid (containers restart
  // with the same pids).
  if (h.pid === process.pid) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform === 'linux' && h.argv !== '') {
    try {
      // Another program under a recycled pid (e.g. after a reboot): the lock is stale.
      return cmdlineOf(h.pid) === h.argv;
    } catch {
      return true;
    }
  }
  return true;
}

/** The NUL-joined command line of a process as the kernel has it (Linux), else ''. */
function cmdlineOf(pid: number | 'self'): string {
  if (process.platform !== 'linux') return '';
  // One line in the lock file: a NUL never occurs in an argument, a newline may.
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0$/, '').replace(/\n/g, ' ');
}

function selfCmdline(): string {
  try {
    return cmdlineOf('self');
  } catch {
    return '';
  }
}

/** `vos start --home X` for the CLI, else the script and its arguments. */
function describeSelf(): string {
  const [, script = '', ...args] = process.argv;
  const name = /(^|[/\\])vos(\.js)?$/.test(script) ? 'vos' : script;
  return [name, ...args].join(' ').slice(0, 300);
}
