/**
 * The validator set of a height with its proposer priorities: a canonical validator list (the one
 * model of it, chain/validators.ts: order, validation, encoding, hash) plus CometBFT priorities.
 *
 * - The engine identifies validators by their index in the canonical order.
 * - `hash()` is the list's hash (the header's validatorsHash); priorities are not part of it.
 * - Priorities: the set holds the priorities of `height` *before* the selection of round 0. The proposer
 *   of (height, r) is the validator chosen in selection step r + 1 from there (proposer.ts); the set of
 *   height + 1 is this one advanced by exactly one step, whatever round the height was decided in
 *   (CometBFT: NextValidators = Validators.IncrementProposerPriority(1)). So priorities are carried
 *   across heights by persisting the set (`serialize()` includes height and priorities: the node
 *   stores the set of the next height with every block) or re-deriving with `atHeight(h)`; rounds only
 *   advance a copy. Everything is deterministic in (stored set, height, round).
 * - `update(changes)` applies an epoch's power changes at the set's height: a power of 0 removes, a new
 *   validator starts at -1.125 * total, a changed one keeps its priority; then rescale and centre.
 */
import { type Address, addressFromPublicKey } from '../chain/address.js';
import { asBigint, asList, asNumber, CodecError, decodeRlp, encodeRlp } from '../chain/codec.js';
import { PUBLIC_KEY_LENGTH } from '../chain/keys.js';
import {
  compareValidators,
  hashCanonicalValidators,
  sortValidators,
  type ValidatorInfo,
  validatorListProblem,
  validatorsFromItem,
  validatorsRaw,
} from '../chain/validators.js';
import { toHex } from '../util/bytes.js';
import { VosError } from '../util/errors.js';
import type { WeightedValidators } from './engine/types.js';
import { newValidatorPriority, normalisePriorities, proposerStep, totalOf } from './proposer.js';

export type Validator = ValidatorInfo;

/** An epoch change: the validator with this key gets `power` (0 = leaves the set). */
export interface ValidatorChange {
  publicKey: Uint8Array;
  power: bigint;
}

export type ValidatorSetErrorCode =
  | 'EMPTY_VALIDATOR_SET'
  | 'DUPLICATE_VALIDATOR'
  | 'INVALID_VALIDATOR'
  | 'UNKNOWN_VALIDATOR'
  | 'INVALID_HEIGHT';

export class ValidatorSetError extends VosError<{ code: ValidatorSetErrorCode; detail?: string }> {
  constructor(code: ValidatorSetErrorCode, message: string) {
    super({ code, detail: message }, message);
    this.name = 'ValidatorSetError';
  }
}

export class ValidatorSet implements WeightedValidators {
  readonly validators: readonly Validator[];
  readonly totalPower: bigint;
  /** The height whose round-0 selection starts from `priorities`. */
  readonly height: number;
  readonly #priorities: readonly bigint[];
  readonly #index = new Map<string, number>();
  #hash: Uint8Array | undefined;
  /** Memo: priorities before round 0 of `height`, and proposers of rounds computed so far. */
  #memo: { height: number; base: bigint[]; rounds: number[]; after: bigint[] } | undefined;

  /** Use createValidatorSet / createValidatorSetFromRlp; this trusts its input to be canonical. */
  private constructor(validators: readonly Validator[], priorities: readonly bigint[], height: number) {
    this.validators = Object.freeze([...validators]);
    this.#priorities = Object.freeze([...priorities]);
    this.height = height;
    this.totalPower = totalOf(validators.map((v) => v.power));
    for (let i = 0; i < validators.length; i++) this.#index.set(validators[i].address.toHex(), i);
  }

  /** @internal */
  static fromCanonical(
    validators: readonly Validator[],
    priorities: readonly bigint[],
    height: number,
  ): ValidatorSet {
    return new ValidatorSet(validators, priorities, height);
  }

  get size(): number {
    return this.validators.length;
  }

  powerOf(index: number): bigint {
    return this.validators[index]?.power ?? 0n;
  }

  priorities(): readonly bigint[] {
    return this.#priorities;
  }

  indexOf(address: Address): number {
    return this.#index.get(address.toHex()) ?? -1;
  }

  getByAddress(address: Address): Validator | undefined {
    const i = this.indexOf(address);
    return i < 0 ? undefined : this.validators[i];
  }

  /** sha256(rlp([[address, publicKey, power], ...])): the header's validatorsHash (no priorities). */
  hash(): Uint8Array {
    this.#hash ??= hashCanonicalValidators(this.validators);
    return this.#hash;
  }

  /** Index of the proposer of (height, round); height >= this.height. */
  proposerAt(height: number, round: number): number {
    if (!Number.isSafeInteger(round) || round < 0)
      throw new ValidatorSetError('INVALID_HEIGHT', `bad round ${round}`);
    const memo = this.#memoAt(height);
    const powers = this.validators.map((v) => v.power);
    const addrs = this.validators.map((v) => v.address.bytes);
    // PERF: O(n) per round beyond the memo; rounds rarely exceed a handful.
    while (memo.rounds.length <= round) {
      const step = proposerStep(powers, addrs, memo.after);
      memo.rounds.push(step.proposer);
      memo.after = step.priorities;
    }
    return memo.rounds[round];
  }

  proposerAddressAt(height: number, round: number): Address {
    return this.validators[this.proposerAt(height, round)].address;
  }

  /** The same validators at a later height (priorities advanced one step per height). */
  atHeight(height: number): ValidatorSet {
    if (height === this.height) return this;
    return new ValidatorSet(this.validators, this.#memoAt(height).base, height);
  }

  /** The set of height + 1. */
  next(): ValidatorSet {
    return this.atHeight(this.height + 1);
  }

  /** Apply an epoch's changes at this set's height (see the file comment). */
  update(changes: readonly ValidatorChange[]): ValidatorSet {
    const byAddr = new Map<string, { v: Validator; priority: bigint | null }>();
    for (let i = 0; i < this.validators.length; i++) {
      const v = this.validators[i];
      byAddr.set(v.address.toHex(), { v, priority: this.#priorities[i] });
    }
    const seen = new Set<string>();
    for (const c of changes) {
      const address = addressFromPublicKey(c.publicKey);
      const key = address.toHex();
      if (seen.has(key)) throw new ValidatorSetError('DUPLICATE_VALIDATOR', `two changes for ${address}`);
      seen.add(key);
      if (c.publicKey.length !== PUBLIC_KEY_LENGTH || c.power < 0n) {
        throw new ValidatorSetError('INVALID_VALIDATOR', `invalid change for ${address}`);
      }
      const held = byAddr.get(key);
      if (c.power === 0n) {
        if (held === undefined)
          throw new ValidatorSetError('UNKNOWN_VALIDATOR', `cannot remove ${address}: not in the set`);
        byAddr.delete(key);
      } else if (held === undefined) {
        byAddr.set(key, { v: { address, publicKey: c.publicKey, power: c.power }, priority: null });
      } else {
        byAddr.set(key, { v: { ...held.v, power: c.power }, priority: held.priority });
      }
    }
    const entries = [...byAddr.values()].sort((a, b) => compareValidators(a.v, b.v));
    if (entries.length === 0)
      throw new ValidatorSetError('EMPTY_VALIDATOR_SET', 'update would empty the set');
    const problem = validatorListProblem(
      entries.map((e) => e.v),
      true,
    );
    if (problem !== null) throw new ValidatorSetError('INVALID_VALIDATOR', problem);
    const total = totalOf(entries.map((e) => e.v.power));
    const joining = newValidatorPriority(total);
    const priorities = normalisePriorities(
      entries.map((e) => e.priority ?? joining),
      total,
    );
    return new ValidatorSet(
      entries.map((e) => e.v),
      priorities,
      this.height,
    );
  }

  /** rlp([height, validator list (chain/validators.ts), [zigzag(priority)...]]): for persistence. */
  serialize(): Uint8Array {
    return encodeRlp([this.height, validatorsRaw(this.validators), this.#priorities.map(zigzag)]);
  }

  toJSON() {
    return {
      height: this.height,
      totalPower: this.totalPower.toString(),
      hash: toHex(this.hash()),
      validators: this.validators.map((v, i) => ({
        address: v.address.toString(),
        publicKey: toHex(v.publicKey),
        power: v.power.toString(),
        proposerPriority: this.#priorities[i].toString(),
      })),
    };
  }

  #memoAt(height: number) {
    if (!Number.isSafeInteger(height) || height < this.height) {
      throw new ValidatorSetError(
        'INVALID_HEIGHT',
        `height ${height} is before the set's height ${this.height}`,
      );
    }
    if (this.#memo === undefined || this.#memo.height > height) {
      this.#memo = {
        height: this.height,
        base: [...this.#priorities],
        rounds: [],
        after: [...this.#priorities],
      };
    }
    const powers = this.validators.map((v) => v.power);
    const addrs = this.validators.map((v) => v.address.bytes);
    let memo = this.#memo;
    while (memo.height < height) {
      const step = proposerStep(powers, addrs, memo.base);
      memo = { height: memo.height + 1, base: step.priorities, rounds: [], after: step.priorities };
    }
    this.#memo = memo;
    return memo;
  }
}

/** A set at `height` with fresh priorities (all 0), e.g. from genesis. */
export function createValidatorSet(validators: readonly Validator[], height: number): ValidatorSet {
  if (!Number.isSafeInteger(height) || height < 0)
    throw new ValidatorSetError('INVALID_HEIGHT', `bad height ${height}`);
  const sorted = sortValidators(validators);
  const problem = validatorListProblem(sorted, false);
  if (problem !== null)
    throw new ValidatorSetError(
      problem === 'no validators' ? 'EMPTY_VALIDATOR_SET' : 'INVALID_VALIDATOR',
      problem,
    );
  return ValidatorSet.fromCanonical(
    sorted,
    sorted.map(() => 0n),
    height,
  );
}

/** Decode `serialize()` output; rejects non-canonical order, duplicates and bad keys. */
export function createValidatorSetFromRlp(bytes: Uint8Array): ValidatorSet {
  const f = asList(decodeRlp(bytes, 'validatorSet'), 'validatorSet', 3);
  const h = asNumber(f[0], 'validatorSet.height');
  const validators = validatorsFromItem(f[1], 'validatorSet.validators');
  const raw = asList(f[2], 'validatorSet.priorities');
  if (raw.length !== validators.length)
    throw new CodecError('INVALID_FIELD', 'validatorSet.priorities', 'one priority per validator');
  const priorities = raw.map((p, i) => unzigzag(asBigint(p, `validatorSet.priorities[${i}]`)));
  return ValidatorSet.fromCanonical(validators, priorities, h);
}

/** Signed -> unsigned for RLP: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... */
function zigzag(n: bigint): bigint {
  return n >= 0n ? n * 2n : -n * 2n - 1n;
}

function unzigzag(n: bigint): bigint {
  return n % 2n === 0n ? n / 2n : -(n + 1n) / 2n;
}
