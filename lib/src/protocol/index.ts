// Browser-safe: pure types and schemas only. The extension imports nothing else from the library.
export * from './states.js';
export * from './description.js';
export * from './validation.js';
export * from './records.js';
export * from './control.js';
export * from './kafka-lag.js';
export * from './units.js';
export * from './miniapps.js';
