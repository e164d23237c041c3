/** The `vos` command: every subcommand accepts --json and fails with one line and a non-zero code. */
import { Command, CommanderError } from 'commander';
import { isVosError } from '../util/errors.js';
import { registerDevnet } from './commands/devnet.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerStake, registerTx } from './commands/tx.js';
import { CliError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('vos')
    .description(
      'VOS node: a blockchain-based operating system (names, publish, search, storage, messaging, apps)',
    )
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  registerInit(program);
  registerStart(program);
  registerDevnet(program);
  registerKeys(program);
  registerTx(program);
  registerStake(program);
  registerStatus(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`vos: ${oneLine(err)}\n`);
    if (process.env.VOS_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

function oneLine(err: unknown): string {
  const msg = isVosError(err) || err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ');
}
