/**
 * Key layout of the node's chain database (one classic-level DB, binary keys and values).
 * Everything a block changes is written in ONE batch: block, commit, receipts, tx index, validator
 * schedule, head pointer and the state-tree nodes (sublevel `s`, see chain/state/layout.ts).
 *
 *   m/head                 -> rlp([height, blockHash, time, stateRoot])   latest committed block
 *   m/genesis              -> genesis hash (a DB is bound to one genesis; mismatch = refuse to start)
 *   m/format               -> u32 DB_FORMAT of the code that created the DB (another = refuse to start)
 *   m/proposers            -> the validator set of head + 1 with its proposer priorities
 *                             (consensus/validator-set.ts serialize()), written with every block so a
 *                             start does not re-derive priorities from genesis
 *   b/<height:u64be>       -> block bytes
 *   c/<height:u64be>       -> commit bytes for that height (the seen commit; block h+1 carries it too)
 *   r/<height:u64be>       -> rlp([receipt bytes...]) in tx order
 *   h/<blockHash>          -> height (u64be)
 *   t/<txHash>             -> rlp([height, index])
 *   v/<height:u64be>       -> validator list effective from that height (written only when it changes)
 *   x/<state key>          -> value: an unauthenticated mirror of the state keys under the indexed
 *                             prefixes (Ledger indexedPrefixes), written in the block's batch
 *   a/<address 20><height u64be><index u32be>
 *                          -> txHash 32 || kind u16be || status u8 (1 ok) || role u8 (1 sender,
 *                             2 recipient, 3 both): the account index (account-index.ts), one entry
 *                             per tx under its sender and one under a transfer's recipient (at most
 *                             two per tx, ~70 bytes each); chain_getAccountTxs reads it newest first
 *   m/acct-index           -> 0x01 once the account index holds every stored block: written with
 *                             block 1, or by BlockStore.backfillAccountIndex for a DB older than it
 *   s/...                  -> state tree (sublevel)
 */
import { concatBytes, u64be, utf8 } from '../../util/bytes.js';

const p = (s: string) => utf8(s);

export const KEY_HEAD = p('m/head');
export const KEY_GENESIS = p('m/genesis');
export const KEY_FORMAT = p('m/format');
/**
 * The layout and encodings version of the chain DB and state. 2: issue 11 (receipt attributes,
 * unbonding entries, proposer state) and the naming service's genesis params.
 */
export const DB_FORMAT = 2;
export const KEY_PROPOSERS = p('m/proposers');
export const PREFIX_BLOCK = p('b/');
export const PREFIX_COMMIT = p('c/');
export const PREFIX_RECEIPTS = p('r/');
export const PREFIX_HASH = p('h/');
export const PREFIX_TX = p('t/');
export const PREFIX_VALIDATORS = p('v/');
export const PREFIX_INDEX = p('x/');
export const PREFIX_ACCOUNT_TX = p('a/');
export const KEY_ACCOUNT_INDEX = p('m/acct-index');
export const STATE_SUBLEVEL = 's';

export const blockKey = (h: number) => concatBytes(PREFIX_BLOCK, u64be(h));
export const commitKey = (h: number) => concatBytes(PREFIX_COMMIT, u64be(h));
export const receiptsKey = (h: number) => concatBytes(PREFIX_RECEIPTS, u64be(h));
export const hashKey = (hash: Uint8Array) => concatBytes(PREFIX_HASH, hash);
export const txKey = (hash: Uint8Array) => concatBytes(PREFIX_TX, hash);
export const validatorsKey = (h: number) => concatBytes(PREFIX_VALIDATORS, u64be(h));
export const indexKey = (stateKey: Uint8Array) => concatBytes(PREFIX_INDEX, stateKey);
