/**
 * Public face of consensus/: the pure Tendermint engine, the validator set with proposer selection,
 * and the agreement checker used by the simulator and the conformance tests.
 * (The WAL and the signer guard live in wal.ts and signer-guard.ts.)
 */
export * from './engine/index.js';
export {
  centrePriorities,
  newValidatorPriority,
  normalisePriorities,
  PRIORITY_WINDOW_SIZE_FACTOR,
  proposerStep,
  rescalePriorities,
} from './proposer.js';
export {
  type AgreementViolation,
  checkAgreement,
  type DecisionLogs,
  type DecisionRecord,
} from './sim/agreement.js';
export {
  createValidatorSet,
  createValidatorSetFromRlp,
  type Validator,
  type ValidatorChange,
  ValidatorSet,
  ValidatorSetError,
  type ValidatorSetErrorCode,
} from './validator-set.js';
