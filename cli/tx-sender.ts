/** Build, sign and submit a tx through a node's RPC, waiting for the commit. */
import type { PrivateKey } from '../chain/keys.js';
import type { TxPayload } from '../chain/tx/kinds.js';
import { Tx } from '../chain/tx/tx.js';
import type { RpcClient } from '../rpc/client.js';
import { toHex } from '../util/bytes.js';

export interface SendOptions {
  gasPrice?: bigint;
  gasLimit?: bigint;
}

export interface Committed {
  hash: string;
  height: number;
  receipt: { status: 'ok' | 'failed'; gasUsed: string; error: string | null; events: unknown[] };
}

export const DEFAULT_GAS_LIMIT = 200_000n;

export async function sendAndCommit(
  client: RpcClient,
  key: PrivateKey,
  payload: TxPayload,
  opts: SendOptions = {},
): Promise<Committed> {
  const status = await client.call<{ chainId: string }>('node_status', []);
  const params = await client.call<{ minGasPrice: string }>('chain_getParams', []);
  const acct = await client.call<{ nonce: string; pendingNonce: string }>('chain_getAccount', [
    key.address.toString(),
  ]);
  const tx = Tx.sign(
    {
      chainId: status.chainId,
      nonce: BigInt(acct.pendingNonce ?? acct.nonce),
      payload,
      gasLimit: opts.gasLimit ?? DEFAULT_GAS_LIMIT,
      gasPrice: opts.gasPrice ?? BigInt(params.minGasPrice),
    },
    key,
  );
  return client.call<Committed>('tx_sendCommit', [toHex(tx.serialize())]);
}
