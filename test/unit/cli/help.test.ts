/**
 * --help of every runnable vos command ends with examples (cli/examples.ts), and each example runs
 * the command it is shown for; the built CLI prints them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { EXAMPLES, runnableCommands } from '../../../cli/examples.js';
import { buildProgram } from '../../../cli/index.js';

const run = promisify(execFile);

describe('vos --help', () => {
  it('every runnable command has examples, and they use that command', () => {
    const paths = runnableCommands(buildProgram()).map((c) => {
      const names: string[] = [];
      for (let x: typeof c | null = c; x?.parent != null; x = x.parent) names.unshift(x.name());
      return names.join(' ');
    });
    expect(paths.length).toBeGreaterThan(40);
    for (const p of paths) {
      expect([p, EXAMPLES[p]?.length ?? 0]).not.toEqual([p, 0]);
      for (const e of EXAMPLES[p])
        expect([p, e.startsWith(`vos ${p} `) || e === `vos ${p}`]).toEqual([p, true]);
    }
    // No examples for commands that do not exist.
    expect(Object.keys(EXAMPLES).filter((k) => !paths.includes(k))).toEqual([]);
  });

  it('the built CLI prints them after the options', async () => {
    const { stdout } = await run(process.execPath, ['bin/vos.js', 'app', 'deploy', '--help']);
    expect(stdout).toMatch(/Options:[\s\S]*Examples:\n {2}\$ vos app deploy apps\/build\/counter\.wasm/);
  });
});
