/** Leek (Celery task monitor) merges: register `taskMerge` and `workerMerge` with a store before writing tasks or workers. */
export * from './task-merge.js';
export * from './worker-merge.js';
