/** node/rpc.ts mapError for the app codes: limits are -32005, the hosting node's failures -32000. */
import { describe, expect, it } from '@jest/globals';
import { AppHostError } from '../../../node/app-host.js';
import { mapError } from '../../../node/rpc.js';
import { RpcCode } from '../../../rpc/errors.js';

const codeOf = (code: string) => {
  const e = mapError(new AppHostError({ code }, code));
  return { rpc: e?.code, data: e?.data };
};

describe('mapError: app codes', () => {
  it('a limit is LimitExceeded', () => {
    for (const c of ['APP_QUOTA', 'APP_GAS_CAP', 'APP_BUSY'])
      expect(codeOf(c)).toEqual({ rpc: RpcCode.LimitExceeded, data: { code: c } });
  });
  it('no answer, a bad answer or a failure on the hosting node is a server error', () => {
    for (const c of [
      'APP_NO_ANSWER',
      'APP_BAD_ANSWER',
      'APP_REMOTE_ERROR',
      'APP_ERROR',
      'APP_REPLY_TOO_LARGE',
    ])
      expect(codeOf(c)).toEqual({ rpc: RpcCode.ServerError, data: { code: c } });
  });
  it('the others as before', () => {
    for (const c of [
      'APP_NOT_SERVED',
      'APP_UNKNOWN_METHOD',
      'APP_BAD_ARGS',
      'APP_MALFORMED',
      'APP_NOT_FOUND',
    ])
      expect(codeOf(c).rpc).toBe(RpcCode.InvalidParams);
    expect(codeOf('APP_CODE_NOT_FOUND').rpc).toBe(RpcCode.ServerError);
  });
});
