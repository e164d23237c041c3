/**
 * This browser's account: an Ed25519 key made in the page on first use and kept in localStorage, and
 * the txs the page signs with it (the node never signs for the page). The tx bytes come from the
 * node's own code (chain/tx/tx.ts: fields, RLP, sign bytes, hash; chain/codec.ts for the payloads);
 * only the signing primitive differs: @noble/curves instead of node:crypto, which the page does not
 * have. test/unit/web/wallet.test.ts bundles this file for the browser and checks that its txs are
 * byte for byte the node's and verify as the node verifies.
 *
 * The app payloads are encoded here field by field as vm/state.ts encodes them (that module runs the
 * VM and cannot be bundled); the test compares both for every app kind.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { addressFromPublicKey } from '../../chain/address.js';
import { encodeRlp } from '../../chain/codec.js';
import { sha256 } from '../../chain/hash.js';
import { GAS } from '../../chain/ledger/gas.js';
import { MAX_TX_BYTES, Tx, type TxFields, txSignBytes } from '../../chain/tx/tx.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../util/bytes.js';
import type { Result } from './rpc.js';

/** The app tx kinds (vm/state.ts AppTxKind). */
export const APP_KIND = { deploy: 60, create: 61, call: 62 } as const;

/** Kind gas of the app kinds (vm/state.ts, consensus rules): what each asks beyond the intrinsic gas. */
const DEPLOY_GAS = 100_000n;
const DEPLOY_GAS_PER_BYTE = 400n;
const CREATE_GAS = 40_000n;
const CALL_BASE_GAS = 50_000n;
const CALL_INPUT_GAS_PER_BYTE = 10n;
/** The tx around a payload (chain id, nonce, key, gas fields, signature) fits in this many bytes. */
const TX_OVERHEAD_BYTES = 512;
/** The most code one deploy tx carries (the CLI's limit: cli/commands/app.ts). */
export const MAX_CODE_BYTES = MAX_TX_BYTES - TX_OVERHEAD_BYTES;

export interface WalletKey {
  readonly publicKey: Uint8Array;
  /** bech32m `vos1...` */
  readonly address: string;
  sign(message: Uint8Array): Uint8Array;
}

export function keyFromSeed(seed: Uint8Array): WalletKey {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const secret = Uint8Array.from(seed);
  const publicKey = ed25519.getPublicKey(secret);
  return {
    publicKey,
    address: addressFromPublicKey(publicKey).toString(),
    sign: (message) => ed25519.sign(message, secret),
  };
}

/** What the key is kept in (localStorage in the page). */
export interface KeyStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const WALLET_STORAGE_KEY = 'vos.wallet.v1';

interface StoredKey {
  seed: string;
  createdAt: number;
}

/** The stored key, or a new one (stored before it is returned). `created` tells which. */
export function browserKey(store: KeyStore = localStorage): { key: WalletKey; created: boolean } {
  const raw = store.getItem(WALLET_STORAGE_KEY);
  if (raw !== null) {
    try {
      const s = JSON.parse(raw) as StoredKey;
      return { key: keyFromSeed(fromHex(s.seed, 32)), created: false };
    } catch {
      throw new Error(
        `the key in this browser's storage (${WALLET_STORAGE_KEY}) is unreadable; remove it to make a new one`,
      );
    }
  }
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const stored: StoredKey = { seed: toHex(seed), createdAt: Date.now() };
  store.setItem(WALLET_STORAGE_KEY, JSON.stringify(stored));
  return { key: keyFromSeed(seed), created: true };
}

/** A tx before its nonce, gas price and signature: its kind, payload bytes and gas limit. */
export interface TxDraft {
  kind: number;
  payload: Uint8Array;
  gasLimit: bigint;
}

/** The gas limit of a payload: its kind's gas plus the intrinsic gas of a tx around it (the CLI's rule). */
function draft(kind: number, payload: Uint8Array, kindGas: bigint): TxDraft {
  return {
    kind,
    payload,
    gasLimit: kindGas + GAS.txBase + GAS.perTxByte * BigInt(payload.length + TX_OVERHEAD_BYTES),
  };
}

export interface AppCall {
  app: string;
  method: string;
  /** Integers (decimal strings), each taken as its u64 two's complement as the node does. */
  args: string[];
  gas: bigint;
  input: Uint8Array;
}

export const appTx = {
  deploy(code: Uint8Array): TxDraft {
    return draft(APP_KIND.deploy, encodeRlp([code]), DEPLOY_GAS + DEPLOY_GAS_PER_BYTE * BigInt(code.length));
  },
  create(codeHash: Uint8Array, hosted = false): TxDraft {
    return draft(APP_KIND.create, encodeRlp([codeHash, hosted ? 1 : 0]), CREATE_GAS);
  },
  call(c: AppCall): TxDraft {
    const args = c.args.map((a) => {
      if (!/^-?[0-9]{1,20}$/.test(a)) throw new Error(`argument ${JSON.stringify(a)} is not an integer`);
      return BigInt.asUintN(64, BigInt(a));
    });
    return draft(
      APP_KIND.call,
      encodeRlp([fromHex(c.app, 32), c.method, args, c.gas, c.input]),
      CALL_BASE_GAS + c.gas + CALL_INPUT_GAS_PER_BYTE * BigInt(c.input.length),
    );
  },
};

/** The code hash an app-deploy stores the code under. */
export const codeHashOf = (code: Uint8Array): Uint8Array => sha256(code);

/** The state key of deployed code (vm/state.ts codeKey). */
export const codeStateKey = (codeHash: Uint8Array): string => toHex(concatBytes(utf8('app/code/'), codeHash));

/** Sign a draft: the node's Tx with this key's signature over the node's sign bytes. */
export function signTx(
  key: WalletKey,
  d: TxDraft,
  o: { chainId: string; nonce: bigint; gasPrice: bigint },
): Tx {
  const fields: TxFields = {
    chainId: o.chainId,
    nonce: o.nonce,
    signer: key.publicKey,
    kind: d.kind,
    payload: d.payload,
    gasLimit: d.gasLimit,
    gasPrice: o.gasPrice,
  };
  return new Tx(fields, key.sign(txSignBytes(fields)));
}

/** Why the page could not send a tx, in words for the page; `code` is the stable one. */
export class WalletError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WalletError';
  }
}

/** The page's RPC client as this module uses it (web/src/rpc.ts Rpc). */
export interface WalletRpc {
  callRaw<T = unknown>(method: string, params?: unknown[] | Record<string, unknown>): Promise<T>;
}

export type Committed = Result<'tx_sendCommit'> & { fee: bigint };

export const fundHint = (address: string, amount = '1000000000') =>
  `vos tx transfer --to ${address} --amount ${amount}`;

function rpcErrorCode(err: unknown): string | undefined {
  const data = (err as { data?: { code?: unknown } } | null)?.data;
  return typeof data?.code === 'string' ? data.code : undefined;
}

/**
 * Sign and send a draft from this key, waiting for its commit (tx_sendCommit). Refuses before signing
 * when the balance cannot pay the most the tx may cost (gas limit x gas price), with the command
 * that funds the account; node refusals come back as WalletError with the node's code.
 */
export async function sendTx(rpc: WalletRpc, key: WalletKey, d: TxDraft): Promise<Committed> {
  const [params, acct] = await Promise.all([
    rpc.callRaw<{ chainId: string; minGasPrice: string }>('chain_getParams', []),
    rpc.callRaw<{ balance: string; nonce: string; pendingNonce?: string }>('chain_getAccount', [key.address]),
  ]);
  const gasPrice = BigInt(params.minGasPrice);
  const maxFee = d.gasLimit * gasPrice;
  const balance = BigInt(acct.balance);
  if (balance < maxFee)
    throw new WalletError(
      'UNFUNDED',
      `this browser's account has ${balance} and this tx may cost up to ${maxFee} (gas limit ${d.gasLimit} x gas price ${gasPrice}): fund it with \`${fundHint(key.address)}\``,
    );
  const tx = signTx(key, d, {
    chainId: params.chainId,
    nonce: BigInt(acct.pendingNonce ?? acct.nonce),
    gasPrice,
  });
  if (tx.size > MAX_TX_BYTES)
    throw new WalletError('TX_TOO_LARGE', `the tx is ${tx.size} bytes, at most ${MAX_TX_BYTES}`);
  let r: Result<'tx_sendCommit'>;
  try {
    r = await rpc.callRaw<Result<'tx_sendCommit'>>('tx_sendCommit', [toHex(tx.serialize())]);
  } catch (err) {
    const code = rpcErrorCode(err) ?? 'TX_REFUSED';
    const msg = (err as Error).message ?? String(err);
    if (code === 'TX_INSUFFICIENT_BALANCE')
      throw new WalletError(
        'UNFUNDED',
        `${msg}: fund this browser's account with \`${fundHint(key.address)}\``,
      );
    throw new WalletError(code, `the node refused the tx (${code}): ${msg}`);
  }
  return { ...r, fee: BigInt(r.receipt.gasUsed) * gasPrice };
}
