/**
 * One validator in-process: produces blocks through the consensus engine with real signed commits,
 * serves JSON-RPC, refuses bad input with specific errors and no state change, and restarts cleanly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCommitFromRlp } from '../../chain/commit.js';
import { verifyCommit } from '../../chain/commit-verify.js';
import { PrivateKey } from '../../chain/keys.js';
import { accountKey } from '../../chain/ledger/accounts.js';
import { inlineVerifier } from '../../chain/ledger/verifier.js';
import { proofFromJSON, type StateProofJSON, verifyProof } from '../../chain/state/proof.js';
import { Tx, TxKind } from '../../chain/tx/index.js';
import { createValidatorSetFromRlp } from '../../consensus/validator-set.js';
import { createDevGenesis } from '../../genesis/genesis.js';
import { defaultConfig } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { RpcClient } from '../../rpc/client.js';
import { RpcCode, type RpcResponseError } from '../../rpc/errors.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { silentLogger } from '../../util/logger.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(11));
const alice = PrivateKey.fromSeed(new Uint8Array(32).fill(12));
const bob = PrivateKey.fromSeed(new Uint8Array(32).fill(13));
const genesis = createDevGenesis([validator], {
  chainId: 'vos-it',
  genesisTime: Date.now(),
  extraAccounts: [{ address: alice.address, balance: 1_000_000_000n }],
});
const config = defaultConfig({ rpcPort: 0 });
config.consensus.emptyBlockIntervalMs = 100;
config.consensus.timeoutProposeMs = 1000;

let home: string;
let node: VosNode;
let rpc: RpcClient;

async function startNode() {
  node = await VosNode.create({ home, config, genesis, key: validator, logger: silentLogger() });
  await node.open();
  rpc = new RpcClient(node.rpcUrl);
}

async function waitHeight(h: number) {
  for (let i = 0; i < 200; i++) {
    if (node.ledger.head.height >= h) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`height ${h} not reached`);
}

function transfer(
  from: PrivateKey,
  nonce: bigint,
  amount: bigint,
  o: { chainId?: string; gasPrice?: bigint } = {},
) {
  return Tx.sign(
    {
      chainId: o.chainId ?? 'vos-it',
      nonce,
      kind: TxKind.Transfer,
      payload: { kind: TxKind.Transfer, body: { to: bob.address, amount } },
      gasLimit: 100_000n,
      gasPrice: o.gasPrice ?? 1n,
    },
    from,
  );
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vos-node-'));
  await startNode();
});
afterAll(async () => {
  await node?.close();
  await rm(home, { recursive: true, force: true });
});

describe('single-validator node', () => {
  it('produces blocks with real signed commits and serves them over RPC', async () => {
    await waitHeight(3);
    const status = await rpc.call<{ chainId: string; height: number; validator: { address: string } }>(
      'node_status',
    );
    expect(status.chainId).toBe('vos-it');
    expect(status.validator.address).toBe(validator.address.toString());
    const block = await rpc.call<{ header: { height: number; time: number }; lastCommit: unknown }>(
      'chain_getBlock',
      [2],
    );
    expect(block.header.height).toBe(2);
    expect(block.lastCommit).not.toBeNull();
    const commit = createCommitFromRlp((await node.ledger.store.getCommit(2))!.serialize());
    const b2 = await node.ledger.store.getBlock(2);
    await expect(
      verifyCommit('vos-it', await node.ledger.validatorsAt(2), commit, 2, b2!.hash(), inlineVerifier),
    ).resolves.toBeUndefined();
    const header = await rpc.call<{ hash: string }>('chain_getHeader', [2]);
    expect(header.hash).toBe(toHex(b2!.hash()));
  });

  it('commits a transfer (tx_sendCommit) and finds it with tx_get; state proofs verify against the header', async () => {
    const tx = transfer(alice, 0n, 1234n);
    const r = await rpc.call<{ hash: string; height: number; receipt: { status: string } }>('tx_sendCommit', [
      toHex(tx.serialize()),
    ]);
    expect(r.receipt.status).toBe('ok');
    const got = await rpc.call<{ height: number; index: number; tx: { from: string } }>('tx_get', [r.hash]);
    expect(got.height).toBe(r.height);
    expect(got.tx.from).toBe(alice.address.toString());
    const acct = await rpc.call<{ balance: string; nonce: string }>('chain_getAccount', [
      bob.address.toString(),
    ]);
    expect(acct.balance).toBe('1234');
    const proof = await rpc.call<StateProofJSON & { stateRoot: string; height: number }>('state_getProof', [
      toHex(accountKey(bob.address)),
      r.height,
    ]);
    const header = await rpc.call<{ stateRoot: string }>('chain_getHeader', [r.height]);
    expect(proof.stateRoot).toBe(header.stateRoot);
    const v = verifyProof(fromHex(header.stateRoot), accountKey(bob.address), proofFromJSON(proof));
    expect(v.ok).toBe(true);
  });

  describe('bad input gets a specific error and changes nothing', () => {
    async function expectRejected(rawHex: string, code: string) {
      const before = { alice: await node.ledger.getAccount(alice.address), mempool: node.mempool.size };
      const err = (await rpc.call('tx_send', [rawHex]).catch((e) => e)) as RpcResponseError;
      expect(err.code).toBe(RpcCode.TxRejected);
      expect((err.data as { code: string }).code).toBe(code);
      expect(await node.ledger.getAccount(alice.address)).toEqual(before.alice);
      expect(node.mempool.size).toBe(before.mempool);
    }
    it('malformed RLP', async () => {
      await expectRejected('0xdeadbeef', 'TX_MALFORMED');
      const good = transfer(alice, 1n, 1n).serialize();
      await expectRejected(toHex(new Uint8Array([...good, 0])), 'TX_MALFORMED');
    });
    it('wrong chain id', () =>
      expectRejected(toHex(transfer(alice, 1n, 1n, { chainId: 'other' }).serialize()), 'TX_WRONG_CHAIN'));
    it('bad signature', async () => {
      const tx = transfer(alice, 1n, 1n);
      const sig = Uint8Array.from(tx.signature);
      sig[10] ^= 0x40;
      await expectRejected(toHex(new Tx(tx, sig).serialize()), 'TX_INVALID_SIGNATURE');
    });
    it('replayed nonce', () =>
      expectRejected(toHex(transfer(alice, 0n, 1234n).serialize()), 'TX_NONCE_TOO_LOW'));
    it('insufficient balance', () =>
      expectRejected(toHex(transfer(alice, 1n, 10_000_000_000n).serialize()), 'TX_INSUFFICIENT_BALANCE'));
    it('amount overflow', () =>
      expectRejected(toHex(transfer(alice, 1n, (1n << 256n) - 1n).serialize()), 'TX_AMOUNT_OVERFLOW'));
    it('oversize tx', () => expectRejected(toHex(new Uint8Array(70_000).fill(0xc0)), 'TX_TOO_LARGE'));
    it('invalid JSON-RPC', async () => {
      const res = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","method":',
      });
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(RpcCode.ParseError);
      const res2 = await fetch(node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"tx_send","params":[42]}',
      });
      expect(((await res2.json()) as { error: { code: number } }).error.code).toBe(RpcCode.InvalidParams);
    });
  });

  it('restart: same head and state root, keeps producing', async () => {
    await waitHeight(node.ledger.head.height + 1);
    await node.close();
    const head = node.ledger.head;
    await startNode();
    expect(node.ledger.head.height).toBe(head.height);
    expect(toHex(node.ledger.head.hash)).toBe(toHex(head.hash));
    expect(toHex(node.ledger.head.stateRoot)).toBe(toHex(head.stateRoot));
    // The proposer priorities of the next height were stored with the head block (no re-derivation).
    const proposers = createValidatorSetFromRlp((await node.ledger.store.getProposerState())!);
    expect(proposers.height).toBe(head.height + 1);
    await waitHeight(head.height + 2);
    const acct = await rpc.call<{ balance: string }>('chain_getAccount', [bob.address.toString()]);
    expect(acct.balance).toBe('1234');
  });

  it('serves /healthz and /metrics', async () => {
    const health = (await (await fetch(`${node.rpcUrl}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const metrics = await (await fetch(`${node.rpcUrl}/metrics`)).text();
    for (const name of [
      'vos_consensus_height',
      'vos_consensus_block_interval_seconds',
      'vos_mempool_size',
      'vos_txs_total',
      'vos_p2p_peers',
      'vos_p2p_connections',
      'vos_p2p_peer_bans_total',
      'vos_blocksync_syncing',
      'vos_blocksync_blocks_total',
    ]) {
      expect(metrics).toContain(name);
    }
  });
});
