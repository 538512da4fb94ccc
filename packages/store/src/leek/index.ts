/** Leek (Celery task monitor) merges: register `taskMerge` and `workerMerge` with a store before writing tasks or workers. */
export {
  MAX_TASK_EVENTS,
  TASK_ERROR_FIELDS,
  TASK_EVENT_TIME_FIELDS,
  TASK_INPUT_FIELDS,
  TASK_MERGE_PAINLESS,
  TASK_STATE_FIELDS,
  TASK_TERMINAL_STATES,
  isStale,
  mergeTaskDocument,
  taskMerge,
} from './task-merge.js';
export { WORKER_EVENT_TIME_FIELDS, WORKER_MERGE_PAINLESS, WORKER_STATE_FIELDS, mergeWorkerDocument, workerMerge } from './worker-merge.js';
