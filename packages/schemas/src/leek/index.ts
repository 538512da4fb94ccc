/** Task-monitor (Leek) schemas: agent documents and their states. */
export * from './documents.js';
export * from './naming.js';
