/**
 * Output helpers: `--json` prints one JSON document (or line) on stdout; otherwise a short human text.
 * Errors: one line `error: MESSAGE` on stderr, or with `--json` `{"error":{"code","message"}}` on stdout.
 */
import { CommanderError } from 'commander';
import { RpcResponseError } from '../rpc/errors.js';
import { isVosError } from '../util/errors.js';

export interface OutputOptions {
  json?: boolean;
}

/** The one prefix of every CLI error line (commander's usage errors use it too). */
export const ERROR_PREFIX = 'error: ';

export function jsonString(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export function emit(opts: OutputOptions, value: unknown, human: string | (() => string)): void {
  if (opts.json) process.stdout.write(`${jsonString(value)}\n`);
  else process.stdout.write(`${typeof human === 'function' ? human() : human}\n`);
}

/** An error the CLI reports as one line with a non-zero exit code; `code` is its stable machine code. */
export class CliError extends Error {
  readonly code: string;
  constructor(
    message: string,
    readonly exitCode = 1,
    code?: string,
  ) {
    super(message);
    this.code = code ?? (exitCode === 2 ? 'INVALID_ARGUMENT' : 'CLI_ERROR');
  }
}

export interface ErrorReport {
  code: string;
  message: string;
  /** JSON-RPC error code, when the node refused the request. */
  rpcCode?: number;
}

/** The machine form of any error the CLI can meet. */
export function errorReport(err: unknown): ErrorReport {
  if (err instanceof CommanderError)
    return { code: 'USAGE', message: oneLine(err.message).replace(/^error: /, '') };
  if (err instanceof CliError) return { code: err.code, message: oneLine(err.message) };
  if (isVosError(err)) return { code: err.code, message: oneLine(err.message) };
  if (err instanceof RpcResponseError) {
    const data = err.data as { code?: unknown } | undefined;
    return {
      code: typeof data?.code === 'string' ? data.code : 'RPC_ERROR',
      message: oneLine(err.message),
      rpcCode: err.code,
    };
  }
  const message = oneLine(err instanceof Error ? err.message : String(err));
  // The RPC client's transport failures (rpc/client.ts): no node there, or it did not answer.
  if (/^cannot reach node at /.test(message))
    return {
      code: 'NODE_UNREACHABLE',
      message: `${message} (is a node running there? start one with \`npm start\` or \`vos start --home DIR\`, or pass --rpc URL)`,
    };
  if (/^node at .* did not answer within/.test(message)) return { code: 'NODE_TIMEOUT', message };
  return { code: 'ERROR', message };
}

/** Print an error the one way the CLI prints errors. */
export function reportError(err: unknown, opts: OutputOptions): void {
  const r = errorReport(err);
  if (opts.json) process.stdout.write(`${jsonString({ error: r })}\n`);
  else process.stderr.write(`${ERROR_PREFIX}${r.message}\n`);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Parse a non-negative decimal amount. */
export function parseAmount(s: string, what = 'amount'): bigint {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(s))
    throw new CliError(`${what} must be a non-negative integer, got "${s}"`, 2);
  return BigInt(s);
}
