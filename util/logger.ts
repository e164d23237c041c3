/** A small logger interface with pino behind it; components take a Logger and call child({module}). */
import { pino } from 'pino';

export interface Logger {
  error(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** File descriptor or path; default stdout. */
  destination?: number | string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  if (opts.format === 'pretty') {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { colorize: true, destination: opts.destination ?? 1 } },
    });
  }
  return pino({ level }, pino.destination({ dest: opts.destination ?? 1, sync: false }));
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Change the level of a running logger and every child made from it (pino children follow their
 * parent unless given their own level). Returns the previous level, or undefined when `logger` is not
 * a pino logger (a test double) and has no level to change.
 */
export function setLogLevel(logger: Logger, level: string): string | undefined {
  const l = logger as Partial<Pick<pino.Logger, 'level' | 'levels'>>;
  if (typeof l.level !== 'string' || l.levels === undefined) return undefined;
  if (level !== 'silent' && !(level in l.levels.values)) throw new Error(`unknown log level ${level}`);
  const previous = l.level;
  l.level = level;
  return previous;
}
