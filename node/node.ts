/**
 * VosNode: the one composition root. Builds every part from a home directory, wires them by events,
 * opens them in dependency order and closes them in reverse:
 *   chain DB -> state tree -> ledger -> signature pool -> mempool -> WAL + signer guard -> consensus
 *   -> RPC server (HTTP + WebSocket, /metrics, /healthz).
 */
import '../services/naming/state.js'; // registers the naming tx kinds with the ledger
import '../services/publish/state.js'; // and the publish kinds
import '../services/storage/state.js'; // and the storage kinds and audit epochs
import '../services/control/state.js'; // and the control kinds, epoch end and power rule
import '../vm/state.js'; // and the app kinds (deploy, create, call, migrate)
import './app-lookups.js'; // the naming and publish lookups of the app host API
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClassicLevel } from 'classic-level';
import { Address } from '../chain/address.js';
import { frameBudget } from '../chain/budget.js';
import type { PrivateKey } from '../chain/keys.js';
import { loadKey } from '../chain/keystore.js';
import { Ledger } from '../chain/ledger/ledger.js';
import type { GenesisState } from '../chain/ledger/params.js';
import { CachingVerifier } from '../chain/ledger/verifier.js';
import { Mempool } from '../chain/mempool/mempool.js';
import { VerifyPool } from '../chain/mempool/verify-pool.js';
import type { StateTree } from '../chain/state/tree.js';
import { openChainDb } from '../chain/store/chain-db.js';
import { ConsensusDriver, type ConsensusTransport } from '../consensus/driver.js';
import { TendermintEngine } from '../consensus/engine/engine.js';
import { ProposerSchedule } from '../consensus/proposer-schedule.js';
import { ConsensusReactor } from '../consensus/reactor.js';
import { SignerGuard } from '../consensus/signer-guard.js';
import { createValidatorSetFromRlp } from '../consensus/validator-set.js';
import { Wal } from '../consensus/wal.js';
import { genesisHash, loadGenesisFile } from '../genesis/genesis.js';
import { BlockSync, trustAllowsBlock } from '../p2p/blocksync.js';
import { connectionKinds, QuicKeeper } from '../p2p/connections.js';
import { addressOfPeer, createHost, listenAddrs, type VosHost } from '../p2p/host.js';
import { PeerScorer } from '../p2p/peer-scorer.js';
import { TxGossip } from '../p2p/tx-gossip.js';
import { RpcCode, RpcError } from '../rpc/errors.js';
import type { VosApi } from '../rpc/methods.js';
import type { RpcServer } from '../rpc/server.js';
import { CommService } from '../services/comm/service.js';
import { type ControlApiDeps, controlNode, quotasOf } from '../services/control/api.js';
import { BoostTable } from '../services/control/boost.js';
import { CTRL_EPOCH_KEY, CTRL_NODE_PREFIX, epochOf } from '../services/control/layout.js';
import { ServedReceipts } from '../services/control/receipts.js';
import { sameOwner } from '../services/control/state.js';
import { DNS_QUERY_TYPES, DnsGateway } from '../services/naming/dns/gateway.js';
import { type DnsServer, DnsWorkerPool } from '../services/naming/dns/workers.js';
import { loadAllNames, nameChangesOf } from '../services/naming/feed.js';
import { NAME_REC_PREFIX } from '../services/naming/layout.js';
import { PUB_PREFIX, PUB_REC_PREFIX } from '../services/publish/layout.js';
import { SearchIndex } from '../services/search/index.js';
import { LocalStore } from '../services/storage/local.js';
import { StorageNet } from '../services/storage/network.js';
import { PROV_PREFIX } from '../services/storage/prov.js';
import { ShardStore } from '../services/storage/shards.js';
import { toHex } from '../util/bytes.js';
import { assert, VosError } from '../util/errors.js';
import { createLogger, type Logger } from '../util/logger.js';
import { createMetrics, type Metrics } from '../util/metrics.js';
import { APP_INST_PREFIX } from '../vm/state.js';
import { AppHost, countAppCalls, hostedOps } from './app-host.js';
import { commDirectory } from './comm-directory.js';
import { type HomePaths, homePaths, loadConfig, type NodeConfig, parseTrust } from './config.js';
import { LedgerConsensusApp } from './consensus-app.js';
import { NodeEvents } from './events.js';
import { HomeLock } from './home-lock.js';
import { OwnTxs } from './own-tx.js';
import { checkPortsFree, nodePorts, portErrorFrom } from './ports.js';
import { createRpcServer } from './rpc.js';
import { TxWaiters } from './tx-waiters.js';

export interface VosNodeOptions {
  home: string;
  config?: NodeConfig;
  genesis?: GenesisState;
  key?: PrivateKey;
  logger?: Logger;
  /** Consensus messages to peers; default: a libp2p host with the consensus reactor. Tests inject a LocalHub. */
  transport?: ConsensusTransport;
  /** Signature worker threads (default: one per core; 0 = verify on the main thread). */
  verifyWorkers?: number;
}

export class VosNode {
  readonly paths: HomePaths;
  readonly config: NodeConfig;
  readonly genesis: GenesisState;
  readonly key: PrivateKey;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly events = new NodeEvents();
  /** Callers of tx_sendCommit waiting for their tx, indexed by hash and fed once per block. */
  readonly txWaiters = new TxWaiters();
  db!: ClassicLevel<Uint8Array, Uint8Array>;
  tree!: StateTree;
  ledger!: Ledger;
  verifier!: VerifyPool;
  /** Commits (block sync pre-verifies them in the pool; applying the block then hits the cache). */
  commitVerifier!: CachingVerifier;
  mempool!: Mempool;
  wal!: Wal;
  guard!: SignerGuard;
  app!: LedgerConsensusApp;
  consensus!: ConsensusDriver;
  rpc!: RpcServer<VosApi>;
  /** The libp2p host and consensus reactor (absent when a transport was injected). */
  host: VosHost | undefined;
  reactor: ConsensusReactor | undefined;
  scorer: PeerScorer | undefined;
  sync: BlockSync | undefined;
  txGossip: TxGossip | undefined;
  rpcAddress!: { host: string; port: number };
  dns: DnsServer | undefined;
  storage!: LocalStore;
  /** Distributed storage: the prov/ view, the storage protocol, audits and repairs. */
  storageNet: StorageNet | undefined;
  shards: ShardStore | undefined;
  ownTxs!: OwnTxs;
  /** Served-bytes receipts: signed for peers that served this node, kept and submitted for its own serving. */
  receipts: ServedReceipts | undefined;
  /** Messages and streams between nodes (services/comm). */
  comm!: CommService;
  /** Apps this node hosts off chain, and calls to apps other nodes host (node/app-host.ts). */
  apps!: AppHost;
  /** Search boosts of owners above the control threshold (from committed ctrl/ state). */
  readonly boosts = new BoostTable();
  readonly search = new SearchIndex({ boost: this.boosts });
  #opened = false;
  #lock: HomeLock | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  readonly startedAt = Date.now();

  readonly #transport: ConsensusTransport | undefined;
  #quicKeeper: QuicKeeper | undefined;
  readonly #verifyWorkers: number | undefined;
  /** Addresses of the current and next validator sets (the relay serves them without limits). */
  #validators = new Set<string>();

  private constructor(
    o: Required<Omit<VosNodeOptions, 'logger' | 'transport' | 'verifyWorkers'>> &
      Pick<VosNodeOptions, 'transport' | 'verifyWorkers'> & { logger: Logger },
  ) {
    this.#transport = o.transport;
    this.#verifyWorkers = o.verifyWorkers;
    this.paths = homePaths(o.home);
    this.config = o.config;
    this.genesis = o.genesis;
    this.key = o.key;
    this.logger = o.logger;
    this.metrics = createMetrics();
  }

  /** Load config, genesis and key from the home directory (explicit options win). */
  static async create(o: VosNodeOptions): Promise<VosNode> {
    const config = o.config ?? (await loadConfig(o.home));
    const paths = homePaths(o.home);
    const genesis = o.genesis ?? (await loadGenesisFile(paths.genesis));
    const key = o.key ?? (await loadKey(paths.key));
    const logger = o.logger ?? createLogger({ level: config.log.level, format: config.log.format });
    return new VosNode({
      home: o.home,
      config,
      genesis,
      key,
      logger,
      transport: o.transport,
      verifyWorkers: o.verifyWorkers,
    });
  }

  async open(): Promise<void> {
    assert(!this.#opened, 'node already opened');
    this.#opened = true;
    // Cheap checks before any expensive work: one process per home, then the ports.
    this.#lock = HomeLock.acquire(this.paths.home);
    const ports = nodePorts(this.config, this.paths.home, { p2p: this.#transport === undefined });
    try {
      await checkPortsFree(ports);
      await this.#open();
    } catch (err) {
      // Close what was opened (database, workers, listeners), or the process would hang.
      this.#closing = this.#close();
      await this.#closing.catch(() => undefined);
      throw portErrorFrom(err, ports) ?? err;
    }
  }

  async #open(): Promise<void> {
    const log = this.logger;
    await mkdir(this.paths.data, { recursive: true });
    const chainDb = await openChainDb(this.paths.chainDb);
    this.db = chainDb.db;
    this.tree = chainDb.tree;
    const stateDb = chainDb.stateDb;
    this.verifier = new VerifyPool(this.#verifyWorkers, { logger: log.child({ module: 'verify' }) });
    this.commitVerifier = new CachingVerifier(this.verifier);
    this.ledger = await Ledger.open({
      db: this.db,
      state: this.tree,
      genesis: this.genesis,
      genesisHash: genesisHash(this.genesis),
      verifier: this.verifier,
      commitVerifier: this.commitVerifier,
      logger: log.child({ module: 'ledger' }),
      stateSublevel: stateDb,
      // Service state that must be enumerable (the DNS gateway loads every name at start).
      indexedPrefixes: [
        NAME_REC_PREFIX,
        PUB_PREFIX,
        PROV_PREFIX,
        CTRL_NODE_PREFIX,
        CTRL_EPOCH_KEY,
        APP_INST_PREFIX,
      ],
    });
    const trust = parseTrust(this.config.sync.trustHeight, this.config.sync.trustHash);
    if (trust !== undefined && this.ledger.head.height >= trust.height) {
      const stored = await this.ledger.store.getBlock(trust.height);
      // open() closes what was opened when this throws.
      if (stored === undefined || toHex(stored.hash()) !== toHex(trust.hash)) {
        throw new VosError(
          { code: 'TRUST_HASH_MISMATCH', height: trust.height },
          `the stored block ${trust.height} is ${stored === undefined ? 'missing' : toHex(stored.hash())}, ` +
            `not the trusted ${toHex(trust.hash)}: this node's data is of another chain ` +
            `(move ${this.paths.data} away to sync the trusted one)`,
        );
      }
    }
    this.storage = await LocalStore.open(this.paths.storage);
    this.mempool = new Mempool({
      chainId: this.genesis.chainId,
      minGasPrice: this.genesis.params.minGasPrice,
      maxBlockGas: this.genesis.params.maxBlockGas,
      accounts: this.ledger,
      verifier: this.verifier,
      limits: { ...this.config.mempool },
      logger: log.child({ module: 'mempool' }),
    });
    this.mempool.onAdded((tx) => {
      this.ledger.markVerified(tx);
      this.metrics.mempoolSize.set(this.mempool.size);
      this.consensus?.notifyTxs();
      this.events.emit('tx', tx);
    });
    this.wal = await Wal.open(this.paths.wal, { logger: log.child({ module: 'wal' }) });
    this.guard = await SignerGuard.open(this.paths.signerState);
    const schedule = await this.#loadSchedule();
    this.app = new LedgerConsensusApp(this.ledger, this.mempool, {
      maxBlockTxs: this.config.consensus.maxBlockTxs,
      maxBlockBuildMs: this.config.consensus.maxBlockBuildMs,
      verifier: this.commitVerifier,
      logger: log.child({ module: 'consensus' }),
      // Written with every block: the proposer priorities of the next height.
      commitOps: (height) => [this.ledger.store.proposerStateOp(schedule.snapshot(height + 1).serialize())],
    });
    if (trust !== undefined) {
      // Consensus decides only blocks valid here: none below the trusted height (block sync brings the
      // node there from peers that showed the trusted block), only the trusted one at it.
      const validate = this.app.validateBlock.bind(this.app);
      this.app.validateBlock = async (block) =>
        trustAllowsBlock(trust, this.ledger.head.height, block) && validate(block);
    }
    // The DNS gateway answers from committed names: all of them now, then what each block changes.
    const dnsOpts = {
      host: this.config.dns.host,
      port: this.config.dns.port,
      maxTtl: this.config.dns.maxTtl,
      udpPayload: this.config.dns.udpPayload,
      gracePeriod: this.ledger.params.naming.gracePeriod,
      logger: log.child({ module: 'dns' }),
    };
    this.dns =
      this.config.dns.workers > 0
        ? new DnsWorkerPool({ ...dnsOpts, workers: this.config.dns.workers })
        : new DnsGateway(dnsOpts);
    this.dns.load(await loadAllNames(this.ledger.store), this.ledger.head.height);
    const dns = this.dns;
    this.metrics.probe.dns = { stats: () => dns.stats, names: () => dns.size, queryTypes: DNS_QUERY_TYPES };
    this.app.onStateCommitted(({ block, execution }) => {
      dns.apply(nameChangesOf(execution.indexed), block.height);
      this.boosts.apply(execution.indexed);
      this.search.apply(execution.indexed);
      this.storageNet?.apply(execution.indexed, block.height);
      countAppCalls(this.metrics, block.txs, execution.receipts);
    });
    await this.boosts.load(this.ledger.store.indexed(CTRL_NODE_PREFIX));
    await this.boosts.load(this.ledger.store.indexed(CTRL_EPOCH_KEY));
    // The search index from committed state: names and published items.
    await this.search.load(this.ledger.store.indexed(NAME_REC_PREFIX));
    await this.search.load(this.ledger.store.indexed(PUB_REC_PREFIX));
    let lastBlockAt = 0;
    this.app.onCommitted(({ block, commit, execution }) => {
      if (execution.validatorChange !== null)
        schedule.applyChange(block.height + 2, execution.validatorChange);
      const now = Date.now();
      if (lastBlockAt !== 0) this.metrics.blockInterval.observe((now - lastBlockAt) / 1000);
      lastBlockAt = now;
      this.metrics.consensusHeight.set(block.height);
      this.metrics.blockTxs.set(block.txs.length);
      this.metrics.txsTotal.inc(block.txs.length);
      this.metrics.mempoolSize.set(this.mempool.size);
      this.txWaiters.onBlock(block, execution.receipts);
      log.info(
        {
          height: block.height,
          txs: block.txs.length,
          round: commit.round,
          hash: toHex(block.hash()).slice(0, 14),
        },
        'committed block',
      );
      this.events.emit('block', { block, receipts: execution.receipts });
      this.storageNet?.onBlock();
      this.#controlMetrics().catch(() => undefined);
      this.receipts?.onBlock().catch(() => undefined);
      this.#refreshValidators().catch(() => undefined);
    });
    await this.#refreshValidators();
    const budget = frameBudget(this.genesis.params);
    const c = this.config.consensus;
    let transport = this.#transport;
    if (transport === undefined) {
      const p = this.config.p2p;
      this.host = await createHost({
        key: this.key,
        chainId: this.genesis.chainId,
        listen: [
          ...(p.direct ? listenAddrs(p.host, p.port) : []),
          ...p.relays.map((r) => `${r}/p2p-circuit`),
        ],
        isBanned: (peer) => this.scorer?.isBanned(peer) ?? false,
        relayUnlimited: (peer) => this.#validators.has(addressOfPeer(peer) ?? ''),
      });
      this.#quicKeeper = new QuicKeeper(this.host);
      this.#quicKeeper.start();
      this.scorer = new PeerScorer({
        host: this.host,
        logger: log.child({ module: 'p2p' }),
        onPenalty: (protocol) => this.metrics.p2pPenalties.inc({ protocol: protocolLabel(protocol) }),
        onBan: () => this.metrics.p2pBans.inc(),
      });
      const host = this.host;
      this.metrics.probe.p2p = {
        connections: () => connectionKinds(host),
        peers: () => host.getPeers().length,
        syncing: () => this.sync?.syncing ?? false,
      };
      this.reactor = new ConsensusReactor({
        host: this.host,
        chainId: this.genesis.chainId,
        seeds: p.seeds,
        scorer: this.scorer,
        maxFrameBytes: budget.consensusFrame,
        logger: log.child({ module: 'p2p' }),
      });
      transport = this.reactor;
    }
    this.ownTxs = new OwnTxs({
      chainId: this.genesis.chainId,
      key: this.key,
      ledger: this.ledger,
      mempool: this.mempool,
      waiters: this.txWaiters,
      minGasPrice: this.genesis.params.minGasPrice,
    });
    const capacity = this.config.storage.providerCapacity;
    if (capacity > 0) this.shards = await ShardStore.open(join(this.paths.storage, 'shards'), capacity);
    const scorer = this.scorer;
    this.receipts = new ServedReceipts({
      chainId: this.genesis.chainId,
      key: this.key,
      epochLength: this.genesis.params.epochLength,
      maxReceiptBytes: this.genesis.params.control.maxReceiptBytes,
      admit: async (client) =>
        (await this.ledger.getAccount(client)).balance >= this.genesis.params.control.receiptMinBalance &&
        !(await sameOwner({ get: (k) => this.ledger.getState(k) }, client, this.key.address)),
      height: () => this.ledger.head.height,
      deliver: async (peer, r) => this.storageNet?.protocol?.sendReceipt(peer, r),
      submit: (payload) => this.ownTxs.send(payload),
      logger: log.child({ module: 'control' }),
    });
    const receipts = this.receipts;
    this.storageNet = new StorageNet({
      chainId: this.genesis.chainId,
      key: this.key,
      params: this.ledger.params.storage,
      host: this.host,
      shards: this.shards,
      capacity,
      content: this.storage,
      send: (payload, opts) => this.ownTxs.send(payload, opts),
      penalise: (peer, err) => scorer?.penalise(peer, err, 'storage'),
      quotaOf: async (owner) => (await quotasOf(this.#control, owner)).storage,
      served: (peer, bytes) => receipts.received(peer, bytes),
      receipt: (peer, epoch, bytes, sig) => receipts.accept(peer, epoch, bytes, sig),
      audited: (role, result) => this.metrics.storageAudits.inc({ role, result }),
      logger: log.child({ module: 'storage' }),
    });
    const shards = this.shards;
    const local = this.storage;
    this.metrics.probe.storage = {
      bytes: () => ({ local: local.usedBytes, held: shards?.usedBytes ?? 0 }),
    };
    await this.storageNet.load(this.ledger.store.indexed(PROV_PREFIX), this.ledger.head.height);
    const storageNet = this.storageNet;
    const m = this.metrics;
    this.comm = new CommService({
      chainId: this.genesis.chainId,
      key: this.key,
      host: this.host,
      dir: join(this.paths.data, 'comm'),
      directory: commDirectory({
        ledger: () => this.ledger,
        host: () => this.host,
        storageNet: () => this.storageNet,
        self: this.key.address,
      }),
      config: this.config.comm,
      content: this.storage,
      fetchContent: (cid) => storageNet.fetchContent(cid),
      announce: (cid) => storageNet.announce(cid),
      penalise: (peer, err) => scorer?.penalise(peer, err, 'comm'),
      quotaOf: async (address) => {
        const q = await quotasOf(this.#control, Address.fromString(address));
        return { messages: q.mailboxMessages, bytes: q.mailboxBytes };
      },
      metrics: {
        received: (via) => m.commMessages.inc({ direction: 'in', via }),
        sent: (via) => m.commMessages.inc({ direction: 'out', via }),
        rejected: (code) => m.commRejected.inc({ reason: code }),
        held: (n) => m.commMailboxHeld.set(n),
      },
      logger: log.child({ module: 'comm' }),
    });
    await this.comm.open();
    this.apps = new AppHost({
      comm: this.comm,
      getState: (key) => this.ledger.getState(key),
      head: () => ({ height: this.ledger.head.height, time: this.ledger.head.time }),
      appGasQuota: async (a) => (await quotasOf(this.#control, Address.fromString(a))).appGas,
      epoch: () => epochOf(this.ledger.head.height + 1, this.genesis.params.epochLength),
      dataDir: join(this.paths.data, 'apps'),
      timeoutMs: this.config.app.hostedTimeoutMs,
      hosted: hostedOps({
        storage: { store: this.storage, maxBytes: this.config.storage.maxBytes, net: this.storageNet },
        comm: this.comm,
        search: this.search,
      }),
      logger: log.child({ module: 'apps' }),
      onCall: (halt, gas) => {
        m.appCalls.inc({ where: 'hosted', halt });
        m.appGas.inc({ where: 'hosted' }, Number(gas));
      },
    });
    this.consensus = new ConsensusDriver({
      app: this.app,
      key: this.key,
      createEngine: () =>
        new TendermintEngine({
          proposer: (h, r) => schedule.proposerAt(h, r),
          config: {
            timeouts: {
              propose: c.timeoutProposeMs,
              proposeDelta: c.timeoutDeltaMs,
              prevote: c.timeoutPrevoteMs,
              prevoteDelta: c.timeoutDeltaMs,
              precommit: c.timeoutPrecommitMs,
              precommitDelta: c.timeoutDeltaMs,
            },
          },
        }),
      proposerOf: (_vals, h, r) => schedule.proposerAt(h, r),
      transport,
      wal: this.wal,
      guard: this.guard,
      config: { emptyBlockIntervalMs: c.emptyBlockIntervalMs, maxBufferedFutureMessages: 10_000 },
      logger: log.child({ module: 'consensus' }),
      metrics: { onCommit: () => {}, onRound: (_h, r) => this.metrics.consensusRound.set(r) },
    });
    this.metrics.consensusHeight.set(this.ledger.head.height);
    this.rpc = createRpcServer(this);
    this.rpcAddress = await this.rpc.listen();
    await this.dns.listen();
    await this.reactor?.start(this.consensus);
    if (this.host !== undefined) {
      this.txGossip = new TxGossip({
        host: this.host,
        chainId: this.genesis.chainId,
        mempool: this.mempool,
        scorer: this.scorer!,
        metrics: this.metrics,
      });
      await this.txGossip.start();
    }
    await this.storageNet.start();
    await this.comm.start();
    this.apps.start();
    for (const id of this.config.app.serve)
      await this.apps
        .serve(id)
        .catch((err) => log.warn({ err, app: id }, 'cannot serve an app of app.serve'));
    await this.consensus.start();
    if (this.host !== undefined) {
      const ledger = this.ledger;
      const scorer = this.scorer!;
      this.sync = new BlockSync({
        host: this.host,
        chainId: this.genesis.chainId,
        source: {
          headHeight: () => ledger.head.height,
          getBlockRange: (from, to) => ledger.store.getBlockRange(from, to),
        },
        apply: (block, commit) => this.consensus.applySyncedBlock(block, commit),
        preverify: (batch) => this.app.prewarmCommits(batch),
        onPeerFault: (peer, err) => scorer.penalise(peer, err, 'blocksync'),
        isBanned: (peer) => scorer.isBanned(peer),
        maxFrameBytes: budget.blocksyncFrame,
        trust,
        onApplied: () => this.metrics.blocksyncBlocks.inc(),
        logger: log.child({ module: 'sync' }),
      });
      await this.sync.start();
    }
    log.info(
      {
        chainId: this.genesis.chainId,
        height: this.ledger.head.height,
        address: this.key.address.toString(),
        rpc: this.rpcUrl,
      },
      'node started',
    );
    this.#started = true;
  }

  get rpcUrl(): string {
    return `http://${this.rpcAddress.host}:${this.rpcAddress.port}`;
  }

  /** The control module's view of the committed state (quotas of this node and of others). */
  get #control(): ControlApiDeps {
    return {
      get: (key) => this.ledger.getState(key),
      params: this.genesis.params,
      headHeight: () => this.ledger.head.height,
    };
  }

  async #controlMetrics(): Promise<void> {
    const me = await controlNode(this.#control, this.key.address.toString());
    this.metrics.controlThreshold.set(Number(me.threshold));
    this.metrics.controlQuotaBytes.set(me.quota);
    this.metrics.controlContribution.set(Number(me.contribution));
  }

  async #refreshValidators(): Promise<void> {
    const h = this.ledger.head.height;
    const sets = await Promise.all([this.ledger.validatorsAt(h + 1), this.ledger.validatorsAt(h + 2)]);
    this.#validators = new Set(sets.flat().map((v) => v.address.toString()));
  }

  /**
   * The proposer schedule from the set persisted with the head block (chain/store/layout.ts
   * m/proposers), else from genesis; then every stored validator-set change after it (v/).
   */
  async #loadSchedule(): Promise<ProposerSchedule> {
    const stored = await this.ledger.store.getProposerState();
    const next = this.ledger.head.height + 1;
    let schedule: ProposerSchedule;
    if (stored !== undefined) {
      const set = createValidatorSetFromRlp(stored);
      if (set.height !== next)
        throw new VosError(
          { code: 'STATE_MISMATCH' },
          `the stored proposer state is for height ${set.height}, the chain is at ${next}`,
        );
      schedule = ProposerSchedule.fromSet(set);
    } else {
      schedule = ProposerSchedule.fromGenesis(await this.ledger.validatorsAt(1));
    }
    for await (const [height, list] of this.ledger.store.validatorChanges()) {
      if (height > 1) schedule.applyChange(height, list);
    }
    return schedule;
  }

  async close(): Promise<void> {
    if (this.#closing === undefined) this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (!this.#opened) return;
    try {
      await this.#closeParts();
    } finally {
      this.#lock?.release();
    }
  }

  async #closeParts(): Promise<void> {
    await this.rpc?.close().catch(() => undefined);
    await this.dns?.close().catch(() => undefined);
    this.txWaiters.close(new RpcError(RpcCode.ServerError, 'the node is shutting down'));
    await this.sync?.stop();
    await this.txGossip?.stop();
    this.receipts?.stop();
    await this.storageNet?.stop();
    await this.apps?.close();
    await this.comm?.stop();
    await this.reactor?.stop();
    await this.consensus?.stop();
    this.#quicKeeper?.stop();
    await Promise.resolve(this.host?.stop()).catch(() => undefined);
    await this.wal?.close();
    await this.verifier?.close();
    await this.ledger?.store.settled();
    await this.tree?.close();
    await this.db?.close();
    await this.storage?.close();
    await this.comm?.close();
    if (this.#started) this.logger.info({}, 'node stopped');
  }
}

/** `/vos/<chain>/consensus/1` -> `consensus` (a bounded label set). */
function protocolLabel(protocol: string): string {
  const parts = protocol.split('/');
  return parts.length >= 4 ? parts[parts.length - 2] : protocol;
}
