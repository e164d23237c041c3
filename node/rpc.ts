/**
 * The handlers of the VOS method table (rpc/methods.ts), one per method name, bound to this node; plus
 * GET /, /healthz and /metrics. Domain errors are mapped to JSON-RPC errors here, at the edge only.
 * Topics from each committed block: newHeads, txs (filter {account}), names (rpc/topics.ts); messages
 * from the comm service. A DB older than the account index is indexed in the background at start.
 */

import { peerIdFromString } from '@libp2p/peer-id';
import { Address, addressFromPublicKey } from '../chain/address.js';
import type { Block } from '../chain/block.js';
import { CodecError } from '../chain/codec.js';
import { decodeValidatorRecord, validatorKey } from '../chain/ledger/accounts.js';
import { buildStateProofAnswer, type ProofSource } from '../chain/light-client.js';
import { TxError } from '../chain/tx/errors.js';
import { createTxFromRlp, MAX_TX_BYTES, type Tx } from '../chain/tx/tx.js';
import { validatorToJSON } from '../chain/validators.js';
import { connectionKinds, kindOf } from '../p2p/connections.js';
import type { Handlers } from '../rpc/api.js';
import { RpcCode, RpcError } from '../rpc/errors.js';
import { type VosApi, vosApi } from '../rpc/methods.js';
import { RpcServer } from '../rpc/server.js';
import { type NameChange, NameSchedule, nameChangesOfTxs, nameMatches, txEventsOf } from '../rpc/topics.js';
import { type ControlApiDeps, controlNode, controlParams } from '../services/control/api.js';
import { type NamingApiDeps, resolveName, reverseName } from '../services/naming/api.js';
import { loadAllNames } from '../services/naming/feed.js';
import { getPublished, handleContent } from '../services/publish/api.js';
import { handleDownload, handleUpload, type StorageApiDeps, storageRpc } from '../services/storage/api.js';
import { fromHex, toHex } from '../util/bytes.js';
import { isVosError } from '../util/errors.js';
import { setLogLevel } from '../util/logger.js';
import { type AppApiDeps, appGet, appList, appQuery, toAppQuery } from '../vm/api.js';
import type { VosNode } from './node.js';
import { registerWebRoutes } from './web-routes.js';

/** The txs (and blocks) whose chain_getBlock answers are kept (see blockAt). */
const BLOCK_CACHE_TXS = 20_000;
/** How long tx_sendCommit waits for the commit. */
const SEND_COMMIT_TIMEOUT_MS = 60_000;
const DEFAULT_BAN_SECONDS = 3600;

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
    if (code === 'COMM_UNKNOWN_RECIPIENT' || code === 'COMM_BAD_TTL' || code === 'COMM_ATTACHMENT')
      return new RpcError(RpcCode.InvalidParams, err.message, { code });
    if (code === 'COMM_QUOTA' || code === 'COMM_TOO_LARGE')
      return new RpcError(RpcCode.LimitExceeded, err.message, { code });
    if (typeof code === 'string' && code.startsWith('NAME_'))
      return new RpcError(RpcCode.InvalidParams, err.message, { code });
    if (code === 'APP_QUOTA' || code === 'APP_GAS_CAP' || code === 'APP_BUSY')
      return new RpcError(RpcCode.LimitExceeded, err.message, { code });
    // The hosting node did not answer, or failed on its side.
    if (
      code === 'APP_NO_ANSWER' ||
      code === 'APP_BAD_ANSWER' ||
      code === 'APP_REMOTE_ERROR' ||
      code === 'APP_ERROR' ||
      code === 'APP_REPLY_TOO_LARGE'
    )
      return new RpcError(RpcCode.ServerError, err.message, { code });
    if (typeof code === 'string' && code.startsWith('APP_') && code !== 'APP_CODE_NOT_FOUND')
      return new RpcError(RpcCode.InvalidParams, err.message, { code });
    if (code === 'TOO_MANY_WAITERS') return new RpcError(RpcCode.LimitExceeded, err.message, { code });
    if (code === 'NOT_FOUND' || code === 'BLOCK_NOT_FOUND' || code === 'OBJECT_NOT_FOUND')
      return new RpcError(RpcCode.NotFound, err.message, { code });
    if (code === 'QUOTA_EXCEEDED' || code === 'TOO_LARGE')
      return new RpcError(RpcCode.LimitExceeded, err.message, { code });
    if (
      code === 'INVALID_CID' ||
      code === 'INVALID_ID' ||
      code === 'INVALID_QUERY' ||
      code === 'INVALID_CURSOR' ||
      code === 'INVALID_PARAMS' ||
      code === 'NOT_OWNER'
    )
      return new RpcError(RpcCode.InvalidParams, err.message, { code });
    return new RpcError(RpcCode.ServerError, err.message, { code });
  }
  return undefined;
}

function decodeTx(hex: string): Tx {
  const bytes = fromHex(hex);
  if (bytes.length > MAX_TX_BYTES)
    throw new TxError('TX_TOO_LARGE', `tx is ${bytes.length} bytes, max ${MAX_TX_BYTES}`);
  return createTxFromRlp(bytes);
}

function parsePeer(s: string) {
  try {
    return peerIdFromString(s);
  } catch {
    throw new RpcError(RpcCode.InvalidParams, 'invalid param "peer": not a libp2p peer id', {
      param: 'peer',
    });
  }
}

export function createRpcServer(node: VosNode): RpcServer<VosApi> {
  const cfg = node.config.rpc;
  const ledger = () => node.ledger;
  const waiters = node.txWaiters;

  /** Refusals at admission through RPC (decoding and mempool), counted by code. */
  const countRejected = (err: unknown) => {
    const code = err instanceof TxError ? err.code : err instanceof CodecError ? 'TX_MALFORMED' : undefined;
    if (code !== undefined) node.metrics.mempoolRejected.inc({ code });
  };
  const decode = (raw: string) => {
    try {
      return decodeTx(raw);
    } catch (err) {
      countRejected(err);
      throw err;
    }
  };
  const submit = async (tx: Tx) => {
    try {
      await node.mempool.add(tx);
    } catch (err) {
      countRejected(err);
      throw err;
    }
  };

  /**
   * chain_getBlock's answers of the blocks asked for last, at most BLOCK_CACHE_TXS txs in all (a height's
   * block never changes once committed). PERF: decoding a block and its JSON (a hash and two bech32
   * addresses per tx) is ~9 us per tx, ~8x the cost of sending the answer (bench/rpc.bench.ts);
   * explorers ask for the same recent blocks over and over.
   */
  const blockJson = new Map<number, { json: ReturnType<Block['toJSON']>; weight: number }>();
  let blockJsonWeight = 0;
  const blockAt = async (ref: number | string) => {
    const height = typeof ref === 'number' ? ref : await ledger().store.getHeightByHash(fromHex(ref, 32));
    if (height === undefined) return null;
    const hit = blockJson.get(height);
    if (hit !== undefined) {
      blockJson.delete(height);
      blockJson.set(height, hit);
      return hit.json;
    }
    const block = await ledger().store.getBlock(height);
    if (block === undefined) return null;
    const json = block.toJSON();
    const weight = block.txs.length + 1;
    if (weight <= BLOCK_CACHE_TXS / 4 && !blockJson.has(height)) {
      blockJson.set(height, { json, weight });
      blockJsonWeight += weight;
      for (const [h, e] of blockJson) {
        if (blockJsonWeight <= BLOCK_CACHE_TXS) break;
        blockJson.delete(h);
        blockJsonWeight -= e.weight;
      }
    }
    return json;
  };

  /** state_getProof's answer: the proof of `key` at `height` with that header and its commit. */
  const proofSource: ProofSource = {
    headHeight: () => ledger().head.height,
    getBlock: (h) => ledger().store.getBlock(h),
    getCommit: (h) => ledger().store.getCommit(h),
    prove: (key, h) => node.tree.prove(key, h),
  };
  const stateProof = (key: Uint8Array, height: number) => buildStateProofAnswer(proofSource, key, height);
  const naming: NamingApiDeps<Awaited<ReturnType<typeof stateProof>>> = {
    getState: (key) => ledger().getState(key),
    headHeight: () => ledger().head.height,
    params: node.genesis.params.naming,
    prove: stateProof,
  };

  const storage: StorageApiDeps = {
    get store() {
      return node.storage;
    },
    maxBytes: node.config.storage.maxBytes,
    get net() {
      return node.storageNet;
    },
  };

  const control: ControlApiDeps = {
    get: (key) => ledger().getState(key),
    params: node.genesis.params,
    headHeight: () => ledger().head.height,
  };

  const apps: AppApiDeps = {
    getAt: (key, height) => node.tree.getAt(key, height),
    head: () => ({ height: ledger().head.height, time: ledger().head.time }),
    maxGas: BigInt(node.config.app.queryGas),
    indexed: (prefix) => ledger().store.indexed(prefix),
  };

  const publish = {
    getState: (key: Uint8Array) => ledger().getState(key),
    indexed: (prefix: Uint8Array) => ledger().store.indexed(prefix),
    storage,
  };

  const handlers: Handlers<VosApi> = {
    node_status: async () => {
      const head = ledger().head;
      const vals = await ledger().validatorsAt(head.height + 1);
      const me = vals.find((v) => v.address.equals(node.key.address));
      const rs = node.consensus.roundState;
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
        ...(node.dns?.port != null ? { dns: node.dns.port } : {}),
        mempool: { size: node.mempool.size, bytes: node.mempool.bytes },
        consensus: rs ? { height: rs.height, round: rs.round, step: rs.step } : null,
        uptimeSeconds: Math.floor((Date.now() - node.startedAt) / 1000),
      };
    },

    chain_getParams: () => {
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
        naming: {
          ...p.naming,
          pricesByLength: p.naming.pricesByLength.map(String),
          reserved: [...p.naming.reserved],
        },
      };
    },

    chain_getBlock: ([ref]) => blockAt(ref),

    chain_getHeader: async ([h]) => {
      const block = await ledger().store.getBlock(h);
      return block ? { ...block.header.toJSON(), hash: toHex(block.hash()) } : null;
    },

    chain_getCommit: async ([h]) => (await ledger().store.getCommit(h))?.toJSON() ?? null,

    chain_getValidators: async ([h]) => {
      const height = h ?? ledger().head.height + 1;
      const vals = await ledger().validatorsAt(height);
      return {
        height,
        totalPower: vals.reduce((sum, v) => sum + v.power, 0n).toString(),
        validators: vals.map(validatorToJSON),
      };
    },

    chain_getAccount: async ([a]) => {
      const address = Address.fromString(a);
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

    chain_getAccountTxs: async ([a, o]) => {
      const address = Address.fromString(a);
      const limit = o?.limit ?? 20;
      const before = o?.before?.split('.').map(Number);
      const page = await ledger().store.getAccountTxs(address.bytes, {
        limit,
        before: before === undefined ? undefined : { height: before[0], index: before[1] },
      });
      const last = page.txs.at(-1);
      return {
        txs: page.txs.map((t) => ({ ...t, hash: toHex(t.hash) })),
        cursor: page.more && last !== undefined ? `${last.height}.${last.index}` : null,
      };
    },

    state_getProof: async ([k, h]) => stateProof(fromHex(k), h ?? ledger().head.height),

    name_resolve: ([name, options]) => resolveName(naming, name, options?.proof === true),
    name_reverse: ([address]) => reverseName(naming, address),

    ...storageRpc(storage),

    publish_get: ([idOrCid]) => getPublished(publish, idOrCid),
    search_query: ([q]) => node.search.query(q),

    tx_send: async ([raw]) => {
      const tx = decode(raw);
      await submit(tx);
      return { hash: toHex(tx.hash()) };
    },

    tx_sendCommit: async ([raw]) => {
      const tx = decode(raw);
      const hash = toHex(tx.hash());
      // Registered before admission: the block that commits the tx may come right after it.
      const wait = waiters.wait(
        tx.hash(),
        SEND_COMMIT_TIMEOUT_MS,
        () =>
          new RpcError(
            RpcCode.Timeout,
            `tx ${hash} was not committed within ${SEND_COMMIT_TIMEOUT_MS / 1000} s (it may still be pending)`,
          ),
      );
      try {
        await submit(tx);
      } catch (err) {
        wait.cancel();
        throw err;
      }
      const c = await wait.promise;
      return { hash, height: c.height, index: c.index, receipt: c.receipt.toJSON() };
    },

    tx_get: async ([h]) => {
      const hash = fromHex(h, 32);
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

    admin_peers: () => {
      const host = node.host;
      const scorer = node.scorer;
      const peers = (host?.getPeers() ?? []).map((peer) => {
        const raw = peer.publicKey?.raw;
        return {
          id: peer.toString(),
          address: peer.type === 'Ed25519' && raw !== undefined ? addressFromPublicKey(raw).toString() : null,
          score: scorer?.scoreOf(peer) ?? 0,
          connections: host!.getConnections(peer).map((c) => ({
            transport: kindOf(c),
            remoteAddr: c.remoteAddr.toString(),
            direction: c.direction,
            openedAt: c.timeline.open,
          })),
        };
      });
      return { peers, banned: (scorer?.bans() ?? []).map((b) => ({ id: b.peer, until: b.until })) };
    },

    admin_ban: ([p, seconds]) => {
      const scorer = node.scorer;
      if (scorer === undefined) throw new RpcError(RpcCode.ServerError, 'this node has no P2P host');
      const peer = parsePeer(p);
      const until = scorer.ban(peer, (seconds ?? DEFAULT_BAN_SECONDS) * 1000);
      return { id: peer.toString(), until };
    },

    admin_unban: ([p]) => {
      const peer = parsePeer(p);
      return { id: peer.toString(), wasBanned: node.scorer?.unban(peer) ?? false };
    },

    admin_mempoolFlush: () => {
      const removed = node.mempool.size;
      node.mempool.clear();
      node.metrics.mempoolSize.set(node.mempool.size);
      node.logger.warn({ removed }, 'mempool flushed by the operator');
      return { removed };
    },

    app_query: async ([call]) => {
      const r = await appQuery(apps, call);
      node.metrics.appCalls.inc({ where: 'query', halt: r.halt });
      node.metrics.appGas.inc({ where: 'query' }, Number(r.gasUsed));
      return r;
    },
    app_callHosted: async ([c]) => {
      const q = toAppQuery(c);
      return node.apps.callRemote(c.via, {
        app: q.app,
        method: q.method,
        args: q.args,
        input: q.input,
        gas: q.gas ?? 10_000_000n,
      }) as never;
    },
    app_hosted: () => node.apps.served,
    admin_appServe: ([app]) => node.apps.serve(app),
    app_get: ([app]) => appGet(apps, app),
    app_list: ([q]) => appList(apps, q ?? {}),

    control_getParams: () => controlParams(control),
    control_getNode: ([address]) => controlNode(control, address),

    comm_send: ([to, text, options]) => node.comm.send(to, text, options ?? {}),
    comm_subscribe: (_params, ctx) => server.subscribe('messages', ctx),
    comm_history: ([q]) => node.comm.history(q ?? {}),
    comm_attachment: ([id, index]) => node.comm.attachment(id, index),
    comm_info: async () => ({
      address: node.key.address.toString(),
      name: (await reverseName(naming, node.key.address.toString()))?.name ?? null,
      encryptionKey: toHex(node.comm.encryptionKey),
      mailbox: { held: node.comm.store.heldMessages },
    }),

    admin_setLogLevel: ([level]) => {
      const previous = setLogLevel(node.logger, level);
      if (previous === undefined)
        throw new RpcError(RpcCode.ServerError, "this node's logger has no level to change");
      node.logger.warn({ level, previous }, 'log level changed by the operator');
      return { level, previous };
    },
  };

  const server = new RpcServer({
    api: vosApi,
    handlers,
    host: cfg.host,
    port: cfg.port,
    maxBodyBytes: cfg.maxBodyBytes,
    maxBatch: cfg.maxBatch,
    maxResponseBytes: cfg.maxResponseBytes,
    maxConnections: cfg.maxConnections,
    maxWsInflight: cfg.wsMaxInflight,
    ratePerIp: cfg.ratePerIp,
    rateBurst: cfg.rateBurst,
    maxHttpConnectionsPerIp: cfg.maxHttpConnectionsPerIp,
    maxWsConnectionsPerIp: cfg.maxWsConnectionsPerIp,
    hosts: cfg.hosts,
    corsOrigins: cfg.corsOrigins,
    adminToken: cfg.adminToken,
    logger: node.logger.child({ module: 'rpc' }),
    metrics: node.metrics,
    mapError,
    title: 'VOS node JSON-RPC',
  });

  registerWebRoutes(server, {
    info: () => ({ chainId: node.ledger.chainId, height: node.ledger.head.height, rpcUrl: node.rpcUrl }),
  });
  server.postRoute('/storage', (req, res) => handleUpload(storage, req, res));
  server.route('/storage/*', (req, res) => handleDownload(storage, req, res));
  server.route('/content/*', (req, res) => handleContent(publish, req, res));
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

  node.comm.onEvent((e) => {
    if (server.hasSubscribers('messages')) server.publish('messages', e);
  });

  // The lazy name changes (expiry, a transfer taking effect) need every name: loaded the first time
  // someone subscribes to names, then kept up to date by each block.
  let names: NameSchedule | undefined;
  /** While the names load: the blocks' tx changes meanwhile, taken in after the load. */
  let namesBacklog: { height: number; changes: NameChange[] }[] | undefined;
  const loadNames = async () => {
    namesBacklog = [];
    const schedule = new NameSchedule(node.genesis.params.naming.gracePeriod);
    const height = ledger().head.height;
    schedule.load(await loadAllNames(ledger().store), height);
    for (const b of namesBacklog) {
      schedule.advance(b.height);
      schedule.apply(b.changes);
    }
    namesBacklog = undefined;
    names = schedule;
  };

  node.events.on('block', ({ block, receipts }) => {
    if (server.hasSubscribers('newHeads'))
      server.publish('newHeads', {
        ...block.header.toJSON(),
        hash: toHex(block.hash()),
        txs: block.txs.length,
      });
    if (server.hasSubscribers('txs')) {
      for (const { payload, accounts } of txEventsOf(block, receipts))
        server.publish('txs', payload, (f) => f.account === undefined || accounts.includes(f.account));
    }
    const watching = server.hasSubscribers('names');
    if (names === undefined && namesBacklog === undefined && !watching) return;
    const lazy = names?.advance(block.height) ?? [];
    const changes = nameChangesOfTxs(block, receipts);
    names?.apply(changes);
    namesBacklog?.push({ height: block.height, changes });
    if (watching) for (const c of [...lazy, ...changes]) server.publish('names', c, (f) => nameMatches(c, f));
    if (names === undefined && namesBacklog === undefined)
      loadNames().catch((err) => {
        namesBacklog = undefined;
        node.logger.warn({ err: String(err) }, 'loading the names for the names topic failed');
      });
  });

  // A chain DB written before the account index (chain/store/account-index.ts) is indexed once.
  void (async () => {
    const store = ledger().store;
    if (await store.accountIndexComplete()) return;
    const n = await store.backfillAccountIndex(ledger().head.height);
    node.logger.info({ blocks: n }, 'account index built for the stored blocks');
  })().catch((err) => node.logger.debug({ err: String(err) }, 'account index backfill stopped'));
  return server;
}
