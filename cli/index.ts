/** The `vos` command: every subcommand accepts --json and fails with one line and a non-zero code. */
import { Command, CommanderError } from 'commander';
import { registerApp } from './commands/app.js';
import { registerDevnet } from './commands/devnet.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerMsg } from './commands/msg.js';
import { registerName } from './commands/name.js';
import { registerPublish } from './commands/publish.js';
import { registerSearch } from './commands/search.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerStore } from './commands/store.js';
import { registerStake, registerTx } from './commands/tx.js';
import { applyExamples } from './examples.js';
import { CliError, reportError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('vos')
    .description(
      'VOS node: a blockchain-based operating system (names, publish, search, storage, messaging, apps)',
    )
    .version('0.1.0')
    .exitOverride()
    // Usage errors are reported by main (as JSON with --json), not printed by commander itself.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} })
    .showHelpAfterError(false);
  registerInit(program);
  registerStart(program);
  registerDevnet(program);
  registerKeys(program);
  registerTx(program);
  registerStake(program);
  registerName(program);
  registerStore(program);
  registerPublish(program);
  registerSearch(program);
  registerMsg(program);
  registerApp(program);
  registerStatus(program);
  applyExamples(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const end = argv.indexOf('--');
  const json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // help and version exit 0
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    reportError(err, { json });
    if (process.env.VOS_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    if (err instanceof CommanderError) return 2;
    return err instanceof CliError ? err.exitCode : 1;
  }
}
