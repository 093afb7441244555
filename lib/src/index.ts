export * from './protocol/index.js';
export * from './pilot/index.js';
