/**
 * Limits of the communication service. The mailbox quota is a fixed base per sender and holder until
 * the control module sets quotas by contribution.
 */

/** Bytes of one envelope on the wire (header + sealed body). */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** Bytes of a message's text. */
export const MAX_TEXT_BYTES = 32 * 1024;
export const MAX_ATTACHMENTS = 16;
/** Message ids one receipt acknowledges. */
export const MAX_RECEIPT_IDS = 64;
export const MAX_NAME_BYTES = 63;
/** A message lives at most this long (mailbox holders drop it then; the recipient refuses it after). */
export const MAX_TTL_MS = 7 * 24 * 3600_000;
export const DEFAULT_TTL_MS = 3 * 24 * 3600_000;
/** A sender's clock may run this far ahead of the receiver's. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Mailbox holders per recipient (the k closest nodes in the DHT keyspace). */
export const MAILBOX_HOLDERS = 3;
/** What one holder keeps for one sender (the base quota). */
export const BASE_QUOTA_MESSAGES = 200;
export const BASE_QUOTA_BYTES = 4 * 1024 * 1024;
/** Envelopes one collect answer carries. */
export const MAX_COLLECT = 1000;
/** Frames of the comm protocol (an envelope plus its op). */
export const MAX_FRAME = MAX_ENVELOPE_BYTES + 1024;
/** Attachments above this are refused (they are read whole to encrypt). */
export const MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024;
