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
  | 'MEMPOOL_FULL';

export class TxError extends VosError<{ code: TxErrorCode } & Record<string, unknown>> {
  constructor(
    code: TxErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    peerAction?: PeerAction,
  ) {
    super({ code, ...context }, message, {
      peerAction:
        peerAction ??
        (code === 'MEMPOOL_FULL' || code === 'TX_ALREADY_KNOWN' ? PeerAction.Ignore : PeerAction.Reject),
    });
    this.name = 'TxError';
  }
}
