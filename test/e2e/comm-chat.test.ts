/**
 * `vos chat NAME` between two nodes of a 2-validator devnet, each chat a real process on a pseudo-terminal
 * (util-linux `script`; no npm dependency): a line typed on one side shows on the other, prefixed by the
 * sender's name, and the sender sees its delivery tick; both directions; `/quit` ends both with code 0.
 * The reply is typed with readline line editing (Left arrows and Ctrl-K delete what was typed past the
 * cursor), which only works when the chat really runs on a terminal (readline `terminal: true`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RpcClient } from '../../rpc/client.js';
import { cliEnv, registerNames } from '../helpers/cli.js';
import {
  BIN,
  type DevnetInfo,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
  waitForNames,
} from '../helpers/devnet.js';

const rpc = (url: string) => new RpcClient(url, { timeoutMs: 10_000 });

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true')
      throw new Error(
        '`script` (util-linux) is required under CI=true: the chat runs on its pseudo-terminal',
      );
    return false;
  }
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Terminal output as text: without escape sequences (colours, cursor moves, line clears) and \r. */
const plain = (s: string) =>
  s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what is stripped
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g, '')
    .replace(/\r/g, '');

/** A command on a pseudo-terminal of its own: keys go to `type`, the screen output comes back in `text`. */
class Terminal {
  readonly proc: ChildProcess;
  raw = '';
  readonly exited: Promise<number | null>;

  constructor(argv: string[], cwd: string) {
    // A wide terminal, so readline does not wrap the lines it redraws.
    const cmd = `stty cols 200 rows 50; exec ${argv.map(sh).join(' ')}`;
    this.proc = spawn('script', ['-qfec', cmd, '/dev/null'], {
      cwd,
      env: cliEnv({ TERM: 'xterm-256color' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const collect = (d: Buffer) => {
      this.raw += d.toString('utf8');
    };
    this.proc.stdout?.on('data', collect);
    this.proc.stderr?.on('data', collect);
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  get text(): string {
    return plain(this.raw);
  }

  /** Keys as typed (raw mode: Enter is \r). */
  type(keys: string): void {
    this.proc.stdin?.write(keys);
  }

  /** The index in `text` after the first match of `re` at or after `from`. */
  async waitFor(what: string, re: RegExp, from = 0, ms = 30_000): Promise<{ end: number; match: string[] }> {
    return waitFor(
      `${what} (output so far: ${JSON.stringify(this.text.slice(-2000))})`,
      async () => {
        const t = this.text.slice(from);
        const m = re.exec(t);
        if (m !== null) return { end: from + m.index + m[0].length, match: [...m] };
        if (this.proc.exitCode !== null) throw new Error(`exited ${this.proc.exitCode}`);
        return undefined;
      },
      ms,
    );
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('vos chat between two nodes, on pseudo-terminals', () => {
  const ok = hasScript();
  let dir = '';
  let devnet: ChildProcess | undefined;
  let info: DevnetInfo;
  const tag = Math.random().toString(36).slice(2, 8);
  const alice = `alice-${tag}`;
  const bob = `bob-${tag}`;
  const terms: Terminal[] = [];

  beforeAll(async () => {
    if (!ok) return;
    dir = await mkdtemp(join(tmpdir(), 'vos-chat-'));
    ({ proc: devnet, info } = await startDevnet(dir, 2, randomBasePort(), {
      VOS_EMPTY_BLOCK_INTERVAL_MS: '200',
    }));
    const [n0, n1] = info.nodes;
    await waitFor(
      'the two nodes connected',
      async () => ((await rpc(n0.rpc).call('node_status', [])) as { peers: number }).peers >= 1,
      30_000,
    );
    const regs = await registerNames(
      [
        [alice, n0.home],
        [bob, n1.home],
      ],
      { cwd: dir, timeoutMs: 45_000 },
    );
    for (const r of regs) expect(r).toMatchObject({ code: 0 });
    // Each node knows both names (its own, to sign with it; the peer's, to check the claim).
    await waitForNames(
      [n0, n1],
      [
        [n0.address, alice],
        [n1.address, bob],
      ],
      15_000,
    );
  }, 90_000);

  afterAll(async () => {
    for (const t of terms) await stopProcess(t.proc, 'SIGKILL');
    await stopProcess(devnet);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('a line typed on one side shows on the other by name, with a tick on the sender; both ways; /quit', async () => {
    if (!ok) return;
    const [n0, n1] = info.nodes;
    // The pseudo-terminal is one: the child sees a TTY on stdin and stdout.
    const probe = new Terminal(
      [
        process.execPath,
        '-e',
        'process.stdout.write(["tty", process.stdin.isTTY, process.stdout.isTTY].join(":"))',
      ],
      dir,
    );
    terms.push(probe);
    expect(await probe.exited).toBe(0);
    expect(probe.text).toContain('tty:true:true');
    const vos = (args: string[]) => new Terminal([process.execPath, BIN, ...args], dir);
    const a = vos(['chat', bob, '--rpc', n0.rpc]);
    const b = vos(['chat', alice, '--rpc', n1.rpc]);
    terms.push(a, b);
    let [aAt, bAt] = await Promise.all([
      a.waitFor('A banner', new RegExp(`chat with ${esc(bob)} \\(vos1[^)]*\\); /quit to end\\n> `)),
      b.waitFor('B banner', new RegExp(`chat with ${esc(alice)} \\(vos1[^)]*\\); /quit to end\\n> `)),
    ]).then((r) => r.map((x) => x.end));

    // A -> B.
    const hello = `hello from a ${tag} ${Date.now()}`;
    a.type(`${hello}\r`);
    const seenB = await b.waitFor('the line from A on B', new RegExp(`${esc(alice)}: ${esc(hello)}\\n`), bAt);
    bAt = seenB.end;
    // A sees what it typed (readline echoes it), then the tick.
    const echoed = await a.waitFor('the typed line echoed on A', new RegExp(esc(hello)), aAt);
    const tickA = await a.waitFor('the tick on A', /✓ delivered (\S+)\n/, echoed.end);
    aAt = tickA.end;

    // B -> A, typed with line editing: two stray characters, two Left arrows, Ctrl-K (delete to the
    // end of the line). Only readline on a terminal (raw mode) edits the line; on a pipe or in the
    // tty's canonical mode the escape sequences and ^K would be sent as text.
    const reply = `reply from b ${tag} ${Date.now()}`;
    b.type(`${reply}XX\x1b[D\x1b[D\x0b\r`);
    await a.waitFor('the reply from B on A', new RegExp(`${esc(bob)}: ${esc(reply)}\\n`), aAt);
    const tickB = await b.waitFor('the tick on B', /✓ delivered (\S+)\n/, bAt);

    // The ticks are of those messages: delivered, in each sender's history.
    const outOf = async (url: string, text: string) =>
      (
        (await rpc(url).call('comm_history', [{ limit: 10 }] as never)) as {
          id: string;
          direction: string;
          text: string;
          status: string;
        }[]
      ).find((e) => e.direction === 'out' && e.text === text);
    const sentA = await outOf(n0.rpc, hello);
    const sentB = await outOf(n1.rpc, reply);
    expect(sentA?.status).toBe('delivered');
    expect(sentB?.status).toBe('delivered');
    expect(sentA?.id.startsWith(tickA.match[1])).toBe(true);
    expect(sentB?.id.startsWith(tickB.match[1])).toBe(true);
    // Nothing went wrong on either side.
    expect(a.text).not.toMatch(/not sent|Error/);
    expect(b.text).not.toMatch(/not sent|Error/);

    a.type('/quit\r');
    b.type('/quit\r');
    let timer: NodeJS.Timeout | undefined;
    const codes = await Promise.race([
      Promise.all([a.exited, b.exited]),
      new Promise((r) => (timer = setTimeout(() => r('still running 15 s after /quit'), 15_000))),
    ]);
    clearTimeout(timer);
    expect(codes).toEqual([0, 0]);
  }, 90_000);
});
