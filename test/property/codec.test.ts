/**
 * Canonical encoding properties for every consensus type: round-trip; trailing bytes rejected; a
 * leading-zero integer rejected; and canonical uniqueness: any byte string that decodes re-encodes to
 * exactly itself (so no two encodings of one value exist).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Address } from '../../chain/address.js';
import { Block, createBlockFromRlp, evidenceRootOf, lastCommitHashOf, txRootOf } from '../../chain/block.js';
import { encodeRlp } from '../../chain/codec.js';
import { Commit, CommitFlag, createCommitFromRlp } from '../../chain/commit.js';
import { createEvidenceFromRlp, DuplicateVoteEvidence } from '../../chain/evidence.js';
import { createHeaderFromRlp, Header } from '../../chain/header.js';
import { PrivateKey } from '../../chain/keys.js';
import { createProposalFromRlp, Proposal } from '../../chain/proposal.js';
import { createReceiptFromRlp, Receipt, ReceiptStatus } from '../../chain/receipt.js';
import { createTxFromRlp, Tx, TxKind } from '../../chain/tx/index.js';
import { createVoteFromRlp, Vote, VoteType } from '../../chain/vote.js';
import { concatBytes, equalBytes } from '../../util/bytes.js';
import { propertyParams } from '../fc-params.js';

const key = PrivateKey.fromSeed(new Uint8Array(32).fill(7));
const chainId = 'vos-test';
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const addr = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => new Address(b));
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const sig = fc.uint8Array({ minLength: 64, maxLength: 64 });

const txArb = fc
  .record({
    nonce: u64,
    kind: fc.constantFrom(TxKind.Transfer, TxKind.Stake, TxKind.Unstake),
    to: addr,
    amount: u256,
    gasLimit: u64,
    gasPrice: u256,
  })
  .map(({ nonce, kind, to, amount, gasLimit, gasPrice }) =>
    Tx.sign(
      {
        chainId,
        nonce,
        kind,
        payload: kind === TxKind.Transfer ? { kind, body: { to, amount } } : { kind, body: { amount } },
        gasLimit,
        gasPrice,
      },
      key,
    ),
  );

const voteArb = fc
  .record({
    type: fc.constantFrom(VoteType.Prevote, VoteType.Precommit),
    height: u53,
    round: fc.integer({ min: 0, max: 0xffffffff }),
    blockHash: fc.option(hash32, { nil: null }),
    time: u53,
    validator: addr,
    sig,
  })
  .map((v) => new Vote(v, v.sig));

const proposalArb = fc
  .record({
    height: u53,
    round: fc.integer({ min: 0, max: 1000 }),
    blockHash: hash32,
    time: u53,
    proposer: addr,
    sig,
  })
  .chain((p) =>
    fc.integer({ min: -1, max: p.round - 1 }).map((polRound) => new Proposal({ ...p, polRound }, p.sig)),
  );

const commitSigArb = fc.oneof(
  fc.constant({ flag: CommitFlag.Absent, time: 0, signature: new Uint8Array(0) }),
  fc.record({ flag: fc.constantFrom(CommitFlag.Commit, CommitFlag.Nil), time: u53, signature: sig }),
);
const commitArb = fc
  .record({
    height: u53,
    round: fc.integer({ min: 0, max: 1000 }),
    blockHash: hash32,
    sigs: fc.array(commitSigArb, { maxLength: 8 }),
  })
  .map((c) => new Commit(c.height, c.round, c.blockHash, c.sigs));

const headerArb = fc
  .record({
    height: u53,
    time: u53,
    prevHash: hash32,
    txRoot: hash32,
    stateRoot: hash32,
    validatorsHash: hash32,
    nextValidatorsHash: hash32,
    proposer: addr,
    lastCommitHash: hash32,
    evidenceRoot: hash32,
    receiptsRoot: hash32,
  })
  .map((h) => new Header({ chainId, ...h }));

const str = fc.string({ maxLength: 40 });
const receiptArb = fc
  .record({
    ok: fc.boolean(),
    gas: u64,
    error: str,
    events: fc.array(
      fc.record({
        type: str,
        attributes: fc.array(fc.tuple(str, fc.oneof(str, addr, u256, fc.uint8Array({ maxLength: 40 }))), {
          maxLength: 4,
        }),
      }),
      { maxLength: 4 },
    ),
  })
  .map((r) => new Receipt(r.ok ? 1 : 0, r.gas, r.error, r.events));

const evidenceArb = fc
  .tuple(voteArb, hash32, sig)
  .filter(([v]) => v.blockHash !== null)
  .map(([v, other, s]) => new DuplicateVoteEvidence(v, new Vote({ ...v, blockHash: other }, s)))
  .filter((e) => e.validateBasic() === null);

const blockArb = fc
  .record({
    header: headerArb,
    txs: fc.array(txArb, { maxLength: 4 }),
    commit: fc.option(commitArb, { nil: null }),
    ev: fc.array(evidenceArb, { maxLength: 2 }),
  })
  .map(({ header, txs, commit, ev }) => new Block(header, txs, commit, ev));

interface Codec<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode: (v: T) => Uint8Array;
  decode: (b: Uint8Array) => T;
}

const codecs: Codec<unknown>[] = [
  { name: 'tx', arb: txArb, encode: (t) => (t as Tx).serialize(), decode: createTxFromRlp },
  { name: 'vote', arb: voteArb, encode: (v) => (v as Vote).serialize(), decode: createVoteFromRlp },
  {
    name: 'proposal',
    arb: proposalArb,
    encode: (v) => (v as Proposal).serialize(),
    decode: createProposalFromRlp,
  },
  { name: 'commit', arb: commitArb, encode: (v) => (v as Commit).serialize(), decode: createCommitFromRlp },
  { name: 'header', arb: headerArb, encode: (v) => (v as Header).serialize(), decode: createHeaderFromRlp },
  {
    name: 'receipt',
    arb: receiptArb,
    encode: (v) => (v as Receipt).serialize(),
    decode: createReceiptFromRlp,
  },
  {
    name: 'evidence',
    arb: evidenceArb,
    encode: (v) => (v as DuplicateVoteEvidence).serialize(),
    decode: createEvidenceFromRlp,
  },
  { name: 'block', arb: blockArb, encode: (v) => (v as Block).serialize(), decode: createBlockFromRlp },
] as Codec<unknown>[];

function tryDecode<T>(c: Codec<T>, b: Uint8Array): T | undefined {
  try {
    return c.decode(b);
  } catch {
    return undefined;
  }
}

describe.each(codecs)('codec $name', (c) => {
  it('round-trips', () => {
    fc.assert(
      fc.property(c.arb, (v) => {
        const bytes = c.encode(v);
        const back = c.decode(bytes);
        expect(equalBytes(c.encode(back), bytes)).toBe(true);
      }),
      propertyParams(`${c.name} round-trip`, 100),
    );
  });

  it('rejects trailing bytes', () => {
    fc.assert(
      fc.property(c.arb, fc.uint8Array({ minLength: 1, maxLength: 8 }), (v, extra) => {
        expect(() => c.decode(concatBytes(c.encode(v), extra))).toThrow();
      }),
      propertyParams(`${c.name} trailing bytes`, 100),
    );
  });

  it('any accepted mutation re-encodes to itself (canonical uniqueness)', () => {
    fc.assert(
      fc.property(c.arb, fc.nat(), fc.integer({ min: 1, max: 255 }), (v, pos, xor) => {
        const bytes = Uint8Array.from(c.encode(v));
        bytes[pos % bytes.length] ^= xor;
        const back = tryDecode(c, bytes);
        if (back !== undefined) expect(equalBytes(c.encode(back), bytes)).toBe(true);
      }),
      propertyParams(`${c.name} canonical uniqueness`, 300),
    );
  });
});

describe('non-canonical integers', () => {
  it('a tx nonce with a leading zero byte is rejected', () => {
    fc.assert(
      fc.property(txArb, (t) => {
        const raw = t.raw();
        const nonceBytes = encodeRlp(t.nonce);
        void nonceBytes;
        raw[1] = concatBytes(new Uint8Array([0]), t.nonce === 0n ? new Uint8Array(0) : bigBytes(t.nonce));
        expect(() => createTxFromRlp(encodeRlp(raw))).toThrow(/leading zeros/);
      }),
      propertyParams('tx nonce leading zero', 100),
    );
  });
  it('a vote height with a leading zero byte is rejected', () => {
    fc.assert(
      fc.property(voteArb, (v) => {
        const raw = v.raw();
        raw[1] = concatBytes(new Uint8Array([0]), bigBytes(BigInt(v.height)));
        expect(() => createVoteFromRlp(encodeRlp(raw))).toThrow(/leading zeros/);
      }),
      propertyParams('vote height leading zero', 100),
    );
  });
});

function bigBytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

describe('block roots helpers', () => {
  it('are deterministic', () => {
    expect(equalBytes(txRootOf([]), txRootOf([]))).toBe(true);
    expect(equalBytes(evidenceRootOf([]), txRootOf([]))).toBe(true);
    expect(lastCommitHashOf(null).length).toBe(32);
  });
});

describe('UTF-8 string fields', () => {
  it('a leading BOM is part of the value: the bytes with and without it decode to different strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), u64, (text, gas) => {
        const plain = new Receipt(ReceiptStatus.Failed, gas, text, []);
        const withBom = new Receipt(ReceiptStatus.Failed, gas, `\uFEFF${text}`, []);
        const a = createReceiptFromRlp(plain.serialize());
        const b = createReceiptFromRlp(withBom.serialize());
        expect(b.error).toBe(`\uFEFF${text}`);
        expect(b.error).not.toBe(a.error);
        expect(equalBytes(b.serialize(), withBom.serialize())).toBe(true);
      }),
      propertyParams('receipt string with BOM', 100),
    );
  });

  it('a chain id with a BOM in front is not the chain id', () => {
    const t = Tx.sign(
      {
        chainId,
        nonce: 0n,
        kind: TxKind.Stake,
        payload: { kind: TxKind.Stake, body: { amount: 1n } },
        gasLimit: 1n,
        gasPrice: 1n,
      },
      key,
    );
    const raw = t.raw();
    raw[0] = concatBytes(Uint8Array.from([0xef, 0xbb, 0xbf]), Buffer.from(chainId));
    expect(() => createTxFromRlp(encodeRlp(raw))).toThrow(/chain id/);
  });
});
