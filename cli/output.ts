/** Output helpers: `--json` prints one JSON document (or line); otherwise a short human text. */

export interface OutputOptions {
  json?: boolean;
}

export function jsonString(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export function emit(opts: OutputOptions, value: unknown, human: string | (() => string)): void {
  if (opts.json) process.stdout.write(`${jsonString(value)}\n`);
  else process.stdout.write(`${typeof human === 'function' ? human() : human}\n`);
}

/** An error the CLI reports as one line with a non-zero exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Parse a non-negative decimal amount. */
export function parseAmount(s: string, what = 'amount'): bigint {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(s))
    throw new CliError(`${what} must be a non-negative integer, got "${s}"`, 2);
  return BigInt(s);
}
