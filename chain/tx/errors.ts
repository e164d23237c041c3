/** Why a tx is refused (mempool admission, block validation). Each code maps to a JSON-RPC app error. */
import { PeerAction, VosError } from '../../util/errors.js';

export type TxErrorCode =
  | 'TX_MALFORMED'
  | 'TX_WRONG_CHAIN'
  | 'TX_INVALID_SIGNATURE'
  | 'TX_NONCE_TOO_LOW'
  | 'TX_NONCE_TOO_HIGH'
  | 'TX_FEE_TOO_LOW'
  | 'TX_GAS_LIMIT_TOO_LOW'
  | 'TX_GAS_LIMIT_TOO_HIGH'
  | 'TX_TOO_LARGE'
  | 'TX_INSUFFICIENT_BALANCE'
  | 'TX_AMOUNT_OVERFLOW'
  | 'TX_ALREADY_KNOWN'
  | 'TX_REPLACEMENT_UNDERPRICED'
  | 'MEMPOOL_FULL'
  /** Executing it threw an unexpected error (a bug, or a resource of this node): never in a block. */
  | 'TX_EXECUTION_ERROR'
  /** The sender already has its share of the pool (count or bytes) pending. */
  | 'MEMPOOL_SENDER_FULL';

/** Refusals that are normal races or load, not the relaying peer's fault. */
const IGNORED = new Set<TxErrorCode>([
  'MEMPOOL_FULL',
  'MEMPOOL_SENDER_FULL',
  'TX_ALREADY_KNOWN',
  'TX_EXECUTION_ERROR',
]);

export class TxError extends VosError<{ code: TxErrorCode } & Record<string, unknown>> {
  constructor(
    code: TxErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    peerAction?: PeerAction,
  ) {
    super({ code, ...context }, message, {
      peerAction: peerAction ?? (IGNORED.has(code) ? PeerAction.Ignore : PeerAction.Reject),
    });
    this.name = 'TxError';
  }
}
