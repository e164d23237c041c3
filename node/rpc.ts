/**
 * The VOS JSON-RPC methods (DESIGN.md "Fixed surface") on the generic server, plus /healthz and /metrics.
 * Domain errors are mapped to JSON-RPC errors here, at the edge only.
 */

import { Address } from '../chain/address.js';
import { CodecError } from '../chain/codec.js';
import { decodeValidatorRecord, validatorKey } from '../chain/ledger/accounts.js';
import { proofToJSON } from '../chain/state/proof.js';
import { TxError } from '../chain/tx/errors.js';
import { createTxFromRlp, MAX_TX_BYTES, type Tx } from '../chain/tx/tx.js';
import { validatorToJSON } from '../chain/validators.js';
import { connectionKinds } from '../p2p/connections.js';
import { RpcCode, RpcError } from '../rpc/errors.js';
import { RpcServer } from '../rpc/server.js';
import { fromHex, toHex } from '../util/bytes.js';
import { isVosError } from '../util/errors.js';
import type { VosNode } from './node.js';

/** Hex params up to 4x the max tx size reach the decoder, which names the size problem. */
const TX_HEX_MAX = 2 + 8 * MAX_TX_BYTES;

export function mapError(err: unknown): RpcError | undefined {
  if (err instanceof TxError) return new RpcError(RpcCode.TxRejected, err.message, { code: err.code });
  if (err instanceof CodecError)
    return new RpcError(RpcCode.TxRejected, `malformed: ${err.message}`, { code: 'TX_MALFORMED' });
  if (isVosError(err)) {
    const code = err.code;
    if (code === 'UNKNOWN_HEIGHT' || code === 'UNKNOWN_VERSION')
      return new RpcError(RpcCode.NotFound, err.message, { code });
    if (code === 'INVALID_ADDRESS' || code === 'INVALID_HEX' || code === 'INVALID_LENGTH') {
      return new RpcError(RpcCode.InvalidParams, err.message, { code });
    }
    return new RpcError(RpcCode.ServerError, err.message, { code });
  }
  return undefined;
}

function parseAddress(s: unknown): Address {
  return Address.fromString(s as string);
}

function decodeTx(hex: unknown): Tx {
  const bytes = fromHex(hex as string);
  if (bytes.length > MAX_TX_BYTES)
    throw new TxError('TX_TOO_LARGE', `tx is ${bytes.length} bytes, max ${MAX_TX_BYTES}`);
  return createTxFromRlp(bytes);
}

export function createRpcServer(node: VosNode): RpcServer {
  const cfg = node.config.rpc;
  const server = new RpcServer({
    host: cfg.host,
    port: cfg.port,
    maxBodyBytes: cfg.maxBodyBytes,
    maxBatch: cfg.maxBatch,
    adminToken: cfg.adminToken,
    logger: node.logger.child({ module: 'rpc' }),
    mapError,
    onRequest: (method, code) => node.metrics.rpcRequests.inc({ method, code: String(code) }),
    title: 'VOS node JSON-RPC',
  });
  const ledger = () => node.ledger;

  server.route('/healthz', (_req, res) => {
    const ok = node.ledger !== undefined;
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: ok ? 'ok' : 'starting', height: node.ledger?.head.height ?? 0 }));
  });
  server.route('/metrics', async (_req, res) => {
    const text = await node.metrics.register.metrics();
    res.writeHead(200, { 'Content-Type': node.metrics.register.contentType });
    res.end(text);
  });

  server.register('node_status', {
    summary: 'Chain id, head, peers, sync state, this node as a validator',
    params: [],
    handler: async () => {
      const head = ledger().head;
      const vals = await ledger().validatorsAt(head.height + 1);
      const me = vals.find((v) => v.address.equals(node.key.address));
      return {
        chainId: ledger().chainId,
        height: head.height,
        latestBlockHash: toHex(head.hash),
        latestBlockTime: new Date(head.time).toISOString(),
        latestStateRoot: toHex(head.stateRoot),
        peers: node.host?.getPeers().length ?? 0,
        syncing: node.sync?.syncing ?? false,
        connections: connectionKinds(node.host),
        listen: node.host?.getMultiaddrs().map(String) ?? [],
        validator: me ? { address: me.address.toString(), power: me.power.toString() } : null,
        address: node.key.address.toString(),
        moniker: node.config.moniker,
        rpc: node.rpcUrl,
        dns: node.config.dns.port,
        mempool: { size: node.mempool.size, bytes: node.mempool.bytes },
        consensus: node.consensus.roundState
          ? {
              height: node.consensus.roundState.height,
              round: node.consensus.roundState.round,
              step: node.consensus.roundState.step,
            }
          : null,
        uptimeSeconds: Math.floor((Date.now() - node.startedAt) / 1000),
      };
    },
  });

  server.register('chain_getParams', {
    summary: 'Chain parameters from genesis (gas price floor, block limits, epoch length, staking)',
    params: [],
    handler: () => {
      const p = ledger().params;
      return {
        chainId: ledger().chainId,
        minGasPrice: p.minGasPrice.toString(),
        maxBlockGas: p.maxBlockGas.toString(),
        maxBlockBytes: p.maxBlockBytes,
        epochLength: p.epochLength,
        unbondingPeriod: p.unbondingPeriod,
        minValidatorStake: p.minValidatorStake.toString(),
        maxValidators: p.maxValidators,
        slashFractionPpm: p.slashFractionPpm,
      };
    },
  });

  const blockAt = async (ref: unknown) => {
    const height =
      typeof ref === 'number' ? ref : await ledger().store.getHeightByHash(fromHex(ref as string, 32));
    if (height === undefined) return null;
    const block = await ledger().store.getBlock(height);
    return block ?? null;
  };

  server.register('chain_getBlock', {
    summary: 'A block by height or hash: {hash, header, txs, lastCommit, evidence} (null when unknown)',
    params: [{ name: 'block', type: 'heightOrHash' }],
    handler: async ([ref]) => (await blockAt(ref))?.toJSON() ?? null,
  });

  server.register('chain_getHeader', {
    summary: 'A block header with its hash (null when unknown)',
    params: [{ name: 'height', type: 'integer' }],
    handler: async ([h]) => {
      const block = await ledger().store.getBlock(h as number);
      return block ? { ...block.header.toJSON(), hash: toHex(block.hash()) } : null;
    },
  });

  server.register('chain_getCommit', {
    summary: 'The commit (> 2/3 precommits) of a height (null when unknown)',
    params: [{ name: 'height', type: 'integer' }],
    handler: async ([h]) => (await ledger().store.getCommit(h as number))?.toJSON() ?? null,
  });

  server.register('chain_getValidators', {
    summary: 'The validator set that signs a height (default: the next height)',
    params: [{ name: 'height', type: 'integer', optional: true }],
    handler: async ([h]) => {
      const height = (h as number | undefined) ?? ledger().head.height + 1;
      const vals = await ledger().validatorsAt(height);
      return {
        height,
        totalPower: vals.reduce((s, v) => s + v.power, 0n).toString(),
        validators: vals.map(validatorToJSON),
      };
    },
  });

  server.register('chain_getAccount', {
    summary: 'Balance, nonce (committed and pending), stake of an address',
    params: [{ name: 'address', type: 'address' }],
    handler: async ([a]) => {
      const address = parseAddress(a);
      const acct = await ledger().getAccount(address);
      const rec = await ledger().getState(validatorKey(address));
      const v = rec === undefined ? undefined : decodeValidatorRecord(rec);
      return {
        address: address.toString(),
        balance: acct.balance.toString(),
        nonce: acct.nonce.toString(),
        pendingNonce: node.mempool.nextNonce(address, acct.nonce).toString(),
        stake: (v?.stake ?? 0n).toString(),
        jailed: v?.jailed ?? false,
      };
    },
  });

  server.register('state_getProof', {
    summary:
      'Merkle proof (inclusion or non-inclusion) of a state key at a height, checkable against that header',
    params: [
      { name: 'key', type: 'hex', maxLength: 2 + 2 * 256 },
      { name: 'height', type: 'integer', optional: true },
    ],
    handler: async ([k, h]) => {
      const height = (h as number | undefined) ?? ledger().head.height;
      if (height > ledger().head.height)
        throw new RpcError(RpcCode.NotFound, `height ${height} is not committed yet`);
      const proof = await node.tree.prove(fromHex(k as string), height);
      const root = await node.tree.rootAt(height);
      return { height, stateRoot: toHex(root!), ...proofToJSON(proof) };
    },
  });

  server.register('tx_send', {
    summary: 'Submit a signed tx (0x-hex of its RLP); returns its hash once admitted to the mempool',
    params: [{ name: 'rawTx', type: 'hex', maxLength: TX_HEX_MAX }],
    handler: async ([raw]) => {
      const tx = decodeTx(raw);
      const { hash } = await node.mempool.add(tx);
      return { hash: toHex(hash) };
    },
  });

  server.register('tx_sendCommit', {
    summary: 'Submit a signed tx and wait until it is committed: {hash, height, receipt}',
    params: [{ name: 'rawTx', type: 'hex', maxLength: TX_HEX_MAX }],
    handler: async ([raw]) => {
      const tx = decodeTx(raw);
      const hash = toHex(tx.hash());
      const committed = waitForTx(node, hash, 60_000);
      try {
        await node.mempool.add(tx);
      } catch (err) {
        committed.cancel();
        throw err;
      }
      return committed.promise;
    },
  });

  server.register('tx_get', {
    summary: 'A committed tx with its receipt: {hash, height, index, tx, receipt} (null when unknown)',
    params: [{ name: 'hash', type: 'hex', maxLength: 66 }],
    handler: async ([h]) => {
      const hash = fromHex(h as string, 32);
      const loc = await ledger().store.getTxLocation(hash);
      if (loc === undefined) {
        const pending = node.mempool.get(hash);
        return pending
          ? {
              hash: toHex(hash),
              height: null,
              index: null,
              tx: pending.toJSON(),
              receipt: null,
              pending: true,
            }
          : null;
      }
      const block = await ledger().store.getBlock(loc.height);
      const receipts = await ledger().store.getReceipts(loc.height);
      return {
        hash: toHex(hash),
        height: loc.height,
        index: loc.index,
        tx: block!.txs[loc.index].toJSON(),
        receipt: receipts![loc.index].toJSON(),
      };
    },
  });

  node.events.on('block', ({ block, receipts }) => {
    if (server.hasSubscribers('newHeads'))
      server.publish('newHeads', {
        ...block.header.toJSON(),
        hash: toHex(block.hash()),
        txs: block.txs.length,
      });
    if (server.hasSubscribers('txs')) {
      block.txs.forEach((tx, i) => {
        server.publish('txs', {
          hash: toHex(tx.hash()),
          height: block.height,
          index: i,
          receipt: receipts[i].toJSON(),
        });
      });
    }
  });
  return server;
}

/** Resolves when a tx with this hash is committed (or rejects after `ms`). */
function waitForTx(node: VosNode, hash: string, ms: number) {
  let cancel = () => {};
  const promise = new Promise<unknown>((resolve, reject) => {
    const onBlock = ({
      block,
      receipts,
    }: {
      block: import('../chain/block.js').Block;
      receipts: import('../chain/receipt.js').Receipt[];
    }) => {
      const i = block.txs.findIndex((t) => toHex(t.hash()) === hash);
      if (i === -1) return;
      cancel();
      resolve({ hash, height: block.height, index: i, receipt: receipts[i].toJSON() });
    };
    const timer = setTimeout(() => {
      cancel();
      reject(
        new RpcError(
          RpcCode.Timeout,
          `tx ${hash} was not committed within ${ms / 1000} s (it may still be pending)`,
        ),
      );
    }, ms);
    cancel = () => {
      clearTimeout(timer);
      node.events.off('block', onBlock);
    };
    node.events.on('block', onBlock);
  });
  return { promise, cancel };
}
