/** Fixed limits of distributed storage (consensus: the placement and proof txs are checked against them). */

/** Most shards of one object (k + m); bounds the placement tx. */
export const MAX_SHARDS = 16;
/** An audit proves one segment of a shard: SEGMENT bytes (the last one may be shorter). */
export const SEGMENT = 1024;
/** Each shard holds one PIECE of every stripe of k pieces (the unit of RS coding and of transfer). */
export const PIECE = 256 * 1024;
/** Largest shard a placement may describe (2^40 bytes: 2^30 segments, a path of <= 30 hashes). */
export const MAX_SHARD_SIZE = 2 ** 40;
/** Most audit proofs in one tx. */
export const MAX_PROOFS_PER_TX = 24;
