import { verifySignature } from '../keys.js';

export interface VerifyItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** Batch signature verification (the worker pool implements it; this is the in-thread fallback). */
export interface SignatureVerifier {
  verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]>;
}

export const inlineVerifier: SignatureVerifier = {
  async verifyBatch(items) {
    return items.map((i) => verifySignature(i.publicKey, i.message, i.signature));
  },
};
