/**
 * JSON-RPC 2.0 errors. Standard codes plus VOS application codes (-32000..-32099). The node maps its
 * domain errors (VosError codes) to these at the edge only; `data.code` always carries the stable
 * string code (e.g. "TX_NONCE_TOO_LOW") so clients can branch on it.
 */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Generic server-side failure of a valid request. */
  ServerError: -32000,
  Unauthorized: -32001,
  /** Refused by the access policy before any work (Host not allowed, cross-origin): see data.configKey. */
  Forbidden: -32003,
  NotFound: -32002,
  /** The tx was refused (mempool admission or decoding): see data.code. */
  TxRejected: -32010,
  /** The request was valid but timed out waiting (e.g. tx_sendCommit). */
  Timeout: -32011,
  /** A limit was hit (batch or response size, connections, requests in flight): see data.code. */
  LimitExceeded: -32005,
} as const;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export const invalidParams = (message: string, data?: unknown) =>
  new RpcError(RpcCode.InvalidParams, message, data);
export const notFound = (message: string) => new RpcError(RpcCode.NotFound, message);

/** An error response received by the client. */
export class RpcResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcResponseError';
  }
}
