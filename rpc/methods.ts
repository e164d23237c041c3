/**
 * The VOS JSON-RPC method table (DESIGN.md "Fixed surface": names and result shapes never change, fields
 * may be added). Each method: summary, param schemas, result schema. The server checks params against
 * it, node/rpc.ts binds one handler per name (the server refuses to start on a missing or extra one),
 * the client's `call` is typed from it and `rpc.discover` is generated from it. A service adds a method
 * here (or in its own table merged below) and its handler in node/.
 */
import { MAX_TX_BYTES } from '../chain/tx/tx.js';
import { defineApi, method, optionalParam, param, type TopicPayload } from './api.js';
import { RpcCode } from './errors.js';
import { s } from './schema.js';

// ---- shared schemas ----

export const Hash = s.hex({ bytes: 32, description: '32-byte hash' });
export const Address = s.string({
  pattern: /^vos1[02-9ac-hj-np-z]{38}$/,
  expected: 'a vos1... address',
  description: 'bech32m address (prefix vos)',
});
const Amount = s.decimal();
const Uint = s.int();
const UnixMs = s.int({ description: 'Unix time in milliseconds' });
/** Heights as params: numbers, or decimal strings from clients that keep them as strings. */
const HeightParam = s.int({ fromString: true, description: 'block height' });
const PeerId = s.string({
  pattern: /^[1-9A-HJ-NP-Za-km-z]{40,100}$/,
  expected: 'a libp2p peer id (base58btc, 12D3KooW...)',
  description: 'libp2p peer id',
});

export const HeaderJSON = s.object(headerShape());
export const HeaderWithHash = s.object({ ...headerShape(), hash: Hash });

function headerShape() {
  return {
    chainId: s.string(),
    height: Uint,
    time: UnixMs,
    prevHash: Hash,
    txRoot: Hash,
    stateRoot: Hash,
    validatorsHash: Hash,
    nextValidatorsHash: Hash,
    proposer: Address,
    lastCommitHash: Hash,
    evidenceRoot: Hash,
    receiptsRoot: Hash,
  };
}

export const CommitJSON = s.object(
  {
    height: Uint,
    round: Uint,
    blockHash: Hash,
    signatures: s.array(
      s.object({
        flag: s.string({ enum: ['commit', 'nil', 'absent'] }),
        time: UnixMs,
        signature: s.nullable(s.hex({ bytes: 64 })),
      }),
      { description: 'one per validator of the height, in canonical (address) order' },
    ),
  },
  { description: 'precommits of > 2/3 of the voting power for blockHash' },
);

export const TxJSON = s.object({
  hash: Hash,
  chainId: s.string(),
  nonce: Amount,
  from: Address,
  signer: s.hex({ bytes: 32, description: 'Ed25519 public key' }),
  kind: s.string({ description: 'transfer, stake, unstake, or a service kind (name-commit, ...)' }),
  payload: s.dict(s.any(), {
    description:
      'by kind: transfer {to, amount}; stake, unstake {amount}; name kinds {name, ...} (services/naming/tx.ts)',
  }),
  gasLimit: Amount,
  gasPrice: Amount,
  signature: s.hex({ bytes: 64 }),
});

export const ReceiptJSON = s.object({
  status: s.string({ enum: ['ok', 'failed'] }),
  gasUsed: Amount,
  error: s.nullable(s.string({ description: 'stable error code of a failed tx' })),
  events: s.array(s.object({ type: s.string(), attributes: s.dict(s.string()) })),
});

const AppSummary = s.object({
  app: Hash,
  codeHash: Hash,
  owner: Address,
  createdAt: Uint,
  hosted: s.bool({ description: 'served off chain only (it imports an off-chain API)' }),
});

const AppInfo = s.object({
  app: Hash,
  codeHash: Hash,
  owner: Address,
  createdAt: Uint,
  hosted: s.bool(),
  account: Address,
  balance: Amount,
  methods: s.array(s.object({ name: s.string(), params: s.array(s.string({ enum: ['i32', 'i64'] })) })),
  stateBytes: Uint,
});

const AppCallShape = {
  height: s.optional(Uint),
  halt: s.string({ enum: ['ok', 'out_of_gas', 'stack_limit', 'abort', 'trap', 'timeout'] }),
  value: s.nullable(s.string({ description: "the method's return value (decimal)" })),
  gasUsed: Amount,
  output: s.hex(),
  outputText: s.nullable(s.string({ description: 'the output as UTF-8 text when it is valid UTF-8' })),
  events: s.array(s.object({ topic: s.string(), data: s.hex(), dataText: s.nullable(s.string()) })),
  logs: s.array(s.string()),
  message: s.optional(s.string()),
};

export const AppCallResult = s.object(AppCallShape);

const VoteJSON = s.object({
  type: s.string({ enum: ['prevote', 'precommit'] }),
  height: Uint,
  round: Uint,
  blockHash: s.nullable(Hash),
  time: UnixMs,
  validator: Address,
  signature: s.hex({ bytes: 64 }),
});

const EvidenceJSON = s.object({
  kind: s.string({ enum: ['duplicate-vote'] }),
  height: Uint,
  validator: Address,
  voteA: VoteJSON,
  voteB: VoteJSON,
});

export const BlockJSON = s.object({
  hash: Hash,
  header: HeaderJSON,
  txs: s.array(TxJSON),
  lastCommit: s.nullable(CommitJSON),
  evidence: s.array(EvidenceJSON),
});

export const ValidatorJSON = s.object({
  address: Address,
  publicKey: s.hex({ bytes: 32 }),
  power: Amount,
});

const ProofFields = {
  key: s.hex(),
  value: s.nullable(s.hex()),
  kind: s.literal(['present', 'absent-empty', 'absent-other-leaf']),
  siblings: s.array(Hash),
  otherKeyHash: s.optional(Hash),
  otherValueHash: s.optional(Hash),
  encoded: s.hex({ description: 'canonical RLP of the proof (chain/state/proof.ts decodeProof)' }),
};

const NewHead = s.object({ ...headerShape(), hash: Hash, txs: s.int({ description: 'txs in the block' }) });
const CommAttachment = s.object({
  cid: s.string({ description: 'CID of the encrypted object' }),
  key: s.hex({ bytes: 32 }),
  name: s.string(),
  mime: s.string(),
  size: Uint,
});
const CommEntry = s.object({
  id: s.hex({ bytes: 16 }),
  direction: s.literal(['in', 'out']),
  peer: Address,
  peerName: s.nullable(s.string()),
  kind: s.string(),
  text: s.string(),
  attachments: s.array(CommAttachment),
  seq: Uint,
  sentAt: UnixMs,
  at: UnixMs,
  expiresAt: UnixMs,
  status: s.string({ description: 'sending|held|delivered|failed' }),
  holders: s.optional(Uint),
  deliveredAt: s.optional(UnixMs),
  via: s.optional(s.string()),
});
const CommSendResult = s.object({
  id: s.hex({ bytes: 16 }),
  to: s.string(),
  address: Address,
  seq: Uint,
  status: s.literal(['delivered', 'held']),
  via: s.literal(['direct', 'mailbox']),
  holders: Uint,
});
const TxEvent = s.object({
  hash: Hash,
  height: Uint,
  index: Uint,
  from: Address,
  kind: s.string({ description: 'the tx kind (transfer, name-reveal, ...)' }),
  to: s.optional(Address),
  receipt: ReceiptJSON,
});
/** What a `names` event reports (rpc/topics.ts derives them from blocks). */
export const NAME_CHANGE_KINDS = [
  'register',
  'update',
  'renew',
  'transfer',
  'transfer-cancel',
  'release',
  'transfer-effective',
  'expire',
] as const;
/** A name change a block committed (rpc/topics.ts). */
const NameEvent = s.object({
  name: s.string(),
  owner: Address,
  height: Uint,
  kind: s.literal(NAME_CHANGE_KINDS, {
    description:
      'register, update, renew, transfer (started: to, effectiveAt), transfer-cancel, release: by the tx `tx`; transfer-effective (owner is the new one) and expire (no longer resolves; free after the grace period): at the first height they hold, tx null',
  }),
  tx: s.nullable(Hash),
  expires: Uint,
  to: s.optional(Address),
  effectiveAt: s.optional(Uint),
  previousOwner: s.optional(Address),
});
const TxsFilter = s.object(
  {
    account: s.optional(Address),
  },
  { description: 'txs: only those whose sender or transfer recipient is `account`' },
);
const NamesFilter = s.object(
  {
    account: s.optional(Address),
    name: s.optional(s.string({ maxLength: 253 })),
  },
  {
    description:
      'names: only changes of names `account` owns (before or after the change), or of one name (canonical form)',
  },
);
/** Cursor of chain_getAccountTxs: the position (height.index) of the last tx of a page. */
const AccountTxsCursor = s.string({
  pattern: /^(0|[1-9][0-9]{0,14})\.(0|[1-9][0-9]{0,9})$/,
  expected: 'a cursor of chain_getAccountTxs (height.index)',
});

/** Hex params up to 4x the max tx size reach the decoder, which names the size problem. */
const RawTx = s.hex({ maxBytes: 4 * MAX_TX_BYTES, description: 'signed tx: 0x-hex of its canonical RLP' });

const TX_ERRORS = [
  { code: RpcCode.TxRejected, message: 'tx refused (data.code: TX_NONCE_TOO_LOW, MEMPOOL_FULL, ...)' },
];
const ADMIN_ERRORS = [
  { code: RpcCode.Unauthorized, message: 'needs Authorization: Bearer <rpc.adminToken>' },
];
const NOT_FOUND = [{ code: RpcCode.NotFound, message: 'unknown height or state version' }];

const PeerInfo = s.object({
  id: PeerId,
  address: s.nullable(Address),
  score: s.int({ min: Number.MIN_SAFE_INTEGER, description: 'penalty score (0 = clean; banned at -30)' }),
  connections: s.array(
    s.object({
      transport: s.string({ enum: ['tcp', 'quic', 'relay'] }),
      remoteAddr: s.string(),
      direction: s.string({ enum: ['inbound', 'outbound'] }),
      openedAt: UnixMs,
    }),
  ),
});

const StateProof = s.object({
  height: Uint,
  stateRoot: Hash,
  header: HeaderWithHash,
  commit: CommitJSON,
  ...ProofFields,
});

const NameRecordsJSON = s.object({
  encryptionKey: s.nullable(s.hex({ bytes: 32, description: 'X25519 public key' })),
  endpoints: s.array(
    s.object({
      kind: s.string({ enum: ['ip4', 'ip6', 'multiaddr'] }),
      value: s.string(),
      weight: s.int({ max: 65_535, description: 'relative capacity (RFC 2782 weight)' }),
    }),
  ),
  txt: s.array(s.string()),
  tlsa: s.array(
    s.object({
      usage: s.int({ max: 255 }),
      selector: s.int({ max: 255 }),
      matchingType: s.int({ max: 255 }),
      data: s.hex(),
    }),
  ),
  content: s.nullable(s.string({ description: 'content pointer (CID)' })),
  app: s.nullable(s.string()),
  ttl: s.int({ description: 'seconds (0 = the gateway default)' }),
});

export const NameAnswer = s.object({
  name: s.string({ description: 'canonical (ASCII) form' }),
  display: s.string({ description: 'Unicode form' }),
  status: s.string({ enum: ['active', 'grace', 'free'] }),
  owner: s.nullable(Address),
  ownerKey: s.nullable(s.hex({ bytes: 32 })),
  records: s.nullable(NameRecordsJSON),
  registeredAt: s.nullable(Uint),
  expires: s.nullable(Uint),
  transfer: s.nullable(s.object({ to: Address, effectiveAt: Uint })),
  height: s.int({ description: 'the state height answered from' }),
  proof: s.optional(StateProof),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const vosMethods = {
  node_status: method({
    summary: 'Chain id, head, peers, sync state, this node as a validator',
    params: [],
    result: s.object({
      chainId: s.string(),
      height: Uint,
      latestBlockHash: Hash,
      latestBlockTime: s.string({ description: 'ISO 8601' }),
      latestStateRoot: Hash,
      peers: Uint,
      syncing: s.bool(),
      connections: s.object({ tcp: Uint, quic: Uint, relay: Uint }),
      listen: s.array(s.string(), { description: 'P2P multiaddrs' }),
      validator: s.nullable(s.object({ address: Address, power: Amount })),
      address: Address,
      moniker: s.string(),
      rpc: s.string(),
      dns: s.optional(s.int({ description: 'DNS gateway port; present only when the gateway listens' })),
      mempool: s.object({ size: Uint, bytes: Uint }),
      consensus: s.nullable(
        s.object({ height: Uint, round: s.int({ min: -1 }), step: s.string({ description: 'round step' }) }),
      ),
      uptimeSeconds: Uint,
    }),
  }),
  chain_getParams: method({
    summary: 'Chain parameters from genesis (gas price floor, block limits, epoch length, staking)',
    params: [],
    result: s.object({
      chainId: s.string(),
      minGasPrice: Amount,
      maxBlockGas: Amount,
      maxBlockBytes: Uint,
      epochLength: Uint,
      unbondingPeriod: Uint,
      minValidatorStake: Amount,
      maxValidators: Uint,
      slashFractionPpm: Uint,
      naming: s.object({
        commitMinAge: Uint,
        commitMaxAge: Uint,
        registrationPeriod: Uint,
        gracePeriod: Uint,
        transferLockup: Uint,
        pricesByLength: s.array(Amount, {
          description: 'price per period for length 3, 4, ...; the last for longer names',
        }),
        reserved: s.array(s.string()),
      }),
    }),
  }),
  chain_getBlock: method({
    summary: 'A block by height or hash: {hash, header, txs, lastCommit, evidence} (null when unknown)',
    params: [
      param('block', s.oneOf([HeightParam, Hash], { expected: 'a block height or a 32-byte 0x-hash' })),
    ],
    result: s.nullable(BlockJSON),
    resultName: 'block',
  }),
  chain_getHeader: method({
    summary: 'A block header with its hash (null when unknown)',
    params: [param('height', HeightParam)],
    result: s.nullable(HeaderWithHash),
    resultName: 'header',
  }),
  chain_getCommit: method({
    summary: 'The commit (> 2/3 precommits) of a height (null when unknown)',
    params: [param('height', HeightParam)],
    result: s.nullable(CommitJSON),
    resultName: 'commit',
  }),
  chain_getValidators: method({
    summary: 'The validator set that signs a height (default: the next height)',
    params: [optionalParam('height', HeightParam)],
    result: s.object({ height: Uint, totalPower: Amount, validators: s.array(ValidatorJSON) }),
  }),
  chain_getAccount: method({
    summary: 'Balance, nonce (committed and pending), stake of an address',
    params: [param('address', Address)],
    result: s.object({
      address: Address,
      balance: Amount,
      nonce: Amount,
      pendingNonce: Amount,
      stake: Amount,
      jailed: s.bool(),
    }),
  }),
  chain_getAccountTxs: method({
    summary:
      "An account's committed txs, newest first: those it sent and the transfers it received: {txs: [{hash, height, index, kind, status, role}], cursor}; cursor null on the last page",
    description:
      "Answered from the chain DB's account index (chain/store/layout.ts a/), written with each block. Page on with {before: cursor}.",
    params: [
      param('address', Address),
      optionalParam(
        'options',
        s.object({
          limit: s.optional(s.int({ min: 1, max: 100, description: 'default 20' })),
          before: s.optional(AccountTxsCursor),
        }),
      ),
    ],
    result: s.object({
      txs: s.array(
        s.object({
          hash: Hash,
          height: Uint,
          index: Uint,
          kind: s.string(),
          status: s.string({ enum: ['ok', 'failed'] }),
          role: s.literal(['sender', 'recipient', 'both']),
        }),
      ),
      cursor: s.nullable(AccountTxsCursor),
    }),
  }),
  state_getProof: method({
    summary:
      'Merkle proof (inclusion or non-inclusion) of a state key at a height, with the header whose stateRoot it is checked against and the commit that signs that header',
    description:
      'A light client checks verifyProof(header.stateRoot, key, proof), that the header hashes to commit.blockHash, and the commit against the validator set of the height (header.validatorsHash).',
    params: [
      param('key', s.hex({ maxBytes: 256 }), 'state key (e.g. acct/<address bytes>)'),
      optionalParam('height', HeightParam, 'default: the latest height'),
    ],
    result: s.object({
      height: Uint,
      stateRoot: Hash,
      header: HeaderWithHash,
      commit: CommitJSON,
      ...ProofFields,
    }),
    resultName: 'proof',
    errors: NOT_FOUND,
  }),
  name_resolve: method({
    summary: 'A name: owner, records, expiry; with {proof: true}, the state proof, header and commit',
    description:
      'The proof is of the key name/rec/<name> (inclusion, or absence for a never-registered name) at `height`; services/naming/light.ts verifies it as a light client against a trusted validator set.',
    params: [
      param(
        'name',
        s.string({ maxLength: 253 }),
        'a name (Unicode, upper case and a .vos suffix are normalized)',
      ),
      optionalParam('options', s.object({ proof: s.optional(s.bool()) })),
    ],
    result: NameAnswer,
    errors: [
      { code: RpcCode.InvalidParams, message: 'invalid name (data.code: NAME_LENGTH, ...)' },
      {
        code: RpcCode.NotFound,
        message: 'with proof: no committed block to prove against yet (data.code: UNKNOWN_HEIGHT)',
      },
    ],
  }),
  name_reverse: method({
    summary:
      'The name of an address, forward-confirmed (its owner is that address and it is active), or null',
    params: [param('address', Address)],
    result: s.nullable(s.object({ name: s.string(), display: s.string(), expires: Uint })),
  }),
  publish_get: method({
    summary: 'A publish record by id (0x + 64 hex) or by CID (its first publication); null when none',
    params: [param('idOrCid', s.string())],
    result: s.nullable(
      s.object({
        id: Hash,
        cid: s.string(),
        size: Uint,
        mime: s.string(),
        kind: s.string(),
        title: s.string(),
        description: s.string(),
        tags: s.array(s.string()),
        owner: Address,
        publishedAt: Uint,
        updatedAt: Uint,
      }),
    ),
    errors: [{ code: RpcCode.InvalidParams, message: 'neither an id nor a CID (data.code: INVALID_ID)' }],
  }),
  search_query: method({
    summary:
      "Full-text search of published items and names, answered from this node's index of the ledger: {results: [{id, cid, title, kind, owner, mime, score}], cursor}",
    params: [
      param(
        'query',
        s.object({
          q: s.string({
            description:
              'words (CJK text without spaces is found by any word it contains); empty with a kind, mime or owner filter: every match, newest first',
          }),
          kind: s.optional(s.string({ description: 'text|image|audio|video|executable|other|name' })),
          mime: s.optional(s.string()),
          owner: s.optional(Address),
          limit: s.optional(s.int({ min: 1, max: 100 })),
          cursor: s.optional(s.string({ description: 'the cursor of the previous page' })),
        }),
      ),
    ],
    result: s.object({
      results: s.array(
        s.object({
          id: s.string(),
          cid: s.nullable(s.string()),
          title: s.string(),
          kind: s.string(),
          owner: Address,
          mime: s.nullable(s.string()),
          score: s.any(),
        }),
      ),
      cursor: s.nullable(s.string()),
    }),
    errors: [
      {
        code: RpcCode.InvalidParams,
        message: 'empty query or a bad cursor (data.code: INVALID_QUERY, INVALID_CURSOR)',
      },
    ],
  }),
  storage_put: method({
    summary:
      'Store a small object (0x-hex bytes, within the body limit; POST /storage streams any size): locally and pinned, or with distributed: true encrypted and erasure-coded across providers: {id, cid, size}',
    params: [
      param(
        'object',
        s.object({
          data: s.hex({ description: 'the bytes' }),
          distributed: s.optional(s.bool()),
          k: s.optional(s.int({ description: 'data shards (distributed)' })),
          m: s.optional(s.int({ description: 'parity shards (distributed)' })),
        }),
      ),
    ],
    result: s.object({
      id: s.string(),
      cid: s.string(),
      size: Uint,
      k: s.optional(Uint),
      m: s.optional(Uint),
      height: s.optional(Uint),
    }),
    errors: [
      {
        code: RpcCode.LimitExceeded,
        message: 'over storage.maxBytes or the storage quota (data.code: QUOTA_EXCEEDED)',
      },
      { code: RpcCode.ServerError, message: 'too few providers (data.code: NOT_ENOUGH_PROVIDERS)' },
    ],
  }),
  storage_get: method({
    summary:
      "An object up to 1 MiB as 0x-hex: by CID from the local store, or by distributed object id (this node's own) from its shards (GET /storage/<id> streams any size)",
    params: [param('id', s.string({ description: 'CID or 0x object id' }))],
    result: s.object({ id: s.string(), cid: s.optional(s.string()), size: Uint, data: s.hex() }),
    errors: [
      { code: RpcCode.NotFound, message: 'not stored on this node (data.code: NOT_FOUND, OBJECT_NOT_FOUND)' },
      { code: RpcCode.LimitExceeded, message: 'over 1 MiB (data.code: TOO_LARGE)' },
    ],
  }),
  storage_stat: method({
    summary:
      'A local object: {id, cid, size, pinned, pinnedAt}; a distributed one: its placement {id, owner, k, m, size, shardSize, healthy, shards: [{index, cid, root, provider, status, since, provenEpoch}], distributed: true}',
    params: [param('id', s.string({ description: 'CID or 0x object id' }))],
    result: s.any({ description: 'see the summary' }),
    errors: [{ code: RpcCode.NotFound, message: 'not stored (data.code: NOT_FOUND, OBJECT_NOT_FOUND)' }],
  }),
  storage_delete: method({
    summary:
      "Delete one of this node's distributed objects (a storage-delete tx; providers drop the shards): {id, height}",
    params: [param('id', s.string({ description: '0x object id' }))],
    result: s.object({ id: s.string(), height: Uint }),
    errors: [{ code: RpcCode.NotFound, message: 'no such object (data.code: OBJECT_NOT_FOUND)' }],
  }),
  storage_usage: method({
    summary:
      "Bytes counted against an owner's storage quota (its distributed objects and what it published) and the quota: {address, used, quota}",
    params: [param('address', Address)],
    result: s.object({ address: Address, used: Uint, quota: Uint }),
  }),
  storage_providers: method({
    summary:
      'The registered storage providers: [{address, capacity, used, addrs, registeredAt, faults, proofs}]',
    params: [],
    result: s.array(
      s.object({
        address: Address,
        capacity: Uint,
        used: Uint,
        addrs: s.array(s.string()),
        registeredAt: Uint,
        faults: Uint,
        proofs: Uint,
      }),
    ),
  }),
  comm_send: method({
    summary:
      'Send a message to a node by name or address, sealed to its on-chain key and signed by this node: delivered directly (through a relay if needed), else held by the mailbox nodes closest to it: {id, to, address, seq, status: delivered|held, via: direct|mailbox, holders}',
    params: [
      param('to', s.string({ maxLength: 100, description: 'a registered name or a vos1... address' })),
      param('text', s.string({ maxLength: 32 * 1024 })),
      optionalParam(
        'options',
        s.object({
          ttlMs: s.optional(
            s.int({ min: 1, description: 'how long mailboxes hold it (default 3 days, max 7)' }),
          ),
          attachments: s.optional(
            s.array(
              s.object({
                cid: s.string({ description: "a CID in this node's store (POST /storage)" }),
                name: s.optional(s.string({ maxLength: 255 })),
                mime: s.optional(s.string({ maxLength: 127 })),
              }),
              { maxItems: 16 },
            ),
          ),
        }),
      ),
    ],
    result: CommSendResult,
    errors: [
      {
        code: RpcCode.InvalidParams,
        message:
          'unknown recipient, bad ttl or attachment (data.code: COMM_UNKNOWN_RECIPIENT, COMM_BAD_TTL, COMM_ATTACHMENT)',
      },
      {
        code: RpcCode.LimitExceeded,
        message: 'over the mailbox quota or the size limit (data.code: COMM_QUOTA, COMM_TOO_LARGE)',
      },
      { code: RpcCode.ServerError, message: 'refused by the recipient or unreachable (data.code: COMM_*)' },
    ],
  }),
  comm_subscribe: method({
    summary:
      "WebSocket only: subscribe to this node's messages and delivery receipts; returns the subscription id, then vos_subscription notifications carry {type: message, id, peer, peerName, text, attachments, seq, sentAt, ...} or {type: receipt, id, peer, peerName, deliveredAt}; end with vos_unsubscribe",
    params: [],
    result: s.string({ description: 'subscription id' }),
  }),
  comm_history: method({
    summary:
      'Messages sent and received by this node, newest first: [{id, direction: in|out, peer, peerName, text, attachments, seq, sentAt, at, status, deliveredAt?, via?}]',
    params: [
      optionalParam(
        'query',
        s.object({
          peer: s.optional(s.string({ maxLength: 100, description: 'one conversation: a name or address' })),
          limit: s.optional(s.int({ min: 1, max: 1000 })),
          before: s.optional(s.int({ description: 'entries with at < before (ms), for paging' })),
        }),
      ),
    ],
    result: s.array(CommEntry),
  }),
  comm_attachment: method({
    summary:
      "Decrypt an attachment of a message into this node's store (fetching its ciphertext from the nodes that provide it): {cid, size, name, mime}; then GET /storage/<cid>",
    params: [
      param('id', s.hex({ bytes: 16, description: 'message id' })),
      param('index', s.int({ max: 15 })),
    ],
    result: s.object({ cid: s.string(), size: Uint, name: s.string(), mime: s.string() }),
    errors: [{ code: RpcCode.InvalidParams, message: 'no such attachment (data.code: COMM_ATTACHMENT)' }],
  }),
  control_getParams: method({
    summary:
      'The control module: the threshold T of the last finished epoch, the formula params and when the next epoch ends. Contributions and thresholds are bytes as decimal strings',
    params: [],
    result: s.object({
      epoch: Uint,
      threshold: Amount,
      active: Uint,
      total: Amount,
      epochLength: Uint,
      nextEpochEnd: Uint,
      formula: s.object({
        contribution: s.string(),
        threshold: s.string(),
        quota: s.string(),
        boost: s.string(),
        votingPower: s.string(),
      }),
      params: s.object({
        minThreshold: Uint,
        maxThreshold: Uint,
        storageBase: Uint,
        storageKPpm: Uint,
        mailboxBaseMessages: Uint,
        mailboxMessagesKPpm: Uint,
        mailboxBaseBytes: Uint,
        mailboxBytesKPpm: Uint,
        appGasBase: Uint,
        appGasKPpm: Uint,
        receiptMinBalance: Amount,
        maxReceiptBytes: Uint,
      }),
    }),
  }),
  control_getNode: method({
    summary:
      "A node's standing in the last finished epoch: {contribution, quota (storage bytes), used, boost, threshold, epoch}, with the parts of its contribution, every quota and what it earned so far in the current epoch",
    params: [param('address', Address)],
    result: s.object({
      address: Address,
      epoch: Uint,
      contribution: Amount,
      threshold: Amount,
      quota: Uint,
      used: Uint,
      boost: s.number({ min: 0 }),
      parts: s.object({ storage: Amount, served: Amount, uptimePpm: Uint }),
      quotas: s.object({ storage: Uint, mailboxMessages: Uint, mailboxBytes: Uint, appGas: Uint }),
      pending: s.object({ epoch: Uint, storage: Amount, served: Amount }),
      owner: Address,
    }),
  }),
  app_query: method({
    summary:
      "Run an app method read-only against committed state (nothing is kept): {height, halt, value, gasUsed, output, outputText, events, logs, message?}. halt is ok, out_of_gas, stack_limit, abort (message: the app's) or trap",
    params: [
      param(
        'call',
        s.object({
          app: Hash,
          method: s.string({ maxLength: 64 }),
          args: s.optional(
            s.array(s.string({ pattern: /^-?[0-9]{1,20}$/, expected: 'an integer as a decimal string' }), {
              maxItems: 16,
              description: "integers by the method's params (i32 or i64)",
            }),
          ),
          input: s.optional(s.hex({ maxBytes: 16 * 1024, description: 'the input bytes the app reads' })),
          inputText: s.optional(s.string({ maxLength: 16 * 1024, description: 'the input as UTF-8 text' })),
          from: s.optional(Address),
          gas: s.optional(s.decimal({ description: "at most this node's query gas cap" })),
        }),
      ),
    ],
    result: AppCallResult,
    errors: [
      {
        code: RpcCode.InvalidParams,
        message:
          'the call was refused before it ran (data.code: APP_NOT_FOUND, APP_UNKNOWN_METHOD, APP_BAD_ARGS, APP_HOSTED_ONLY, APP_GAS_CAP)',
      },
    ],
  }),
  app_callHosted: method({
    summary:
      'Call an app that another node hosts off chain, over the comm protocol (the caller is this node; the gas is charged to its app gas quota there): the app_query answer plus {quotaUsed, quota}',
    params: [
      param(
        'call',
        s.object({
          via: s.string({ maxLength: 100, description: 'the hosting node: a VOS name or address' }),
          app: Hash,
          method: s.string({ maxLength: 64 }),
          args: s.optional(
            s.array(s.string({ pattern: /^-?[0-9]{1,20}$/, expected: 'an integer as a decimal string' }), {
              maxItems: 16,
            }),
          ),
          input: s.optional(s.hex({ maxBytes: 16 * 1024 })),
          inputText: s.optional(s.string({ maxLength: 16 * 1024 })),
          gas: s.optional(s.decimal({ description: 'the budget (default 10,000,000)' })),
        }),
      ),
    ],
    result: s.object({ ...AppCallShape, quotaUsed: s.optional(Amount), quota: s.optional(Amount) }),
    errors: [
      {
        code: RpcCode.InvalidParams,
        message:
          'refused by the host (data.code: APP_NOT_SERVED, APP_QUOTA, APP_NOT_FOUND, APP_UNKNOWN_METHOD, APP_BAD_ARGS, ...)',
      },
    ],
  }),
  app_hosted: method({
    summary: 'The app ids this node serves off chain',
    params: [],
    result: s.array(Hash),
  }),
  app_get: method({
    summary:
      'An app instance: {app, codeHash, owner, createdAt, hosted, account, balance, methods: [{name, params}], stateBytes}; null when none',
    params: [param('app', Hash)],
    result: s.nullable(AppInfo),
    resultName: 'app',
  }),
  app_list: method({
    summary: 'App instances, newest first: [{app, codeHash, owner, createdAt, hosted}]',
    params: [
      optionalParam(
        'query',
        s.object({
          owner: s.optional(Address),
          codeHash: s.optional(Hash),
          limit: s.optional(s.int({ min: 1, max: 1000 })),
        }),
      ),
    ],
    result: s.array(AppSummary),
  }),
  comm_info: method({
    summary:
      "This node's messaging identity: {address, name, encryptionKey (the X25519 key a name's encryption record should hold), mailbox: {held}}",
    params: [],
    result: s.object({
      address: Address,
      name: s.nullable(s.string()),
      encryptionKey: s.hex({ bytes: 32 }),
      mailbox: s.object({ held: Uint }),
    }),
  }),
  tx_send: method({
    summary: 'Submit a signed tx (0x-hex of its RLP); returns its hash once admitted to the mempool',
    params: [param('rawTx', RawTx)],
    result: s.object({ hash: Hash }),
    errors: TX_ERRORS,
  }),
  tx_sendCommit: method({
    summary: 'Submit a signed tx and wait until it is committed: {hash, height, index, receipt}',
    params: [param('rawTx', RawTx)],
    result: s.object({ hash: Hash, height: Uint, index: Uint, receipt: ReceiptJSON }),
    errors: [
      ...TX_ERRORS,
      { code: RpcCode.Timeout, message: 'not committed within 60 s (it may still be pending)' },
    ],
  }),
  tx_get: method({
    summary: 'A committed tx with its receipt: {hash, height, index, tx, receipt} (null when unknown)',
    description:
      'A tx still in the mempool is returned with pending: true and null height, index and receipt.',
    params: [param('hash', Hash)],
    result: s.nullable(
      s.object({
        hash: Hash,
        height: s.nullable(Uint),
        index: s.nullable(Uint),
        tx: TxJSON,
        receipt: s.nullable(ReceiptJSON),
        pending: s.optional(s.bool()),
      }),
    ),
    resultName: 'tx',
  }),
  admin_peers: method({
    summary: 'Connected peers with their connections and penalty score, and the banned peers',
    params: [],
    result: s.object({
      peers: s.array(PeerInfo),
      banned: s.array(s.object({ id: PeerId, until: UnixMs })),
    }),
    errors: ADMIN_ERRORS,
  }),
  admin_ban: method({
    summary: 'Disconnect a peer and refuse it for `seconds` (default 3600)',
    params: [param('peer', PeerId), optionalParam('seconds', s.int({ min: 1, max: 10 * 365 * 86_400 }))],
    result: s.object({ id: PeerId, until: UnixMs }),
    errors: ADMIN_ERRORS,
  }),
  admin_unban: method({
    summary: 'Lift a ban and reset the peer score (false when the peer was not banned)',
    params: [param('peer', PeerId)],
    result: s.object({ id: PeerId, wasBanned: s.bool() }),
    errors: ADMIN_ERRORS,
  }),
  admin_mempoolFlush: method({
    summary: 'Drop every tx waiting in the mempool',
    params: [],
    result: s.object({ removed: Uint }),
    errors: ADMIN_ERRORS,
  }),
  admin_appServe: method({
    summary:
      'Serve a hosted app instance (created with --hosted) from now on; add its id to app.serve in config.json to serve it after a restart',
    params: [param('app', Hash)],
    result: s.object({ app: Hash, stateBytes: Uint }),
    errors: ADMIN_ERRORS,
  }),
  admin_setLogLevel: method({
    summary: `Change the log level of the running node (${LOG_LEVELS.join(', ')})`,
    params: [param('level', s.literal(LOG_LEVELS))],
    result: s.object({ level: s.string(), previous: s.string() }),
    errors: ADMIN_ERRORS,
  }),
};

export const vosApi = defineApi({
  methods: vosMethods,
  topics: {
    /** Every committed block's header, with its hash and tx count. */
    newHeads: NewHead,
    /** Every committed tx with its receipt (filter {account}: its sender or transfer recipient). */
    txs: TxEvent,
    /** Name registrations, updates, renewals, transfers, releases and expiries, as blocks commit them. */
    names: NameEvent,
    /** This node's messages and delivery receipts (also comm_subscribe). */
    messages: s.any({
      description:
        'a comm event: {type: message, ...entry} or {type: receipt, id, peer, peerName, deliveredAt}',
    }),
  },
  filters: { txs: TxsFilter, names: NamesFilter },
});

export type VosApi = typeof vosApi;
export type NameEventJSON = TopicPayload<VosApi, 'names'>;
export type TxEventJSON = TopicPayload<VosApi, 'txs'>;
