/**
 * The `vos` command as a user runs it: a real process (`node bin/vos.js ...`) with an explicit env
 * (jest's process.env does not reach children) and its own cwd (so no ./.devnet is picked up).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN, sleep } from './devnet.js';

const execFileAsync = promisify(execFile);

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a fresh shell: no passphrase, no home override, fast empty blocks. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VOS_EMPTY_BLOCK_INTERVAL_MS: '200', ...extra };
  for (const k of ['VOS_PASSPHRASE', 'VOS_HOME', 'VOS_RPC_PORT', 'VOS_P2P_PORT', 'VOS_DEBUG'])
    if (!(k in extra)) delete env[k];
  return env;
}

/** Run `vos ARGS` to its end (killed after `timeoutMs`: a hang fails the test instead of stalling it). */
export async function runVos(
  args: string[],
  o: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: o.cwd,
    env: cliEnv(o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
  await new Promise((r) => child.once('close', r));
  clearTimeout(timer);
  return { code: child.exitCode, signal: child.signalCode, stdout, stderr };
}

export interface Started {
  event: 'started';
  address: string;
  chainId: string;
  height: number;
  rpc: string;
  p2p: string[];
  home: string;
  pid: number;
}

/** `vos start --json --home HOME`: resolves with its "started" line (and the process) once it serves. */
export async function startNode(
  home: string,
  o: { cwd: string; args?: string[]; env?: Record<string, string> },
): Promise<{ proc: ChildProcess; started: Started; output: () => { stdout: string; stderr: string } }> {
  const proc = spawn(process.execPath, [BIN, 'start', '--home', home, '--json', ...(o.args ?? [])], {
    cwd: o.cwd,
    env: cliEnv(o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  proc.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const line = stdout.split('\n').find((l) => l.includes('"event":"started"'));
    if (line !== undefined)
      return { proc, started: JSON.parse(line) as Started, output: () => ({ stdout, stderr }) };
    if (proc.exitCode !== null) break;
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error(`vos start --home ${home} did not start (exit ${proc.exitCode}): ${stdout}\n${stderr}`);
}

/** `vos ARGS` with the test's own env: its exit code and output (a non-zero exit is not thrown). */
export async function execVos(args: string[], timeoutMs = 180_000) {
  try {
    const r = await execFileAsync(process.execPath, [BIN, ...args], {
      timeout: timeoutMs,
      maxBuffer: 1 << 22,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `vos ARGS --json`: the last JSON line it printed; a failure throws with its output. */
export async function execVosJson<T>(args: string[], timeoutMs?: number): Promise<T> {
  const r = await execVos([...args, '--json'], timeoutMs);
  if (r.code !== 0) throw new Error(`vos ${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as T;
}

/** `vos name register NAME --home HOME` for each pair at once (the caller checks the runs). */
export function registerNames(regs: [name: string, home: string][], o: { cwd: string; timeoutMs: number }) {
  return Promise.all(
    regs.map(([name, home]) =>
      runVos(['name', 'register', name, '--home', home, '--json'], { cwd: o.cwd, timeoutMs: o.timeoutMs }),
    ),
  );
}
