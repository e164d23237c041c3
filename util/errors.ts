/**
 * Typed errors. Every domain defines a code union and throws `VosError<{code: ...}>` with typed context.
 * Errors caused by a peer carry the action the network layer should take against it.
 */
export enum PeerAction {
  /** Drop the message, no penalty (e.g. duplicate, stale). */
  Ignore = 'ignore',
  /** Invalid data: penalise the peer (score), disconnect past a threshold. */
  Reject = 'reject',
}

export type ErrorContext = { code: string } & Record<string, unknown>;

export class VosError<T extends ErrorContext = ErrorContext> extends Error {
  readonly type: T;
  readonly peerAction: PeerAction | undefined;

  constructor(type: T, message?: string, opts: { cause?: unknown; peerAction?: PeerAction } = {}) {
    super(message ?? type.code, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VosError';
    this.type = type;
    this.peerAction = opts.peerAction;
  }

  get code(): T['code'] {
    return this.type.code;
  }
}

export function isVosError(err: unknown): err is VosError {
  return err instanceof VosError;
}

/** Invariant check: a failure is a bug, not bad input. */
export function assert(cond: unknown, message = 'assertion failed'): asserts cond {
  if (!cond) throw new Error(message);
}
