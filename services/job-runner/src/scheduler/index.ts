export * from './match.js';
export * from './zone.js';
export * from './state.js';
export * from './scheduler.js';
export * from './launcher.js';
export * from './launch-consumer.js';
