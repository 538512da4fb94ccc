/** Task-monitor (Leek) schemas: agent documents and their states. */
export * from './documents.js';
export * from './naming.js';
export * from './notifications.js';
export * from './applications.js';
export * from './applications-api.js';
export * from './events-api.js';
export * from './search-api.js';
export * from './control-api.js';
