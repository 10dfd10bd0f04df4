export * from './errors.js';
export * from './exchange.js';
export * from './session.js';
export * from './segment.js';
export * from './sample.js';
export * from './run-result.js';
export * from './units.js';
export * from './error-kind.js';
