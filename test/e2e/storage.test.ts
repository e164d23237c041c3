/**
 * Local storage on a real node process through the CLI: 1 GiB (VOS_STORAGE_E2E_MB) goes in with
 * `vos store put` (from a named pipe) and out with `vos store get` (to stdout), identical, while the node's peak RSS (VmHWM in
 * /proc/<pid>/status) stays under 300 MB; `vos store stat`; a get of an unknown CID fails cleanly.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BIN, randomBasePort, stopProcess, waitFor } from '../helpers/devnet.js';

const run = promisify(execFile);
const MB = Number(process.env.VOS_STORAGE_E2E_MB ?? 1024);

async function vos(args: string[]) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 300_000, maxBuffer: 1 << 20 });
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '' };
  }
}

async function peakRssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
}

describe(`local storage on a node process (${MB} MiB)`, () => {
  let dir = '';
  let node: ChildProcess | undefined;
  let rpc = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-store-e2e-'));
    const port = randomBasePort();
    rpc = `127.0.0.1:${port}`;
    const init = await vos(['init', '--home', join(dir, 'home'), '--rpc-port', String(port), '--json']);
    expect(init.code).toBe(0);
    node = spawn(process.execPath, [BIN, 'start', '--home', join(dir, 'home'), '--log-level', 'warn'], {
      stdio: 'ignore',
    });
    await waitFor(
      'the node',
      async () => ((await vos(['status', '--rpc', rpc, '--json'])).code === 0 ? true : undefined),
      60_000,
    );
  }, 180_000);

  afterAll(async () => {
    await stopProcess(node);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('put then get: identical bytes; the node peak RSS under 300 MB', async () => {
    // The input is a named pipe fed with random bytes as they are hashed, and the output is hashed as
    // it comes out of `vos store get` (stdout): the node's store is the only copy on disk.
    const fifo = join(dir, 'in.fifo');
    await run('mkfifo', [fifo]);
    const putting = vos(['store', 'put', fifo, '--rpc', rpc, '--json']);
    const sent = createHash('sha256');
    const w = createWriteStream(fifo);
    for (let i = 0; i < MB / 4; i++) {
      const piece = randomBytes(4 * 1024 * 1024);
      sent.update(piece);
      if (!w.write(piece)) await new Promise<void>((r) => w.once('drain', () => r()));
    }
    await new Promise<void>((r) => w.end(() => r()));
    const put = await putting;
    expect(put.code).toBe(0);
    const r = JSON.parse(put.stdout) as { id: string; cid: string; size: number };
    expect(r).toMatchObject({ size: MB * 1024 * 1024, id: r.cid });
    expect(r.cid).toMatch(/^bafybei/);
    const get = spawn(process.execPath, [BIN, 'store', 'get', r.id, '--rpc', rpc], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const got = createHash('sha256');
    let n = 0;
    for await (const c of get.stdout) {
      got.update(c as Buffer);
      n += (c as Buffer).length;
    }
    expect(n).toBe(MB * 1024 * 1024);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    const stat = JSON.parse((await vos(['store', 'stat', r.id, '--rpc', rpc, '--json'])).stdout);
    expect(stat).toMatchObject({ cid: r.cid, size: MB * 1024 * 1024, pinned: true });
    const peak = await peakRssKb(node?.pid as number);
    process.stdout.write(`node peak RSS after a ${MB} MiB put and get: ${(peak / 1024).toFixed(0)} MB\n`);
    expect(peak).toBeLessThan(300 * 1024);
  }, 300_000);

  it('an unknown or malformed id fails with a code and writes no file', async () => {
    const unknown = await vos([
      'store',
      'get',
      'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
      '-o',
      join(dir, 'x.bin'),
      '--rpc',
      rpc,
      '--json',
    ]);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.code).toBe('NOT_FOUND');
    const bad = await vos(['store', 'get', 'nope', '--rpc', rpc, '--json']);
    expect(JSON.parse(bad.stdout).error.code).toBe('INVALID_CID');
    await expect(readFile(join(dir, 'x.bin'))).rejects.toThrow();
  });
});
