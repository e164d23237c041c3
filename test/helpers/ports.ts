/**
 * Port blocks for tests, reserved across processes: jest runs test files in parallel workers, and two
 * files that draw random ports independently can pick the same one (CI once saw a node's RPC port taken
 * between a kill -9 and the restart). A block is BLOCK consecutive ports below Linux's ephemeral range
 * (32768-60999), so no outgoing connection takes one either; it is claimed by creating a file with
 * O_EXCL and held until the claiming process exits (a file left by a dead process is taken over).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ports per block: a 6-node devnet at base + 10i (+1, +2) and a few extra listeners fit. */
export const BLOCK = 100;
const FIRST = 20_000;
const BLOCKS = Math.floor((32_000 - FIRST) / BLOCK);
const DIR = join(tmpdir(), 'vos-test-ports');
const held: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function claim(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number(readFileSync(file, 'utf8'));
  if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
  rmSync(file, { force: true });
  return claim(file);
}

/** The first port of a block of BLOCK ports no other test process holds. */
export function reservePortBlock(): number {
  mkdirSync(DIR, { recursive: true });
  const start = Math.floor(Math.random() * BLOCKS);
  for (let i = 0; i < BLOCKS; i++) {
    const b = (start + i) % BLOCKS;
    const file = join(DIR, String(b));
    if (claim(file)) {
      if (held.length === 0) process.once('exit', release);
      held.push(file);
      return FIRST + b * BLOCK;
    }
  }
  throw new Error(`no free test port block in ${DIR} (${BLOCKS} blocks of ${BLOCK} are all held)`);
}

function release(): void {
  for (const f of held.splice(0)) rmSync(f, { force: true });
}
