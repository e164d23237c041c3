export * from './client.js';
export * from './errors.js';
export * from './params.js';
export * from './server.js';
