/**
 * Real processes for e2e tests: `vos devnet` (the fixed surface) and single `vos start` nodes, with
 * RPC helpers. Everything listens on 127.0.0.1 on a random port range and is killed by the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../../rpc/client.js';
import { reservePortBlock } from './ports.js';

export const BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bin', 'vos.js');

export interface DevnetInfo {
  chainId: string;
  nodes: {
    name: string;
    home: string;
    pid: number;
    rpc: string;
    p2p: string;
    address: string;
    dns: string;
  }[];
}

/** The first of BLOCK ports reserved for this test process (test/helpers/ports.ts). */
export function randomBasePort(): number {
  return reservePortBlock();
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms: number,
): Promise<T> {
  const end = Date.now() + ms;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
}

/** Start `vos devnet`; resolves once devnet.json lists every node and each answers RPC. */
export async function startDevnet(
  dir: string,
  validators: number,
  basePort: number,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<{ proc: ChildProcess; info: DevnetInfo }> {
  const proc = spawn(
    process.execPath,
    [
      BIN,
      'devnet',
      '--validators',
      String(validators),
      '--dir',
      dir,
      '--base-port',
      String(basePort),
      ...args,
    ],
    // Explicit env: jest's sandboxed process.env does not reach child processes.
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let stderr = '';
  proc.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  proc.stdout?.resume();
  const info = await waitFor(
    'devnet.json',
    async () => {
      if (proc.exitCode !== null) throw new Error(`vos devnet exited ${proc.exitCode}: ${stderr}`);
      const file = join(dir, 'devnet.json');
      if (!existsSync(file)) return undefined;
      const j = JSON.parse(await readFile(file, 'utf8')) as DevnetInfo;
      return j.nodes.length === validators ? j : undefined;
    },
    60_000,
  );
  return { proc, info };
}

export async function stopProcess(proc: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  // The timer is cleared once the process exits, so it does not keep jest alive for 15 s.
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
  clearTimeout(timer);
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function heightOf(rpc: string): Promise<number> {
  const s = (await new RpcClient(rpc, { timeoutMs: 2000 }).call('node_status', [])) as { height: number };
  return s.height;
}

export async function blockHashAt(rpc: string, height: number): Promise<string> {
  const b = (await new RpcClient(rpc, { timeoutMs: 5000 }).call('chain_getBlock', [height])) as {
    hash: string;
  } | null;
  if (b === null) throw new Error(`${rpc} has no block ${height}`);
  return b.hash;
}

/** Wait until each node reverse-resolves each [address, name] (its own, to sign with; peers', to check). */
export async function waitForNames(
  nodes: { name: string; rpc: string }[],
  names: [address: string, name: string][],
  timeoutMs: number,
): Promise<void> {
  for (const n of nodes) {
    const client = new RpcClient(n.rpc, { timeoutMs: 10_000 });
    for (const [address, name] of names)
      await waitFor(
        `${name} on ${n.name}`,
        async () => (await client.call<{ name: string } | null>('name_reverse', [address]))?.name === name,
        timeoutMs,
      );
  }
}
