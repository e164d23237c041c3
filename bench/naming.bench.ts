/**
 * Naming without DNS: `name_resolve` with proof per second over JSON-RPC on one in-process validator
 * holding VOS_BENCH_NAMES (default 2,000) registered names, beside `chain_getAccount` (a plain state
 * read over the same RPC) in the same run; light-client verifications of those answers per second
 * (node:crypto, and @noble/curves as a browser would), beside this machine's one-core Ed25519 verify
 * rate (a verification checks one commit: 1 signature here, one per validator in general).
 *
 * Names are registered by commit + reveal through `tx_sendCommit` in batches of 500 (100 names per
 * sender, within the mempool's per-sender limits); every receipt is checked. Progress goes to stderr.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEd25519Portable } from '../chain/ed25519-rule.js';
import { PrivateKey } from '../chain/keys.js';
import { inlineVerifier, type SignatureVerifier } from '../chain/ledger/verifier.js';
import { Tx, type TxPayload } from '../chain/tx/index.js';
import { LocalHub } from '../consensus/sim/local-hub.js';
import { createDevGenesis } from '../genesis/genesis.js';
import { defaultConfig } from '../node/config.js';
import { VosNode } from '../node/node.js';
import { RpcClient } from '../rpc/client.js';
import { RpcResponseError } from '../rpc/errors.js';
import { commitHash } from '../services/naming/layout.js';
import { type NameAnswerJSON, verifyNameAnswer } from '../services/naming/light.js';
import { namePayload } from '../services/naming/state.js';
import { toHex } from '../util/bytes.js';
import { silentLogger } from '../util/logger.js';
import { measureVerifyRates } from './verify.bench.js';

type Committed = { receipt: { status: string; error: string | null } };

const nobleVerifier: SignatureVerifier = {
  async verifyBatch(items) {
    return items.map((i) => verifyEd25519Portable(i.publicKey, i.message, i.signature));
  },
};

const progress = (msg: string) =>
  process.stderr.write(`[naming ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

async function rate(seconds: number, fn: () => Promise<unknown>, parallel = 16): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

export async function run() {
  const count = Number(process.env.VOS_BENCH_NAMES ?? 2000);
  if (!Number.isSafeInteger(count) || count < 8 || count > 1_000_000)
    throw new Error(`VOS_BENCH_NAMES must be an integer in 8..1000000, got ${process.env.VOS_BENCH_NAMES}`);
  const senders = Array.from({ length: Math.ceil(count / 100) }, (_, i) => {
    const seed = new Uint8Array(32).fill(7);
    new DataView(seed.buffer).setUint32(0, i);
    return PrivateKey.fromSeed(seed);
  });
  const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(200));
  const genesis = createDevGenesis([validator], {
    chainId: 'vos-bench-names',
    genesisTime: Date.now(),
    extraAccounts: senders.map((k) => ({ address: k.address, balance: 10n ** 18n })),
  });
  const config = defaultConfig({ rpcPort: 0 });
  // The default empty-block interval (1 s): blocks come at once while txs wait, so registering needs no
  // empty blocks, and the reads are measured without a solo validator making blocks flat out beside them.
  config.rpc.maxBatch = 1000;
  config.rpc.ratePerIp = 0;
  const home = await mkdtemp(join(tmpdir(), 'vos-bench-names-'));
  const node = await VosNode.create({
    home,
    config,
    genesis,
    key: validator,
    logger: silentLogger(),
    transport: new LocalHub().transportFor('v'),
  });
  progress('opening node');
  await node.open();
  progress(`node open at ${node.rpcUrl}`);
  try {
    const client = new RpcClient(node.rpcUrl, { timeoutMs: 120_000 });
    const names = Array.from({ length: count }, (_, i) => `bench-name-${i}`);
    const salts = names.map(() => randomBytes(32));
    const nonces = senders.map(() => 0n);
    const sign = (i: number, payload: TxPayload) => {
      const s = i % senders.length;
      return Tx.sign(
        { chainId: genesis.chainId, nonce: nonces[s]++, payload, gasLimit: 200_000n, gasPrice: 1n },
        senders[s],
      );
    };
    const sendAll = async (what: string, txs: Tx[]) => {
      for (let i = 0; i < txs.length; i += 500) {
        const answers = await client.batch(
          txs.slice(i, i + 500).map((t) => ({ method: 'tx_sendCommit', params: [toHex(t.serialize())] })),
        );
        const bad = answers.findIndex(
          (a) => a instanceof RpcResponseError || (a as Committed).receipt.status !== 'ok',
        );
        if (bad !== -1) {
          const a = answers[bad];
          const why = a instanceof RpcResponseError ? a.message : (a as Committed).receipt.error;
          throw new Error(`${what} tx ${i + bad} failed: ${why}`);
        }
        progress(
          `${what}: ${Math.min(txs.length, i + 500)} of ${txs.length} committed, head ${node.ledger.head.height}`,
        );
      }
    };
    const t0 = performance.now();
    // 100 names per sender: within the mempool's per-sender window.
    await sendAll(
      'commit',
      names.map((n, i) =>
        sign(i, namePayload.commit(commitHash(n, senders[i % senders.length].address, salts[i]))),
      ),
    );
    // Every commit is in a block by now: the reveals land at least commitMinAge (1) blocks later.
    await sendAll(
      'reveal',
      names.map((n, i) => sign(i, namePayload.reveal(n, salts[i]))),
    );
    const registerSeconds = (performance.now() - t0) / 1000;
    const check = await client.call<NameAnswerJSON>('name_resolve', [names[7]]);
    if (check.status !== 'active') throw new Error('names did not register');

    progress(
      `registered ${count} names in ${registerSeconds.toFixed(1)} s; measuring name_resolve with proof`,
    );
    let k = 0;
    const resolvePerSec = await rate(5, () =>
      client.call('name_resolve', [names[k++ % count], { proof: true }]),
    );
    progress('measuring chain_getAccount');
    const readPerSec = await rate(5, () =>
      client.call('chain_getAccount', [senders[k++ % senders.length].address.toString()]),
    );
    const answers = await Promise.all(
      names.slice(0, 200).map((n) => client.call<NameAnswerJSON>('name_resolve', [n, { proof: true }])),
    );
    const validators = await node.ledger.validatorsAt(node.ledger.head.height);
    const trust = { chainId: genesis.chainId, validators, naming: genesis.params.naming };
    const lightRate = async (verifier: SignatureVerifier, seconds: number) => {
      let i = 0;
      return rate(seconds, () => verifyNameAnswer(answers[i++ % answers.length], trust, verifier), 1);
    };
    progress('measuring light-client verification (node:crypto, @noble)');
    const lightNode = await lightRate(inlineVerifier, 3);
    const lightNoble = await lightRate(nobleVerifier, 3);
    progress('measuring the one-core Ed25519 verify rate');
    const verify = await measureVerifyRates(5000);
    // The @noble baseline: the light client's own portable verify, warm, over as long a run as the light
    // figure (measureVerifyRates' 300 cold @noble verifies read lower than a whole light-client check).
    const signed = Array.from({ length: 64 }, (_, i) => {
      const message = randomBytes(160);
      return {
        publicKey: senders[i % senders.length].publicKey,
        message,
        signature: senders[i % senders.length].sign(message),
      };
    });
    let j = 0;
    const nobleOne = await rate(
      3,
      async () => {
        const it = signed[j++ % signed.length];
        if (!verifyEd25519Portable(it.publicKey, it.message, it.signature))
          throw new Error('@noble verify failed');
      },
      1,
    );
    return {
      names: count,
      registerSeconds,
      nameResolveWithProofPerSec: Math.round(resolvePerSec),
      baselineGetAccountPerSec: Math.round(readPerSec),
      ratioResolveToGetAccount: resolvePerSec / readPerSec,
      lightClientVerifyPerSec: Math.round(lightNode),
      lightClientVerifyNoblePerSec: Math.round(lightNoble),
      baselineSingleCoreVerifyPerSec: verify.singleCoreVerifyPerSec,
      baselineNobleVerifyPerSec: Math.round(nobleOne),
      ratioLightToOneVerify: lightNode / verify.singleCoreVerifyPerSec,
      note: 'one validator: a light-client check verifies one commit signature plus the proof',
    };
  } finally {
    await node.close();
    await rm(home, { recursive: true, force: true });
  }
}
