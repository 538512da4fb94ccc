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
export {
  LEEK_DEAD_LETTERS_INDEX,
  LEEK_DEAD_LETTERS_SPEC,
  LEEK_EVENTS_FIELDS,
  LEEK_EVENTS_HOT,
  LEEK_EVENTS_INDEX,
  LEEK_EVENTS_SPEC,
  LEEK_INDEX_SPECS,
  LEEK_SUMMARY_COUNTERS,
  LEEK_SUMMARY_DESCRIPTIVE,
  LEEK_SUMMARY_INDEX,
  LEEK_SUMMARY_SPEC,
  LEEK_SUMMARY_STATES,
  ensureLeekIndexes,
  leekDocumentMerge,
  leekSummaryMerge,
  mergeLeekDocument,
  mergeSummaryRow,
} from './indexes.js';
