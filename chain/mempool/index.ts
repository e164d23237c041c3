export * from './mempool.js';
export * from './verify-pool.js';
