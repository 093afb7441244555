export * from './auth/token-verifier.js';
export * from './proto/control-proto.js';
export * from './s2cs/control-server.js';
export * from './s2cs/port-pool.js';
export * from './s2ds/index.js';
export * from './s2uc/gateway.js';
export * from './s2uc/scistream-client.js';
export * from './tls/certificates.js';
