export * from './descriptor.js';
export * from './responses.js';
export * from './queues.js';
export * from './records/user.js';
export * from './api/index.js';
export * from './leek/index.js';
