export * from './access.js';
export * from './api.js';
export * from './client.js';
export * from './errors.js';
export * from './limits.js';
export * from './methods.js';
export * from './schema.js';
export * from './server.js';
