export * from './kinds.js';
export * from './tx.js';
