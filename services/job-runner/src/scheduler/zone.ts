/** Moved to @shallot/core/schedule (management answers next_runs with it); kept as this path for the scheduler. */
export * from '@shallot/core/schedule';
