/**
 * A tx's kind-specific part failed (insufficient balance, a name already taken, ...): its writes are
 * rolled back, it still pays its fee and bumps its nonce, and its receipt carries `code`. Service
 * modules throw it from their TxKindModule.execute.
 */
export class TxFailure extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'TxFailure';
  }
}
